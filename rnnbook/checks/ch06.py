"""Exercises of chapter 6, gate behaviour (``solutions/06_gates.ipynb``)."""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise

CHAPTER = "06_gates"


def _normal(rng, *shape, scale=1.0):
    return rng.normal(scale=scale, size=shape).astype("float32")


def _add_cases(rng):
    """z = x + y with NumPy broadcasting; g has z's shape. Every case but the chapter's own
    (a bias over a 2-D batch) broadcasts along an axis of size 1, so that keepdims matters."""
    shapes = {  # name: (z's shape, x's shape, y's shape)
        "bias_row": ((3, 5, 2), (3, 5, 2), (1, 2)),
        "per_sequence": ((3, 5, 2), (3, 5, 2), (3, 1, 2)),
        "per_unit": ((2, 4, 3), (2, 4, 3), (1, 1, 3)),
        "per_step": ((2, 4, 3), (2, 4, 3), (4, 1)),
        "outer_sum": ((4, 3), (4, 1), (1, 3)),
        "batch_of_1": ((1, 6, 2), (1, 6, 2), (1, 1, 2)),
        "both_broadcast": ((3, 5, 1), (3, 1, 1), (1,)),
        "bias_over_batch": ((5, 3), (5, 3), (3,)),
    }
    return {name: (_normal(rng, *x), _normal(rng, *y), _normal(rng, *z))
            for name, (z, x, y) in shapes.items()}


def _mix_cases(rng):
    def gate(*shape):
        return rng.uniform(size=shape).astype("float32")

    return {
        "typical": (_normal(rng, 3, 4), _normal(rng, 3, 4), gate(3, 4), _normal(rng, 3, 4)),
        "closed_gate": (_normal(rng, 2, 3), _normal(rng, 2, 3), np.zeros((2, 3), "float32"),
                        _normal(rng, 2, 3)),
        "open_gate": (_normal(rng, 2, 3), _normal(rng, 2, 3), np.ones((2, 3), "float32"),
                      _normal(rng, 2, 3)),
        "batch_of_1": (_normal(rng, 1, 5), _normal(rng, 1, 5), gate(1, 5), _normal(rng, 1, 5)),
        "sequences": (_normal(rng, 2, 4, 3), _normal(rng, 2, 4, 3), gate(2, 4, 3),
                      _normal(rng, 2, 4, 3)),
        "one_unit": (_normal(rng, 6, 1), _normal(rng, 6, 1), gate(6, 1), _normal(rng, 6, 1)),
    }


def _input_gate_cases(rng):
    def case(batch, inputs, units, bias_shift=0.0):
        return (_normal(rng, batch, inputs), _normal(rng, inputs, units, scale=0.7),
                _normal(rng, units, scale=0.5) + np.float32(bias_shift),
                _normal(rng, batch, units), _normal(rng, batch, units))

    return {
        "typical": case(4, 3, 5),
        "batch_of_1": case(1, 2, 3),
        "square": case(3, 4, 4),
        "one_unit": case(5, 2, 1),
        "one_input": case(4, 1, 3),
        "mostly_closed": case(3, 2, 4, bias_shift=-3.0),
        "large_batch": case(16, 3, 2),
    }


