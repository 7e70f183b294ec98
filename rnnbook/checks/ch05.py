"""Exercises of chapter 5, the gradient problem (``solutions/05_gradient_problem.ipynb``)."""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise

CHAPTER = "05_gradient_problem"


def _orthogonal(rng, units):
    q, r = np.linalg.qr(rng.normal(size=(units, units)))
    return q * np.sign(np.diag(r))


def _non_normal(rng, units):
    """A matrix whose eigenvalues are all small but whose spectral norm is large."""
    upper = np.triu(rng.normal(scale=1.5, size=(units, units)), k=1)
    return 0.4 * np.eye(units) + upper


def _f32(*arrays):
    return tuple(np.asarray(a, "float32") for a in arrays)


def _with_norm(W, norm):
    """``W`` rescaled to the spectral norm ``norm``."""
    return W * (norm / np.linalg.norm(W, 2))


def _beta(rng):
    return float(rng.choice([0.25, 0.5, 0.7, 0.9]))


def _bound_cases(rng):
    lags = np.arange(0, 13, 3)
    low_rank = rng.normal(size=(4, 2)) @ rng.normal(size=(2, 4)) * 0.3
    return {
        "tanh_beta_phi_1": (*_f32(rng.normal(scale=0.4, size=(4, 4)), 1.0, rng.uniform(1, 3)),
                            lags),
        "non_symmetric": (*_f32(rng.normal(scale=0.4, size=(4, 4)), _beta(rng), 1.5), lags),
        "non_normal": (*_f32(_non_normal(rng, 3), _beta(rng), 1.0), lags),
        "sigmoid_beta_phi": (*_f32(_non_normal(rng, 5), 0.25, 0.7), lags),
        "one_unit": (*_f32([[rng.uniform(-2, 2)]], _beta(rng), 1.0), np.arange(4)),
        "lag_zero_only": (*_f32(rng.normal(size=(2, 2)), _beta(rng), 3.0), np.array([0])),
        "low_rank": (*_f32(low_rank, _beta(rng), 2.0), np.arange(0, 9, 2)),
        "random_lags": (*_f32(rng.normal(scale=0.5, size=(3, 3)), _beta(rng), rng.uniform(0.5, 2)),
                        np.sort(rng.integers(0, 20, size=6))),
    }


def _rnn(rng, batch, time, features, units, zero_state=False):
    x = rng.normal(size=(batch, time, features))
    s0 = np.zeros((batch, units)) if zero_state else rng.normal(scale=0.5, size=(batch, units))
    U = rng.normal(scale=0.6, size=(features, units))
    W = _orthogonal(rng, units) * 0.9
    b = rng.normal(scale=0.1, size=(units,))
    return _f32(x, s0, U, W, b)


def _lag_cases(rng):
    return {
        "batch_of_1": (*_rnn(rng, 1, 6, 2, 3), np.int64(2)),
        "lag_zero": (*_rnn(rng, 3, 5, 2, 4), np.int64(0)),
        "lag_reaches_s0": (*_rnn(rng, 2, 4, 3, 3, zero_state=True), np.int64(4)),
        "one_time_step": (*_rnn(rng, 2, 1, 2, 5), np.int64(1)),
        "longer": (*_rnn(rng, 4, 12, 2, 6), np.int64(7)),
    }


