"""Exercises of chapter 4, deep (stacked) RNNs (``solutions/04_deep_rnn.ipynb``).

A stack is passed to the student's function as ``(x, [(U1, W1, b1), (U2, W2, b2), ...])``; the
cases store it flat, ``(x, U1, W1, b1, U2, W2, b2, ...)``, because a case is a tuple of arrays.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise, as_python

CHAPTER = "04_deep_rnn"


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
        "four_layers": (2, 5, 2, [3, 4, 3, 2]),
        "wide_top": (3, 4, 2, [2, 6]),
        "longer": (2, 9, 3, [4, 3]),
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
    def units(k):
        return [int(u) for u in rng.integers(1, 30, size=k)]

    return {name: (np.int64(features), np.array(sizes, dtype=np.int64))
            for name, (features, sizes) in {
                "one_layer": (int(rng.integers(2, 10)), units(1)),
                "two_layers": (int(rng.integers(2, 10)), units(2)),
                "three_layers": (int(rng.integers(1, 5)), units(3)),
                "one_unit": (int(rng.integers(1, 4)), [1] * int(rng.integers(2, 5))),
                "one_feature": (1, units(int(rng.integers(2, 4)))),
                "random": (int(rng.integers(1, 20)), units(int(rng.integers(2, 5)))),
            }.items()}


def _call_params(fn, a):
    """Each case counts the stack both ways: without and with Bidirectional."""
    return tuple(fn(as_python(a[0]), [int(n) for n in a[1]], bi) for bi in (False, True))


def _shape_cases(rng):
    def sizes(k):
        return [int(u) for u in rng.integers(2, 30, size=k)]

    cases = {}
    for name, (batch, time, features, units) in {
        "one_layer": (int(rng.integers(2, 64)), int(rng.integers(2, 30)), 3, sizes(1)),
        "two_layers": (int(rng.integers(2, 64)), int(rng.integers(2, 30)), 1, sizes(2)),
        "batch_of_1": (1, int(rng.integers(2, 30)), 2, sizes(3)),
        "one_step": (int(rng.integers(2, 64)), 1, 4, sizes(2)),
        "random": tuple(int(v) for v in rng.integers(2, 30, size=3)) + (sizes(2),),
    }.items():
        while len(units) > 1 and units[0] == units[-1]:
            units[-1] = int(rng.integers(2, 30))
        cases[name] = (np.int64(batch), np.int64(time), np.int64(features),
                       np.array(units, dtype=np.int64))
    return cases


SHAPE_SETTINGS = [(seq, bi) for seq in (False, True) for bi in (False, True)]


def _call_shape(fn, a):
    """Each case tries the four settings of (top_sequences, bidirectional)."""
    sizes = [as_python(v) for v in a[:3]]
    return tuple(np.asarray(fn(*sizes, [int(n) for n in a[3]], seq, bi))
                 for seq, bi in SHAPE_SETTINGS)


def _fix_cases(rng):
    def flags(k):
        return [bool(v) for v in rng.random(k) < 0.5]

    return {name: (np.array(value, dtype=bool),) for name, value in {
        "one_layer": flags(1),
        "all_false": [False] * int(rng.integers(2, 6)),
        "all_true": [True] * int(rng.integers(2, 6)),
        "middle_forgot": [True, False, True] + flags(int(rng.integers(0, 3))),
        "bottom_forgot": [False] + flags(int(rng.integers(1, 4))),
        "two_forgot": [False, False] + flags(int(rng.integers(1, 3))),
        "random": [False] + flags(int(rng.integers(3, 6))),
        "middle_and_top_forgot": [True] * int(rng.integers(1, 3)) + [False, False],
    }.items()}


def _call_fix(fn, a):
    """Each case asks for both tasks: many-to-one, then many-to-many."""
    return tuple(np.asarray(fn([bool(v) for v in a[0]], many), dtype=bool)
                 for many in (False, True))


EXERCISES = [
    Exercise(
        "stack_forward", target="stack_forward", cases=_stack_cases, call=_call_stack, points=2,
        args=("x", "U1", "W1", "b1", "U2", "W2", "b2", "U3", "W3", "b3"),
        outputs=("states",),
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
    # 4.2-4.4: each case calls the function once per setting (bidirectional or not, the task)
    # and returns every result, so that every known mistake shows in every case
    Exercise(
        "stack_params", target="stack_params", cases=_param_cases, points=2,
        call=_call_params, args=("features", "units"),
        outputs=("the count with bidirectional=False", "the count with bidirectional=True"),
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
        points=1, args=("batch", "time", "features", "units"),
        outputs=tuple(f"the shape for top_sequences={seq}, bidirectional={bi}"
                      for seq, bi in SHAPE_SETTINGS),
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
        points=2, args=("return_sequences",),
        outputs=("the settings for many_to_many=False", "the settings for many_to_many=True"),
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
        "keras_stack", target="keras_stack", cases=_stack_cases, call=_call_stack, points=2,
        args=("x", "U1", "W1", "b1", "U2", "W2", "b2", "U3", "W3", "b3"),
        outputs=("states",),
        what="the top layer's states from a Keras stack, shape (batch, time, units)",
        mistakes={
            "last_only": "you returned only the last state of the top layer: set "
                         "return_sequences=True on the top layer too.",
            "first_layer_only": "you returned the first layer's states: run the whole stack.",
            "go_backwards": "you set go_backwards=True: the layers read the sequence from the end.",
        },
    ),
]
