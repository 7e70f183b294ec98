"""Realistic wrong answers to chapter 7's exercises (the LSTM).

Each function is a mistake a student makes; `python -m rnnbook.checks.build 07_lstm` stores their
outputs so that a check can name the mistake, and tests/test_checks.py asserts that every check
rejects every one of them with its own message.
"""

import numpy as np


def _blocks(packed):
    units = packed.shape[-1] // 4
    return [packed[..., k * units:(k + 1) * units] for k in range(4)]


def split_ifoc(packed):
    i, f, c, o = _blocks(packed)
    return i, f, o, c


def split_icfo(packed):
    i, f, c, o = _blocks(packed)
    return i, c, f, o


def split_interleaved(packed):
    units = packed.shape[-1] // 4
    r = packed.reshape(*packed.shape[:-1], units, 4)
    return tuple(r[..., k] for k in range(4))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _step(x, h, c, kernel, recurrent, bias, order="ifco", gate_act=None, forget="f",
          h_from_c=False):
    z = x @ kernel + h @ recurrent + bias
    blocks = dict(zip(order, _blocks(z)))
    i = (gate_act or _sigmoid)(blocks["i"])
    f = _sigmoid(blocks["f"])
    g = np.tanh(blocks["c"])
    o = _sigmoid(blocks["o"])
    keep = {"f": f, "none": 1.0, "1-f": 1 - f}[forget]
    c_new = keep * c + i * g
    h_new = o * (c_new if h_from_c else np.tanh(c_new))
    return h_new, c_new


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _logit(p):
    return np.log(p / (1 - p))


MISTAKES = {
    "split_gates": {
        "order_ifoc": split_ifoc,
        "order_icfo": split_icfo,
        "interleaved": split_interleaved,
    },
    "cell_step": {
        "order_ifoc": lambda *a: _step(*a, order="ifoc"),
        "tanh_gate": lambda *a: _step(*a, gate_act=np.tanh),
        "no_forget": lambda *a: _step(*a, forget="none"),
        "one_minus_f": lambda *a: _step(*a, forget="1-f"),
        "h_from_c": lambda *a: _step(*a, h_from_c=True),
    },
    "param_count": {
        "one_block": lambda f, u: u * (f + u) + u,
        "three_blocks": lambda f, u: 3 * (u * (f + u) + u),
        "no_bias": lambda f, u: 4 * u * (f + u),
        "no_recurrent": lambda f, u: 4 * (u * f + u),
    },
    "temperature": {
        "times_T": lambda z, t: _softmax(z * t),
        "not_normalised": lambda z, t: np.exp(z / t),
        "no_temperature": lambda z, t: _softmax(z),
        "wrong_axis": lambda z, t: _softmax(z / t, axis=0),
    },
    "forget_bias": {
        "no_logit": lambda s, p: p ** (1 / s),
        "no_root": lambda s, p: _logit(p),
        "log_not_logit": lambda s, p: np.log(p ** (1 / s)),
    },
}