def _regime_cases(rng):
    def stack(beta, gammas, edge):
        """Matrices whose spectral norm times ``beta`` is each of ``gammas``, then one just
        inside the 1e-4 edge (``edge``), one with beta < gamma < 1 (it vanishes, though its
        norm alone exceeds 1) and a non-normal one (eigenvalues far below its norm) at 1.5."""
        gammas = list(gammas) + [edge] + ([(1 + beta) / 2] if beta < 1 else [])
        Ws = [_orthogonal(rng, 3) * g / beta for g in gammas]
        Ws.append(_with_norm(_non_normal(rng, 3), 1.5 / beta))
        return np.stack(Ws).astype("float64"), np.float64(beta)

    # (no product of exactly 1: round-off decides on which side of 1 it falls, so a mistake
    # such as np.sign(gamma - 1) would give different answers on different machines there)
    return {
        "three_regimes": stack(1.0, [0.5, 1 + 3e-5, 1.5], 1 + 5e-5),
        "sigmoid_beta_phi": stack(0.25, [0.5, 1 - 3e-5, 2.0], 1 - 5e-5),
        "at_the_edge": stack(_beta(rng), [1 + 2e-4, 1 - 2e-4, 1 + 1e-5], 1 + 9e-5),
        "near_the_edge": stack(_beta(rng), [1 - 8e-5, 1 + 3e-4, 1 - 3e-4], 1 - 9e-5),
        "few_matrices": stack(_beta(rng), [], 1 + 5e-5),
        "mostly_vanishing": stack(_beta(rng), [0.2, 0.9, 0.999], 1 - 2e-5),
    }


def _rescale_cases(rng):
    return {
        "non_symmetric": (*_f32(rng.normal(size=(4, 4)), rng.uniform(0.5, 2)),),
        "non_normal": (*_f32(_non_normal(rng, 3), 0.9),),
        "one_unit": (*_f32([[rng.uniform(-3, -1)]], 1.25),),
        "already_at_target": (*_f32(_with_norm(_non_normal(rng, 3), 1.1), 1.1),),
        "large_matrix": (*_f32(rng.normal(scale=0.2, size=(16, 16)), 0.5),),
    }


def _clip_cases(rng):
    def grads(*shapes, scale=1.0):
        return tuple(rng.normal(scale=scale, size=s).astype("float32") for s in shapes)

    def below(*shapes):
        """Global norm below max_norm, but the sum of the tensors' norms above it."""
        gs = grads(*shapes)
        norms = [np.linalg.norm(g) for g in gs]
        max_norm = (np.sqrt(np.sum(np.square(norms))) + np.sum(norms)) / 2
        return (*gs, np.float32(max_norm))

    return {
        "three_tensors_large": (*grads((3, 4), (4, 4), (4,), scale=2.0), np.float32(1.0)),
        "two_tensors_large": (*grads((5, 2), (2,), scale=3.0), np.float32(2.0)),
        "unequal_tensors": (*grads((6, 6), scale=10.0), *grads((2,), scale=0.01), np.float32(0.5)),
        "one_tensor_large": (*grads((5,), scale=3.0), np.float32(2.0)),
        "below_threshold": below((2, 3), (3,)),
        "below_four_tensors": below((2, 2), (2,), (3, 2), (2,)),
        "below_two_tensors": below((4, 4), (4,)),
        "below_three_tensors": below((3, 3), (3,), (2,)),
        "four_tensors_large": (*grads((2, 2), (2,), (3, 2), (2,), scale=4.0), np.float32(1.5)),
        "zero_gradients": (np.zeros((2, 2), "float32"), np.zeros((2,), "float32"),
                           np.float32(rng.uniform(0.5, 2))),
    }


def _call_clip(fn, args):
    return fn(list(args[:-1]), float(args[-1]))


