"""Exercises of chapter 6, gate behaviour (``solutions/06_gates.ipynb``)."""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise

CHAPTER = "06_gates"


def _normal(rng, *shape, scale=1.0):
    return rng.normal(scale=scale, size=shape).astype("float32")


def _add_cases(rng):
    return {
        "same_shape": (_normal(rng, 3, 4), _normal(rng, 3, 4), _normal(rng, 3, 4)),
        "broadcast_bias": (_normal(rng, 5, 3), _normal(rng, 3), _normal(rng, 5, 3)),
        "batch_of_1_broadcast": (_normal(rng, 1, 4), _normal(rng, 4), _normal(rng, 1, 4)),
        "broadcast_three_rows": (_normal(rng, 3, 4), _normal(rng, 4), _normal(rng, 3, 4)),
        "broadcast_batch_of_2": (_normal(rng, 2, 5), _normal(rng, 5), _normal(rng, 2, 5)),
        "broadcast_one_unit": (_normal(rng, 6, 1), _normal(rng, 1), _normal(rng, 6, 1)),
        "broadcast_wide": (_normal(rng, 3, 8), _normal(rng, 8), _normal(rng, 3, 8)),
        "broadcast_large_batch": (_normal(rng, 16, 2), _normal(rng, 2), _normal(rng, 16, 2)),
    }


def _multiply_cases(rng):
    gate = rng.uniform(size=(3, 4)).astype("float32")
    return {
        "two_signals": (_normal(rng, 3, 4), _normal(rng, 3, 4), _normal(rng, 3, 4)),
        "gate_in_0_1": (_normal(rng, 3, 4), gate, _normal(rng, 3, 4)),
        "closed_gate": (_normal(rng, 2, 3), np.zeros((2, 3), "float32"), _normal(rng, 2, 3)),
        "batch_of_1": (_normal(rng, 1, 5), _normal(rng, 1, 5), _normal(rng, 1, 5)),
    }


def _sigmoid_cases(rng):
    return {
        "mixed": (_normal(rng, 3, 4), _normal(rng, 3, 4, scale=3.0), _normal(rng, 3, 4)),
        "closed": (_normal(rng, 2, 3), np.full((2, 3), -10.0, "float32"), _normal(rng, 2, 3)),
        "open": (_normal(rng, 2, 3), np.full((2, 3), 10.0, "float32"), _normal(rng, 2, 3)),
        "batch_of_1": (_normal(rng, 1, 2), _normal(rng, 1, 2), _normal(rng, 1, 2)),
    }


def _memory_cases(rng):
    return {
        "several": (rng.integers(5, 120, size=4), rng.uniform(0.05, 0.95, size=4)),
        "one_step": (np.array([1, 1]), rng.uniform(0.2, 0.9, size=2)),
        "long_memory": (rng.integers(500, 2000, size=1), rng.uniform(0.8, 0.95, size=1)),
        "small_level": (rng.integers(5, 30, size=1), rng.uniform(0.005, 0.02, size=1)),
    }


def _forget_cases(rng):
    def rnn(batch, time, features, units, scale):
        q, r = np.linalg.qr(rng.normal(size=(units, units)))
        return (_normal(rng, batch, time, features), _normal(rng, features, units, scale=0.6),
                (scale * q * np.sign(np.diag(r))).astype("float32"))

    forgets = np.array([0.5, 0.8, 0.9, 0.95, 0.99], "float32")
    return {
        "typical": (*rnn(4, 20, 2, 5, 1.0), forgets, np.int64(15), np.float32(0.5)),
        "batch_of_1": (*rnn(1, 12, 1, 3, 1.0), forgets, np.int64(10), np.float32(0.75)),
        "lag_zero": (*rnn(2, 6, 2, 4, 1.0), forgets[:3], np.int64(0), np.float32(1.0)),
        "none_passes": (*rnn(3, 15, 2, 4, 0.5), np.array([0.2, 0.5], "float32"), np.int64(14),
                        np.float32(1.0)),
        "to_the_start": (*rnn(2, 8, 1, 3, 1.0), forgets, np.int64(8), np.float32(0.6)),
    }


