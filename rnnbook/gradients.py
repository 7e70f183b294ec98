"""Measure how the gradient of a loss reaches back through time (taught in chapter 5).

``gradient_norms_over_lag`` unrolls any Keras recurrent cell (``SimpleRNNCell``, ``LSTMCell``,
``GRUCell`` or one of your own) step by step under a ``GradientTape`` and returns, for every lag
``t - k``, the norm of ``dL/ds_k``, where ``L`` is a fixed projection of the last hidden state.
Chapters 6, 7 and 9 reuse it.
"""

from __future__ import annotations

import numpy as np


def gradient_norms_over_lag(cell, inputs, initial_state=None, seed: int = 0) -> np.ndarray:
    """Norms of ``dL/ds_k`` for ``k = T-1, ..., 0``, indexed by lag ``t - k`` (0 = last step).

    ``inputs`` has shape ``(batch, time, features)``; the state ``s_k`` is the concatenation of the
    cell's states after step ``k`` (for an LSTM, ``h`` and ``c``). ``L = sum(s_T^h * r)`` with a
    fixed random vector ``r`` so that no direction is favoured. The norm is the mean over the batch
    of each sequence's gradient norm.
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(inputs, dtype=tf.float32)
    batch, steps = int(x.shape[0]), int(x.shape[1])
    if initial_state is None:
        sizes = cell.state_size
        if not isinstance(sizes, (list, tuple)):
            sizes = [sizes]
        state = [tf.zeros((batch, int(n))) for n in sizes]
    else:
        state = [tf.convert_to_tensor(s, tf.float32) for s in initial_state]
    if not cell.built:
        cell.build((batch, int(x.shape[2])))
    states = []
    with tf.GradientTape() as tape:
        for t in range(steps):
            tape.watch(state)
            out, state = cell(x[:, t], state)
            state = list(state) if isinstance(state, (list, tuple)) else [state]
            states.append(state)
        r = tf.random.stateless_normal((int(out.shape[-1]),), seed=(seed, 0))
        loss = tf.reduce_sum(out * r)
    grads = tape.gradient(loss, states)
    norms = []
    for g_k in grads:
        flat = tf.concat([tf.zeros((batch, 0)) if g is None else g for g in g_k], axis=-1)
        norms.append(float(tf.reduce_mean(tf.norm(flat, axis=-1))))
    return np.array(norms[::-1])


def scaled_orthogonal(units: int, scale: float, seed: int = 0) -> np.ndarray:
    """A random ``(units, units)`` matrix whose singular values all equal ``scale`` (taught in
    chapter 5).

    ``scale`` is then exactly the spectral norm ``beta_W = ||W||_2`` of the bound
    ``||delta_k|| <= ||delta_t|| (beta_W beta_phi)^(t-k)``: below 1 the bound forces the gradient
    to vanish; above 1 it allows it to explode. Chapters 6, 7 and 9 reuse it.
    """
    if units < 1:
        raise ValueError(f"units must be at least 1, got {units}")
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(units, units)))
    q = q * np.sign(np.diag(r))  # a uniformly random orthogonal matrix
    return (scale * q).astype("float32")