EXERCISES = [
    Exercise(
        "bound", target="gradient_bound", cases=_bound_cases, points=2,
        args=("W", "beta_phi", "delta_t_norm", "lags"),
        what="the bound ||delta_t|| (beta_W beta_phi)^lag for each lag",
        mistakes={
            "frobenius": "you used the Frobenius norm of W (np.linalg.norm(W)); beta_W is the "
                         "spectral norm, the largest singular value: np.linalg.norm(W, 2).",
            "spectral_radius": "you used the largest |eigenvalue| of W; for a matrix that is not "
                               "symmetric it can be far smaller than the spectral norm "
                               "np.linalg.norm(W, 2), which is what bounds ||v W||.",
            "no_beta_phi": "your bound ignores beta_phi (the bound on |phi'|): each step back "
                           "multiplies by beta_W * beta_phi.",
            "off_by_one": "your exponent is one too large: at lag 0 the bound is ||delta_t|| "
                          "itself.",
            "max_entry": "you used the largest |entry| of W; beta_W is the spectral norm "
                         "np.linalg.norm(W, 2).",
        },
    ),
    Exercise(
        "gradient_at_lag", target="gradient_at_lag", cases=_lag_cases, rtol=1e-3, atol=1e-5,
        points=3, args=("x", "s0", "U", "W", "b", "lag"),
        what="||dL/ds_(T-lag)|| for each sequence, shape (batch,)",
        mistakes={
            "off_by_one": "your gradient is one step too recent: lag 0 is s_T, the last state, "
                          "and lag T is the initial state s_0.",
            "from_start": "you counted the lag from the start of the sequence (s_lag); the lag "
                          "counts back from the end: k = T - lag.",
            "whole_batch_norm": "you returned one norm for the whole batch; return the norm of "
                                "each sequence's gradient, shape (batch,) (norm over axis -1).",
            "mean_loss": "your loss is the mean of s_T; use L = the sum of s_T over the batch "
                         "and the units (tf.reduce_sum), so each sequence gets its own gradient.",
        },
    ),
    Exercise(
        "regime", target="gradient_regime", cases=_regime_cases, points=2,
        args=("Ws", "beta_phi"),
        what="-1 (must vanish), 0 (at the edge) or +1 (may explode) for each matrix",
        mistakes={
            "spectral_radius": "you compared the largest |eigenvalue| with 1; the bound uses the "
                               "spectral norm np.linalg.norm(W, 2), which can exceed 1 when all "
                               "eigenvalues are small.",
            "frobenius": "you used the Frobenius norm; an orthogonal matrix has spectral norm 1 "
                         "but Frobenius norm sqrt(units).",
            "no_beta_phi": "you compared beta_W alone with 1; compare beta_W * beta_phi (the "
                           "sigmoid has beta_phi = 1/4).",
            "no_tolerance": "you compared with 1 exactly (np.sign(gamma - 1)): within 1e-4 of 1 "
                            "the answer is 0, the edge: |beta_W beta_phi - 1| <= 1e-4.",
        },
    ),
    Exercise(
        "rescale", target="rescale_to_spectral_norm", cases=_rescale_cases, points=1,
        args=("W", "target"),
        what="W rescaled so that its spectral norm equals target",
        mistakes={
            "frobenius": "you divided by the Frobenius norm; divide by the spectral norm "
                         "np.linalg.norm(W, 2).",
            "spectral_radius": "you divided by the largest |eigenvalue|; divide by the spectral "
                               "norm np.linalg.norm(W, 2).",
            "max_entry": "you divided by the largest |entry|; divide by the spectral norm "
                         "np.linalg.norm(W, 2).",
        },
    ),
    Exercise(
        "clip", target="clip_by_global_norm", cases=_clip_cases, call=_call_clip, points=2,
        args=("grads",) * 8,
        # clipping mistakes show either above the threshold (per tensor, by value) or below it
        # (always rescaling): about half of the cases each
        max_mistake_share=0.6,
        what="the list of clipped gradients",
        mistakes={
            "per_tensor": "you clipped each tensor by its own norm (what Keras' clipnorm does); "
                          "use one global norm sqrt(sum of all squared entries) for all tensors.",
            "by_value": "you clipped each entry to [-max_norm, max_norm]; that changes the "
                        "direction of the gradient. Rescale all tensors by max_norm / global "
                        "norm.",
            "always_rescale": "you rescaled even when the global norm is below max_norm (small "
                              "gradients got larger); only scale down, by min(1, max_norm / "
                              "norm).",
            "sum_of_norms": "your global norm is the sum of the tensors' norms; it is the square "
                            "root of the sum of their squared norms.",
        },
    ),
]
