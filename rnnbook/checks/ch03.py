"""Exercises of chapter 3, bidirectional RNNs (``solutions/03_bidirectional_rnn.ipynb``)."""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise

MODES = ["concat", "sum", "mul", "ave", "None"]  # stored as strings; "None" is merge_mode=None


def _mode(value):
    """A merge mode from its stored form: the string, or ``None`` for "None"."""
    value = str(value)
    return None if value == "None" else value


def _weights(rng, features, units, scale=0.5):
    return [rng.normal(scale=scale, size=shape).astype("float32")
            for shape in [(features, units), (units, units), (units,)]]


def _backward_cases(rng):
    cases = {}
    for name, (batch, time, features, units, zero) in {
        "batch_of_1": (1, 5, 2, 3, True),
        "one_time_step": (3, 1, 2, 4, False),
        "zero_state": (2, 6, 3, 3, True),
        "longer": (4, 10, 3, 5, False),
    }.items():
        x = rng.normal(size=(batch, time, features)).astype("float32")
        s0 = (np.zeros((batch, units), "float32") if zero
              else rng.normal(size=(batch, units)).astype("float32"))
        cases[name] = (x, s0, *_weights(rng, features, units))
    return cases


def _merge_cases(rng):
    cases = {}
    for mode, shape in zip(MODES, [(2, 4, 3), (1, 3, 2), (3, 1, 4), (2, 5, 3), (2, 3, 2)]):
        fw, bw = (rng.normal(size=shape).astype("float32") for _ in range(2))
        cases[f"{mode}_sequences"] = (fw, bw, np.str_(mode))
    for mode in ["concat", "ave"]:  # return_sequences=False: states of shape (batch, units)
        fw, bw = (rng.normal(size=(3, 4)).astype("float32") for _ in range(2))
        cases[f"{mode}_last_state"] = (fw, bw, np.str_(mode))
    return cases


def _shape_cases(rng):
    cases = {}
    for i, mode in enumerate(MODES):
        for return_sequences in (True, False):
            batch, time = (1, 1) if i == 0 and return_sequences else rng.integers(2, 40, size=2)
            features, units = rng.integers(1, 20, size=2)
            cases[f"{mode}_{'sequences' if return_sequences else 'last'}"] = (
                np.int64(batch), np.int64(time), np.int64(features), np.int64(units),
                np.str_(mode), np.bool_(return_sequences))
    return cases


def _sees_target_cases(rng):
    cases = {}
    for name, (time, offset) in {
        "next_value": (20, 1),
        "three_ahead": (6, 3),
        "same_step": (5, 0),
        "two_back": (5, -2),
        "beyond_window": (4, 4),
        "one_step": (1, 1),
        "random": (int(rng.integers(5, 30)), int(rng.integers(1, 4))),
    }.items():
        for bidirectional in (False, True):
            cases[f"{name}_{'bi' if bidirectional else 'uni'}"] = (
                np.int64(time), np.int64(offset), np.bool_(bidirectional))
    return cases


def _param_cases(rng):
    pairs = [(1, 1), (1, 32), (3, 4), (10, 64), (64, 10),
             (int(rng.integers(2, 50)), int(rng.integers(2, 50)))]
    return {f"features_{f}_units_{u}": (np.int64(f), np.int64(u)) for f, u in pairs}


def _not_reversed_back(args, got, expected):
    (g,), (e,) = got, expected
    if g.shape == e.shape and g.ndim == 3 and np.allclose(g[:, ::-1], e, atol=1e-5):
        return ("your states are in reading order (s'_T first), as go_backwards returns them: "
                "reverse them along the time axis so that position t holds s'_t.")
    return None


EXERCISES = [
    Exercise(
        "backward_states", target="backward_states", cases=_backward_cases,
        diagnose=_not_reversed_back,
        what="the backward states s'_t in time order, shape (batch, time, units)",
        mistakes={
            "not_reversed_back": "your states are in reading order (s'_T first), as go_backwards "
                                 "returns them: reverse them along the time axis so that position "
                                 "t holds s'_t.",
            "forward_pass": "your states are the forward RNN's: the backward RNN must read x from "
                            "the last step to the first (reverse axis 1 of x).",
            "reversed_features": "you reversed the feature axis (x[:, :, ::-1]); time is axis 1: "
                                 "x[:, ::-1].",
            "reversed_batch": "you reversed the batch axis (x[::-1]); time is axis 1: x[:, ::-1].",
            "no_bias": "your states match the reference without the bias b -- did you forget it?",
        },
    ),
    Exercise(
        "merge_directions", target="merge_directions", cases=_merge_cases,
        call=lambda fn, args: fn(args[0], args[1], _mode(args[2])),
        what="the merged states (or the pair for merge_mode None)",
        mistakes={
            "ave_is_sum": "for 'ave' you returned the sum: the average divides it by 2.",
            "concat_time_axis": "for 'concat' you joined along the time axis: join the units, "
                                "axis=-1.",
            "concat_backward_first": "for 'concat' you put the backward states first: Keras puts "
                                     "the forward states first.",
            "none_concat": "for merge_mode None you concatenated: None returns the pair "
                           "(fw, bw) unchanged.",
        },
    ),
    Exercise(
        "output_shape", target="output_shape", cases=_shape_cases,
        call=lambda fn, a: fn(int(a[0]), int(a[1]), int(a[2]), int(a[3]), _mode(a[4]), bool(a[5])),
        what="the output shape (a pair of shapes for merge_mode None)",
        mistakes={
            "concat_not_doubled": "with 'concat' the last axis holds both directions: 2 * units.",
            "all_doubled": "only 'concat' doubles the units; 'sum', 'mul' and 'ave' combine the "
                           "two states element by element and keep `units`.",
            "ignores_return_sequences": "with return_sequences=False there is no time axis: the "
                                        "shape is (batch, units) or (batch, 2 * units).",
            "none_single": "with merge_mode None the layer returns two tensors: return a pair of "
                           "shapes, one per direction.",
            "features_last": "the last axis counts units (the states), not the input features.",
        },
    ),
    Exercise(
        "sees_target", target="sees_target", cases=_sees_target_cases,
        call=lambda fn, a: np.asarray(fn(int(a[0]), int(a[1]), bool(a[2])), dtype=bool),
        what="a boolean mask of shape (time_steps,)",
        mistakes={
            "same_for_both": "a unidirectional output at step t has read only x_0..x_t: it cannot "
                             "see a target at t + offset > t.",
            "off_by_one_end": "the last index in the window is time_steps - 1: a target at index "
                              "time_steps is outside it.",
            "bidirectional_all": "a bidirectional model sees the whole window, but not a target "
                                 "outside it (t + offset < 0 or >= time_steps).",
            "unidirectional_never": "a unidirectional output at step t has read x_0..x_t, so a "
                                    "target at t + offset <= t (offset <= 0) is seen.",
        },
    ),
    Exercise(
        "bidirectional_params", target="bidirectional_params", cases=_param_cases,
        what="the number of trainable parameters of Bidirectional(SimpleRNN(units))",
        mistakes={
            "one_direction": "you counted one direction: Bidirectional holds two SimpleRNNs with "
                             "their own weights.",
            "no_bias": "you left out the biases: one per unit in each direction.",
            "shared_recurrent": "the two directions do not share W: each has its own "
                                "units x units recurrent matrix.",
        },
    ),
]
