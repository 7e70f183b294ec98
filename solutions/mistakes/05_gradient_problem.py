"""Realistic wrong answers to chapter 5's exercises (the gradient problem).

Each function is a mistake a student makes; `python -m rnnbook.checks.build` stores their outputs
so that a check can name the mistake, and tests/test_checks.py asserts that every check rejects
every one of them with its own message.
"""

import numpy as np


def _spectral(W):
    return np.linalg.norm(W, 2)


def _radius(W):
    return np.abs(np.linalg.eigvals(W)).max()


def _frobenius(W):
    return np.linalg.norm(W)


def _max_entry(W):
    return np.abs(W).max()


def _bound(norm_of_W, exponent_shift=0, use_beta_phi=True):
    def bound(W, beta_phi, delta_t_norm, lags):
        gamma = norm_of_W(W) * (beta_phi if use_beta_phi else 1.0)
        return delta_t_norm * gamma ** (lags + exponent_shift)
    return bound


# ---- gradient at a lag: backpropagation by hand, in NumPy ------------------------------------

def _states(x, s0, U, W, b):
    s, states = s0.astype("float64"), [s0.astype("float64")]
    for t in range(x.shape[1]):
        s = np.tanh(x[:, t] @ U + s @ W + b)
        states.append(s)
    return states  # s_0 ... s_T


def _deltas(x, s0, U, W, b, upstream=1.0):
    """dL/ds_k for k = 0..T with L = upstream * sum(s_T)."""
    states = _states(x, s0, U, W, b)
    T = x.shape[1]
    delta = np.full_like(states[-1], upstream)
    deltas = [None] * (T + 1)
    deltas[T] = delta
    for i in range(T, 0, -1):
        delta = (delta * (1 - states[i] ** 2)) @ W.T
        deltas[i - 1] = delta
    return deltas


def lag_off_by_one(x, s0, U, W, b, lag):
    T = x.shape[1]
    return np.linalg.norm(_deltas(x, s0, U, W, b)[T - max(int(lag) - 1, 0)], axis=-1)


def lag_from_start(x, s0, U, W, b, lag):
    return np.linalg.norm(_deltas(x, s0, U, W, b)[int(lag)], axis=-1)


def lag_whole_batch_norm(x, s0, U, W, b, lag):
    return np.linalg.norm(_deltas(x, s0, U, W, b)[x.shape[1] - int(lag)])


def lag_mean_loss(x, s0, U, W, b, lag):
    upstream = 1.0 / (s0.shape[0] * s0.shape[1])
    return np.linalg.norm(_deltas(x, s0, U, W, b, upstream)[x.shape[1] - int(lag)], axis=-1)


# ---- regime --------------------------------------------------------------------------------

def _regime(norm_of_W, use_beta_phi=True):
    def regime(Ws, beta_phi):
        gamma = np.array([norm_of_W(W) for W in Ws]) * (beta_phi if use_beta_phi else 1.0)
        return np.where(np.abs(gamma - 1) <= 1e-4, 0, np.where(gamma < 1, -1, 1))
    return regime


# ---- clipping ------------------------------------------------------------------------------

def clip_per_tensor(grads, max_norm):
    return [g * min(1.0, max_norm / max(np.linalg.norm(g), 1e-12)) for g in grads]


def clip_by_value(grads, max_norm):
    return [np.clip(g, -max_norm, max_norm) for g in grads]


def clip_always_rescale(grads, max_norm):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return [g * max_norm / max(norm, 1e-12) for g in grads]


def clip_sum_of_norms(grads, max_norm):
    norm = sum(np.linalg.norm(g) for g in grads)
    return [g * min(1.0, max_norm / max(norm, 1e-12)) for g in grads]


MISTAKES = {
    "bound": {
        "frobenius": _bound(_frobenius),
        "spectral_radius": _bound(_radius),
        "no_beta_phi": _bound(_spectral, use_beta_phi=False),
        "off_by_one": _bound(_spectral, exponent_shift=1),
        "max_entry": _bound(_max_entry),
    },
    "gradient_at_lag": {
        "off_by_one": lag_off_by_one,
        "from_start": lag_from_start,
        "whole_batch_norm": lag_whole_batch_norm,
        "mean_loss": lag_mean_loss,
    },
    "regime": {
        "spectral_radius": _regime(_radius),
        "frobenius": _regime(_frobenius),
        "no_beta_phi": _regime(_spectral, use_beta_phi=False),
        "no_tolerance": lambda Ws, beta_phi: np.sign(
            np.array([_spectral(W) for W in Ws]) * beta_phi - 1).astype("int64"),
    },
    "rescale": {
        "frobenius": lambda W, target: W * target / _frobenius(W),
        "spectral_radius": lambda W, target: W * target / _radius(W),
        "max_entry": lambda W, target: W * target / _max_entry(W),
    },
    "clip": {
        "per_tensor": clip_per_tensor,
        "by_value": clip_by_value,
        "always_rescale": clip_always_rescale,
        "sum_of_norms": clip_sum_of_norms,
    },
}
