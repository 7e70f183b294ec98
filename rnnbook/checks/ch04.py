"""Exercises of chapter 4, deep (stacked) RNNs (``solutions/04_deep_rnn.ipynb``).

A stack is passed to the student's function as ``(x, [(U1, W1, b1), (U2, W2, b2), ...])``; the
cases store it flat, ``(x, U1, W1, b1, U2, W2, b2, ...)``, because a case is a tuple of arrays.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise


def as_layers(flat):
    """``[U1, W1, b1, U2, ...]`` as ``[(U1, W1, b1), (U2, W2, b2), ...]``."""
    flat = list(flat)
    return [tuple(flat[i:i + 3]) for i in range(0, len(flat), 3)]


def _stack_cases(rng):
    cases = {}
    for name, (batch, time, features, units) in {
        "one_layer": (2, 5, 3, [4]),
        "two_layers": (3, 6, 2, [5, 3]),
        "three_layers": (2, 4, 3, [4, 4, 2]),
        "batch_of_1": (1, 7, 1, [3, 2]),
        "one_time_step": (2, 1, 2, [3, 4]),
    }.items():
        x = rng.normal(size=(batch, time, features)).astype("float32")
        sizes, flat = [features] + units, []
        for i, n in enumerate(units):
            flat += [rng.normal(scale=0.6, size=shape).astype("float32")
                     for shape in [(sizes[i], n), (n, n), (n,)]]
        cases[name] = (x, *flat)
    return cases


def _call_stack(fn, args):
    return fn(args[0], as_layers(args[1:]))


def _param_cases(rng):
    cases = {}
    for name, (features, units) in {
        "one_layer": (3, [4]),
        "two_layers": (3, [8, 4]),
        "three_layers": (1, [16, 16, 16]),
        "one_unit": (1, [1, 1]),
        "random": (int(rng.integers(1, 20)), list(rng.integers(1, 30, size=3))),
    }.items():
        for bidirectional in (False, True):
            cases[f"{name}_{'bi' if bidirectional else 'uni'}"] = (
                np.int64(features), np.array(units, dtype=np.int64), np.bool_(bidirectional))
    return cases


def _shape_cases(rng):
    cases = {}
    for name, (batch, time, features, units) in {
        "one_layer": (32, 10, 3, [8]),
        "two_layers": (4, 20, 1, [16, 6]),
        "batch_of_1": (1, 1, 2, [5, 7, 3]),
        "random": tuple(int(v) for v in rng.integers(2, 30, size=3)) + (list(rng.integers(2, 30, size=2)),),
    }.items():
        for top_sequences in (False, True):
            for bidirectional in (False, True):
                key = f"{name}_{'seq' if top_sequences else 'last'}_{'bi' if bidirectional else 'uni'}"
                cases[key] = (np.int64(batch), np.int64(time), np.int64(features),
                              np.array(units, dtype=np.int64), np.bool_(top_sequences),
                              np.bool_(bidirectional))
    return cases


def _call_shape(fn, a):
    return fn(int(a[0]), int(a[1]), int(a[2]), [int(n) for n in a[3]], bool(a[4]), bool(a[5]))


def _fix_cases(rng):
    cases = {}
    for name, flags in {
        "one_layer": [False],
        "all_false": [False, False, False],
        "all_true": [True, True],
        "middle_forgot": [True, False, True],
        "bottom_forgot": [False, True, False],
        "random": list(rng.random(4) < 0.5),
    }.items():
        for many_to_many in (False, True):
            cases[f"{name}_{'many' if many_to_many else 'one'}"] = (
                np.array(flags, dtype=bool), np.bool_(many_to_many))
    return cases


def _call_fix(fn, a):
    return np.asarray(fn([bool(v) for v in a[0]], bool(a[1])), dtype=bool)


EXERCISES = [
    Exercise(
        "stack_forward", target="stack_forward", cases=_stack_cases, call=_call_stack,
        what="the top layer's states, shape (batch, time, units of the top layer)",
        mistakes={
            "first_layer_only": "you returned the states of the first layer: return the top "
                                "layer's, after running every layer.",
            "last_state_repeated": "your upper layers read the last state of the layer below at "
                                   "every step: layer i reads s^(i-1)_t, the state of the same "
                                   "step t.",
            "no_bias_upper": "your layers above the first match the reference without their "
                             "bias b -- did you use the first layer's arguments only?",
            "one_step_late": "your upper layers read the layer below one step late (s^(i-1)_{t-1}): "
                             "layer i reads s^(i-1)_t at the same step.",
        },
    ),
    Exercise(
        "stack_params", target="stack_params", cases=_param_cases,
        call=lambda fn, a: fn(int(a[0]), [int(n) for n in a[1]], bool(a[2])),
        what="the number of trainable parameters of the stack",
        mistakes={
            "input_always_features": "every layer above the first reads the units of the layer "
                                     "below, not the input features.",
            "bi_input_not_doubled": "with concat a bidirectional layer outputs 2 * units values, "
                                    "so the layer above reads twice the units of the layer below.",
            "no_bias": "you left out the biases: one per unit (per direction).",
            "bi_one_direction": "a bidirectional layer holds two SimpleRNNs with their own "
                                "weights: count each layer twice.",
        },
    ),
    Exercise(
        "stack_output_shape", target="stack_output_shape", cases=_shape_cases, call=_call_shape,
        what="the output shape of the stack",
        mistakes={
            "first_layer_units": "the output comes from the top layer: its last axis is "
                                 "units[-1], not units[0].",
            "ignores_bidirectional": "a bidirectional top layer with concat outputs 2 * units "
                                     "values per step.",
            "ignores_return_sequences": "with top_sequences=False the top layer returns only its "
                                        "last state: (batch, units), no time axis.",
        },
    ),
    Exercise(
        "fix_return_sequences", target="fix_return_sequences", cases=_fix_cases, call=_call_fix,
        what="the corrected return_sequences of each layer, bottom first",
        mistakes={
            "all_true": "for a many-to-one task the top layer returns only its last state: "
                        "return_sequences=False on the top layer.",
            "last_unchanged": "the top layer's setting must follow the task (many_to_many), not "
                              "what was written.",
            "top_only": "every layer below the top feeds another recurrent layer, so each must "
                        "return sequences (True).",
        },
    ),
    Exercise(
        "keras_stack", target="keras_stack", cases=_stack_cases, call=_call_stack,
        what="the top layer's states from a Keras stack, shape (batch, time, units)",
        mistakes={
            "last_only": "you returned only the last state of the top layer: set "
                         "return_sequences=True on the top layer too.",
            "first_layer_only": "you returned the first layer's states: run the whole stack.",
            "go_backwards": "you set go_backwards=True: the layers read the sequence from the end.",
        },
    ),
]