def _memory_cases(rng):
    """Forget pre-activations and levels; none of the spans log(level) / log(f) lies within
    1e-3 of an integer (there round-off could decide the floor)."""
    def draw(n, lo, hi):
        a = rng.uniform(lo, hi, size=n)
        level = rng.uniform(0.05, 0.95, size=n)
        ratio = np.log(level) / np.log(1 / (1 + np.exp(-a)))
        near = np.abs(ratio - np.round(ratio)) < 1e-3
        level[near] *= 0.98  # move off the integer
        return a, level

    return {
        # Keras's initial forget bias 1, and a bias near the chapter's 4.97 (half for 100 steps)
        "chapter_values": (lambda a, lv: (np.r_[1.0, 5.0, a], np.r_[0.5, 0.5, lv]))(
            *draw(2, 1.0, 4.0)),
        "several": draw(5, -1.0, 6.0),
        "long_memories": draw(4, 4.0, 9.0),
        "short_memories": draw(4, -2.0, 1.0),
        "one_level": (lambda a, lv: (a, np.full_like(lv, lv[0])))(*draw(6, 0.0, 5.0)),
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
        what="(dL/dx, dL/dy) for z = x + y, each with the shape of its input",
        mistakes={
            "split_in_half": "you split the upstream gradient between the inputs; the add gate "
                             "copies it: each input gets all of it (dz/dx = dz/dy = 1).",
            "local_only": "you returned the local derivatives (ones) without the upstream "
                          "gradient: multiply by it (chain rule).",
            "no_sum": "an input that was broadcast was used at many places of z, so its "
                      "gradient is the upstream gradient summed over those places, with the "
                      "input's own shape.",
            "batch_axis_only": "you summed over the batch axis (axis 0) only: sum over every "
                               "axis the input was broadcast along -- the leading axes it lacks "
                               "and its axes of size 1.",
            "leading_axes_only": "you summed over the leading axes the input lacks, but not over "
                                 "its axes of size 1: sum those too, with keepdims=True.",
            "no_keepdims": "your gradient has lost the input's axes of size 1: sum them with "
                           "keepdims=True so that it has the input's shape.",
            "mean": "a broadcast input's gradient is the *sum* of the upstream gradient over the "
                    "places it was used, not the mean.",
        },
    ),
    Exercise(
        "mix_gate", target="mix_gate_backward", cases=_mix_cases,
        points=1, args=("x", "y", "gate", "g"), outputs=("dL_dx", "dL_dy", "dL_dgate"),
        what="(dL/dx, dL/dy, dL/dgate) for z = gate * x + (1 - gate) * y",
        mistakes={
            "gate_one_term": "your dL/dgate misses the second term: the gate appears twice, in "
                             "gate * x and in (1 - gate) * y, so dz/dgate = x - y.",
            "gate_sign": "your dL/dgate has the wrong sign: dz/dgate = x - y (the gate weighs "
                         "x), so dL/dgate = g * (x - y).",
            "y_scaled_by_gate": "your dL/dy is scaled by the gate; y is weighed by (1 - gate), "
                                "so dL/dy = g * (1 - gate).",
            "no_upstream": "you returned the local derivatives without the upstream gradient: "
                           "multiply each by g (chain rule).",
        },
    ),
    Exercise(
        "input_gate", target="input_gate", cases=_input_gate_cases,
        points=2, args=("u", "w", "b", "v", "g"), outputs=("z", "dL_dv", "dL_dw", "dL_db"),
        what="(z, dL/dv, dL/dw, dL/db) for z = sigmoid(u w + b) * v and L = sum(g * z)",
        mistakes={
            "no_sigmoid_derivative": "your dL/dw and dL/db miss the sigmoid's slope: the "
                                     "gradient at the pre-activation is "
                                     "g * v * sigmoid(a) * (1 - sigmoid(a)).",
            "bias_not_summed": "your dL/db has one row per example: the bias is broadcast over "
                               "the batch, so sum its gradient over the batch axis (shape "
                               "(units,)).",
            "mean_over_batch": "you averaged the weight gradients over the batch: L is a sum, "
                               "so dL/dw = u^T (dL/da) and dL/db sums over the rows.",
            "w_grad_transposed": "your dL/dw is transposed: it has w's shape (inputs, units), "
                                 "u^T @ (dL/da), not (dL/da)^T @ u.",
            "tanh_gate": "you used tanh as the gate; a gate uses the sigmoid, so that it lies "
                         "between 0 (closed) and 1 (open).",
        },
    ),
    Exercise(
        "memory_gate", target="memory_span", cases=_memory_cases, rtol=1e-6, atol=1e-9,
        points=2, args=("a", "level"), outputs=("f", "steps"),
        what="(f, steps): the forget value sigmoid(a), and the largest whole number of steps "
             "N with f ** N >= level",
        mistakes={
            "ceil": "your span is one step too long: you need the largest N with "
                    "f ** N >= level, the floor of log(level) / log(f), not the ceiling.",
            "rounded": "you rounded log(level) / log(f) to the nearest integer: after N steps "
                       "the memory must still be at least the level, so take the floor.",
            "no_sigmoid": "you used the pre-activation a as the forget value: the gate is "
                          "f = sigmoid(a) = 1 / (1 + exp(-a)).",
            "inverted": "your ratio is upside down: f ** N = level gives "
                        "N = log(level) / log(f).",
            "linear": "you spread the loss of memory linearly over the steps; it compounds: "
                      "f ** N >= level, so N = floor(log(level) / log(f)).",
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
                               "smallest one (stop at the first that passes, in increasing "
                               "order).",
            "whole_batch_norm": "your norm is over the whole batch; take each sequence's norm "
                                "(axis -1) and average them over the batch.",
        },
    ),
]