EXERCISES = [
    Exercise(
        "add_gate", target="add_gate_backward", cases=_add_cases,
        points=2, args=("x", "y", "g"), outputs=("dL_dx", "dL_dy"),
        what="(dL/dx, dL/dy) for z = x + y",
        mistakes={
            "split_in_half": "you split the upstream gradient between the inputs; the add gate "
                             "copies it: each input gets all of it (dz/dx = dz/dy = 1).",
            "multiply_rule": "you used the multiply gate's rule (scale by the other input); for "
                             "z = x + y the local derivatives are 1, so each input gets the upstream "
                             "gradient unchanged.",
            "local_only": "you returned the local derivatives (ones) without the upstream "
                          "gradient: multiply by it (chain rule).",
            "no_sum_over_batch": "y was broadcast over the batch, so its gradient must have y's "
                                 "shape: sum the upstream gradient over the batch axis.",
            "mean_over_batch": "y was broadcast over the batch: its gradient is the *sum* of the "
                               "upstream gradient over the rows, not the mean.",
        },
    ),
    Exercise(
        "multiply_gate", target="multiply_gate_backward", cases=_multiply_cases,
        points=1, args=("x", "y", "g"), outputs=("dL_dx", "dL_dy"),
        what="(dL/dx, dL/dy) for z = x * y",
        mistakes={
            "swapped": "each input's gradient is scaled by the *other* input: dL/dx = g * y and "
                       "dL/dy = g * x (you swapped them).",
            "add_rule": "you copied the upstream gradient as for the add gate; the multiply gate "
                        "scales it by the other input.",
            "local_only": "you returned the local derivatives (y, x) without multiplying by the "
                          "upstream gradient.",
        },
    ),
    Exercise(
        "sigmoid_gate", target="sigmoid_gate", cases=_sigmoid_cases,
        points=2, args=("x", "a", "g"), outputs=("z", "dL_dx", "dL_da"),
        what="(z, dL/dx, dL/da) for z = sigmoid(a) * x",
        mistakes={
            "no_sigmoid_derivative": "your dL/da misses the sigmoid's slope: it is "
                                     "g * x * sigmoid(a) * (1 - sigmoid(a)).",
            "no_sigmoid": "you used a itself as the gate; the gate is sigmoid(a), a value in (0, 1).",
            "add_rule": "your dL/dx is the upstream gradient itself, as for an add gate; through a "
                        "multiply gate it is scaled by the gate value sigmoid(a).",
            "tanh_gate": "you used tanh as the gate; a gate uses the sigmoid, so that it lies "
                         "between 0 (closed) and 1 (open).",
        },
    ),
    Exercise(
        "memory_gate", target="forget_for_memory", cases=_memory_cases, rtol=1e-6, atol=1e-9,
        points=2, args=("steps", "level"), outputs=("f", "a"),
        what="(f, a): the forget value and its sigmoid pre-activation",
        mistakes={
            "level_to_the_n": "you raised the level to the power N; you need f ** N = level, so "
                              "f = level ** (1 / N).",
            "linear": "you spread the loss of memory linearly over the steps; it compounds: "
                      "f ** N = level, so f = level ** (1 / N).",
            "no_logit": "your pre-activation equals f; invert the sigmoid: a = log(f / (1 - f)).",
            "inverted_logit": "your pre-activation has the wrong sign: a = log(f / (1 - f)), "
                              "positive for f > 0.5.",
        },
    ),
    Exercise(
        "forget_for_gradient", target="smallest_forget", cases=_forget_cases,
        points=3, args=("x", "U", "W", "forgets", "lag", "threshold"), outputs=("norms", "best"),
        rtol=1e-3, atol=1e-5,
        what="(norms, best): the gradient norm at the lag for each forget value, and the "
             "smallest forget value that reaches the threshold (-1.0 if none does)",
        mistakes={
            "off_by_one": "your gradients are one step too recent: lag 0 is c_T and lag T is "
                          "the initial state c_0, i.e. take the gradient of states[T - lag] "
                          "in [c_0, c_1, ..., c_T].",
            "no_one_minus_f": "your cell writes the full tanh branch; the cell is "
                              "c_t = f * c_(t-1) + (1 - f) * tanh(x_t U + c_(t-1) W).",
            "largest_passing": "you returned the largest forget value that passes; return the "
                               "smallest one (stop at the first that passes, in increasing order).",
            "whole_batch_norm": "your norm is over the whole batch; take each sequence's norm "
                                "(axis -1) and average them over the batch.",
        },
    ),
]
