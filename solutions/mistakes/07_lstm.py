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


def _top_k(z, k, renormalise=True, largest=True):
    """Softmax over the k largest (or smallest) entries of each row, zeros elsewhere."""
    order = np.argsort(z, axis=-1)
    kept = order[..., -k:] if largest else order[..., :k]
    mask = np.zeros(z.shape, bool)
    np.put_along_axis(mask, kept, True, axis=-1)
    if renormalise:
        return _softmax(np.where(mask, z, -np.inf))
    return np.where(mask, _softmax(z), 0.0)


def _gain(forget_net, how="right"):
    """The cell path's gain prod_{t=k+1}^{T-1} f_t, right or wrong in one way."""
    f = forget_net if how == "no_sigmoid" else _sigmoid(forget_net.astype("float64"))
    axis = -1 if how == "over_units" else 1
    if how == "from_the_start":
        return np.cumprod(f, axis=1)
    if how == "sum":
        total = np.flip(np.cumsum(np.flip(f, axis=1), axis=1), axis=1)
        return total - f  # sum of f_{k+1} ... f_{T-1}
    product = np.flip(np.cumprod(np.flip(f, axis=axis), axis=axis), axis=axis)  # f_k ... f_last
    if how == "includes_f_k":
        return product
    ones = np.ones_like(np.take(f, [0], axis=axis))
    gain = np.concatenate([np.delete(product, 0, axis=axis), ones], axis=axis)
    return np.flip(gain, axis=1) if how == "lag_order" else gain


def _classes_from(x_train, y_train):
    """The class that goes with each first symbol, read off the training set (a lookup)."""
    symbol = x_train[:, 0, :4].argmax(-1)
    return np.array([np.bincount(y_train[symbol == s], minlength=4).argmax() for s in range(4)])


def memory_probabilities(x_train, y_train, x_new):
    """Right, but returns one-hot class probabilities, (n, 4), not the classes."""
    classes = _classes_from(x_train, y_train)
    return np.eye(4)[classes[x_new[:, 0, :4].argmax(-1)]]


def memory_every_step(x_train, y_train, x_new):
    """A prediction at every step (return_sequences=True): (n, T)."""
    classes = _classes_from(x_train, y_train)
    pred = classes[x_new[:, 0, :4].argmax(-1)]
    return np.repeat(pred[:, None], x_new.shape[1], axis=1)


def memory_constant(x_train, y_train, x_new):
    """A model that has not learned: the most frequent training class for every sequence."""
    return np.full(len(x_new), np.bincount(y_train).argmax())


def memory_last_step(x_train, y_train, x_new):
    """A model that remembers only the last symbol it read (a distractor): chance level."""
    classes = _classes_from(x_train, y_train)
    return classes[x_new[:, -1, 4:].argmax(-1)]


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
    "cell_path": {key: (lambda a, how=key: _gain(a, how))
                  for key in ("includes_f_k", "from_the_start", "sum", "no_sigmoid",
                              "over_units", "lag_order")},
    "memory_span": {
        "ceil": lambda b, r: np.ceil(np.log(r) / np.log(_sigmoid(b))),
        "round": lambda b, r: np.round(np.log(r) / np.log(_sigmoid(b))),
        "no_sigmoid": lambda b, r: np.floor(np.log(r) / np.log(b)),
        "inverted": lambda b, r: np.floor(np.log(_sigmoid(b)) / np.log(r)),
    },
    "memory": {
        "probabilities": memory_probabilities,
        "every_step": memory_every_step,
        "constant": memory_constant,
        "chance": memory_last_step,
    },
    "sampling": {
        "times_T": lambda z, t, k: _top_k(z * t, k),
        "not_renormalised": lambda z, t, k: _top_k(z / t, k, renormalise=False),
        "smallest_k": lambda z, t, k: _top_k(z / t, k, largest=False),
        "no_temperature": lambda z, t, k: _top_k(z, k),
        "k_plus_one": lambda z, t, k: _top_k(z / t, k + 1),
    },
}
