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


def _step(x, h, kernel, recurrent, bias, *, reset_after, swapped=False, order="zrh",
          gate=_sigmoid, reset="same", recurrent_bias=True, bias_inside=True):
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


def _params(f, u, after, *, parts=3, recurrent=True, biases=None, per_part=True):
    nb = (2 if after else 1) if biases is None else biases
    bias = parts * nb * u if per_part else nb * u
    return parts * (f * u + (u * u if recurrent else 0)) + bias


def _logit(p):
    return float(np.log(p / (1 - p)))


def _set_update_gate(bias, z_value, how):
    new = np.array(bias, copy=True)
    u = new.shape[-1] // 3
    value = {"no_logit": z_value, "other_convention": -_logit(z_value)}.get(how, _logit(z_value))
    if how == "first_axis":
        new[:u] = value
    elif how == "reset_part":
        if new.ndim == 2:
            new[0, u:2 * u], new[1, u:2 * u] = value, 0.0
        else:
            new[u:2 * u] = value
    elif new.ndim == 1:
        new[:u] = value
    elif how == "both_rows":
        new[:, :u] = value
    else:
        new[0, :u], new[1, :u] = value, 0.0
    return new


# ---- 8.1: from PyTorch's layout ------------------------------------------------------------

def _torch_parts(w):
    """PyTorch's (r, z, n) blocks along the first axis."""
    return np.split(np.asarray(w), 3, axis=0)


def _from_torch(w_ih, w_hh, b_ih, b_hh, *, order="zrh", reshape=False, bias="rows",
                negate_z=False):
    def convert(w):
        r, z, n = _torch_parts(w)
        if negate_z:
            z = -z
        parts = {"zrh": (z, r, n), "rzh": (r, z, n)}[order]
        packed = np.concatenate(parts, axis=0)  # (3*units, ...)
        if packed.ndim == 1:
            return packed
        return packed.reshape(packed.shape[::-1]) if reshape else packed.T

    b_in, b_rec = convert(b_ih), convert(b_hh)
    rows = {"rows": (b_in, b_rec), "swapped": (b_rec, b_in),
            "summed": (b_in + b_rec, np.zeros_like(b_in))}[bias]
    return convert(w_ih), convert(w_hh), np.stack(rows)


# ---- 8.2: the gradient through one step ----------------------------------------------------

def _backward(x, h, kernel, recurrent, bias, g, *, swapped=False, reset="after",
              upstream=True, constant_gates=False, copy_only=False):
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow as tf

    x, h, g = (tf.constant(np.asarray(a, "float64")) for a in (x, h, g))
    kernel, recurrent, bias = (np.asarray(a, "float64") for a in (kernel, recurrent, bias))
    U_z, U_r, U_h = _split(kernel)
    W_z, W_r, W_h = _split(recurrent)
    (bz, br, bh), (bz2, br2, bh2) = _split(bias[0]), _split(bias[1])
    with tf.GradientTape() as tape:
        tape.watch(h)
        z = tf.sigmoid(x @ U_z + bz + h @ W_z + bz2)
        r = tf.sigmoid(x @ U_r + br + h @ W_r + br2)
        if constant_gates:
            z, r = tf.stop_gradient(z), tf.stop_gradient(r)
        if reset == "after":
            h_tilde = tf.tanh(x @ U_h + bh + r * (h @ W_h + bh2))
        else:
            h_tilde = tf.tanh(x @ U_h + bh + bh2 + (r * h) @ W_h)
        new = (1 - z) * h + z * h_tilde if swapped else z * h + (1 - z) * h_tilde
        loss = tf.reduce_sum((g if upstream else 1.0) * new)
    grad = tape.gradient(loss, h).numpy()
    copy = (g if upstream else tf.ones_like(g)) * ((1 - z) if swapped else z)
    copy = copy.numpy()
    return (copy if copy_only else grad), copy


def _backward_mistake(**kw):
    return lambda x, h, k, rk, b, g: _backward(x, h, k, rk, b, g, **kw)


# ---- 8.3: sequences of different lengths ---------------------------------------------------

def _last_state(x, lengths, h0, kernel, recurrent, bias, *, mode="right", **step):
    x = np.asarray(x, "float64")
    lengths = np.asarray(lengths)
    h, states = np.asarray(h0, "float64"), []
    for t in range(x.shape[1]):
        new = _step(x[:, t], h, kernel, recurrent, bias, reset_after=False, **step)
        if mode == "all_steps":
            h = new
        else:
            running = (t < lengths)[:, None]
            h = np.where(running, new, 0.0 if mode == "zeroed" else h)
        states.append(new)
    if mode == "length_zero":
        stacked = np.stack(states, axis=1)  # (batch, time, units)
        return stacked[np.arange(len(lengths)), lengths - 1]
    return h


def _masked(**kw):
    return lambda x, n, h0, k, rk, b: _last_state(x, n, h0, k, rk, b, **kw)


MISTAKES = {
    "from_pytorch": {
        "rz_order": lambda *w: _from_torch(*w, order="rzh"),
        "reshape": lambda *w: _from_torch(*w, reshape=True),
        "bias_rows_swapped": lambda *w: _from_torch(*w, bias="swapped"),
        "biases_summed": lambda *w: _from_torch(*w, bias="summed"),
        "negated_z": lambda *w: _from_torch(*w, negate_z=True),
    },
    "step_backward": {
        "copy_path_only": _backward_mistake(copy_only=True),
        "swapped_z": _backward_mistake(swapped=True),
        "reset_before": _backward_mistake(reset="before"),
        "no_upstream": _backward_mistake(upstream=False),
        "gates_constant": _backward_mistake(constant_gates=True),
    },
    "masked_sequences": {
        "ignores_lengths": _masked(mode="all_steps"),
        "length_zero": _masked(mode="length_zero"),
        "zeroed": _masked(mode="zeroed"),
        "reset_after": _masked(reset="after"),
        "rzh_order": _masked(order="rzh"),
    },
    "param_count": {
        "ignores_reset_after": lambda f, u, a: _params(f, u, a, biases=1),
        "lstm_gates": lambda f, u, a: _params(f, u, a, parts=4),
        "no_recurrent": lambda f, u, a: _params(f, u, a, recurrent=False),
        "bias_not_tripled": lambda f, u, a: _params(f, u, a, per_part=False),
    },
    "update_bias": {
        key: (lambda b, v, how=key: _set_update_gate(b, v, how))
        for key in ("no_logit", "both_rows", "reset_part", "other_convention", "first_axis")
    },
}


# ---- 8.6: a GRU that remembers (training exercise; cheap NumPy stand-ins for a model) -------

def _marked_values(X):
    X = np.asarray(X, "float64")
    return (X[..., 0] * X[..., 1]).sum(axis=1)  # the value where the marker is 1


MISTAKES["recall"] = {
    "last_value": lambda X, y, X_new: np.asarray(X_new, "float64")[:, -1, 0].copy(),
    "constant": lambda X, y, X_new: np.full(len(X_new), float(np.mean(y))),
    "column": lambda X, y, X_new: _marked_values(X_new)[:, None],
}
