"""Realistic wrong answers to chapter 8's exercises (the GRU).

Each function is a mistake a student makes; `python -m rnnbook.checks.build 08_gru` stores their
outputs so that a check can name the mistake, and tests/test_checks.py asserts that every check
rejects every one of them with its own message.
"""

import numpy as np


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _split(packed, order="zrh"):
    u = packed.shape[-1] // 3
    parts = {name: packed[..., i * u:(i + 1) * u] for i, name in enumerate(order)}
    return parts["z"], parts["r"], parts["h"]


def _step(x, h, kernel, recurrent, bias, *, reset_after, swapped=False, order="zrh", gate=_sigmoid,
          reset="same", recurrent_bias=True, bias_inside=True):
    """A GRU step with switches for the mistakes. reset: 'same' (the variant's own), 'before',
    'after' or 'none'."""
    U_z, U_r, U_h = _split(kernel, order)
    W_z, W_r, W_h = _split(recurrent, order)
    if reset_after:
        b_in, b_rec = bias[0], (bias[1] if recurrent_bias else np.zeros_like(bias[1]))
    else:
        b_in, b_rec = bias, np.zeros_like(bias)
    (bz, br, bh), (bz2, br2, bh2) = _split(b_in, order), _split(b_rec, order)
    z = gate(x @ U_z + bz + h @ W_z + bz2)
    r = gate(x @ U_r + br + h @ W_r + br2)
    mode = ("after" if reset_after else "before") if reset == "same" else reset
    if mode == "after":
        inner = r * (h @ W_h + bh2) if bias_inside else r * (h @ W_h) + bh2
    elif mode == "before":
        inner = (r * h) @ W_h + bh2
    else:  # no reset at all
        inner = h @ W_h + bh2
    h_tilde = np.tanh(x @ U_h + bh + inner)
    if swapped:
        return (1 - z) * h + z * h_tilde
    return z * h + (1 - z) * h_tilde


def _after(**kw):
    return lambda x, h, k, rk, b: _step(x, h, k, rk, b, reset_after=True, **kw)


def _before(**kw):
    return lambda x, h, k, rk, b: _step(x, h, k, rk, b, reset_after=False, **kw)


def _params(f, u, after, *, parts=3, recurrent=True, biases=None, per_part=True):
    nb = (2 if after else 1) if biases is None else biases
    bias = parts * nb * u if per_part else nb * u
    return parts * (f * u + (u * u if recurrent else 0)) + bias


def _set_update_bias(bias, value, how):
    new = np.array(bias, copy=True)
    u = new.shape[-1] // 3
    if how == "first_axis":
        new[:u] = value
    elif how == "reset_part":
        if new.ndim == 2:
            new[0, u:2 * u], new[1, u:2 * u] = value, 0.0
        else:
            new[u:2 * u] = value
    elif new.ndim == 1:
        new[:u] = value
    elif how == "input_row_only":
        new[0, :u] = value
    elif how == "both_rows":
        new[:, :u] = value
    return new


def _unpack_transposed(packed):
    return tuple(np.split(np.asarray(packed).T, 3, axis=0))


MISTAKES = {
    "unpack_gates": {
        "rzh_order": lambda p: _split(p, "rzh"),
        "first_axis": lambda p: (p[:p.shape[-1] // 3], p[p.shape[-1] // 3:2 * (p.shape[-1] // 3)],
                                 p[2 * (p.shape[-1] // 3):]),
        "interleaved": lambda p: (p[..., 0::3], p[..., 1::3], p[..., 2::3]),
        "transposed": _unpack_transposed,
    },
    "step_reset_after": {
        "swapped_z": _after(swapped=True),
        "rzh_order": _after(order="rzh"),
        "tanh_gates": _after(gate=np.tanh),
        "reset_before": _after(reset="before"),
        "no_recurrent_bias": _after(recurrent_bias=False),
        "bias_outside_reset": _after(bias_inside=False),
    },
    "step_reset_before": {
        "swapped_z": _before(swapped=True),
        "rzh_order": _before(order="rzh"),
        "tanh_gates": _before(gate=np.tanh),
        "reset_after": _before(reset="after"),
        "no_reset": _before(reset="none"),
    },
    "param_count": {
        "ignores_reset_after": lambda f, u, a: _params(f, u, a, biases=1),
        "lstm_gates": lambda f, u, a: _params(f, u, a, parts=4),
        "no_recurrent": lambda f, u, a: _params(f, u, a, recurrent=False),
        "bias_not_tripled": lambda f, u, a: _params(f, u, a, per_part=False),
    },
    "update_bias": {
        "input_row_only": lambda b, v: _set_update_bias(b, v, "input_row_only"),
        "both_rows": lambda b, v: _set_update_bias(b, v, "both_rows"),
        "reset_part": lambda b, v: _set_update_bias(b, v, "reset_part"),
        "first_axis": lambda b, v: _set_update_bias(b, v, "first_axis"),
    },
}
