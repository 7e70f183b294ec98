"""Exercises of chapter 3, bidirectional RNNs (``solutions/03_bidirectional_rnn.ipynb``)."""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise, OutputError, as_python

CHAPTER = "03_bidirectional_rnn"
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
    for name, shape in {"sequences": (2, 4, 3), "batch_of_1": (1, 3, 2), "one_step": (3, 1, 4),
                        "longer": (2, 7, 3), "one_unit": (2, 3, 1), "wide": (4, 2, 6),
                        "last_state": (3, 4), "last_state_batch_of_1": (1, 6)}.items():
        fw, bw = (rng.normal(size=shape).astype("float32") for _ in range(2))
        cases[name] = (fw, bw)
    return cases


MERGE_OUTPUTS = tuple(f'the result for mode "{m}"' for m in MODES[:4]) + (
    "the first of the pair for mode None", "the second of the pair for mode None")


def _call_merge(fn, args):
    """Each case tries every merge mode: one call per mode."""
    fw, bw = args
    out = [fn(fw, bw, mode) for mode in MODES[:4]]
    pair = fn(fw, bw, None)
    out.extend(pair if isinstance(pair, (tuple, list)) else [pair])
    return tuple(out)


SHAPE_SETTINGS = [(mode, seq) for seq in (True, False) for mode in MODES]


def _shape_cases(rng):
    cases = {}
    for name in ("typical", "batch_of_1", "one_step", "one_unit", "one_feature", "random"):
        batch, time = (int(v) for v in rng.integers(2, 40, size=2))
        features, units = (int(v) for v in rng.integers(2, 20, size=2))
        while features == units:
            features = int(rng.integers(2, 20))
        if name == "batch_of_1":
            batch = 1
        elif name == "one_step":
            time = 1
        elif name == "one_unit":
            units = 1
        elif name == "one_feature":
            features = 1
        cases[name] = (np.int64(batch), np.int64(time), np.int64(features), np.int64(units))
    cases["features_equal_units"] = cases["typical"][:2] + (cases["typical"][3],) * 2
    return cases


def _shape_outputs() -> tuple:
    names = []
    for mode, seq in SHAPE_SETTINGS:
        where = f"merge_mode {mode if mode == 'None' else repr(mode)} and return_sequences={seq}"
        if mode == "None":
            names += [f"the first shape for {where}", f"the second shape for {where}"]
        else:
            names.append(f"the shape for {where}")
    return tuple(names)


SHAPE_OUTPUTS = _shape_outputs()


def _call_shape(fn, a):
    """Each case tries every merge mode with and without return_sequences."""
    sizes = [as_python(v) for v in a[:4]]
    out = []
    for mode, seq in SHAPE_SETTINGS:
        shape = fn(*sizes, _mode(mode), seq)
        is_pair = isinstance(shape, (tuple, list)) and len(shape) == 2 and all(
            isinstance(s, (tuple, list, np.ndarray)) for s in shape)
        out.extend(shape if is_pair else [shape])
    return tuple(np.asarray(s) for s in out)


def _sees_target_cases(rng):
    cases = {}
    for name, time in {"one_step": 1, "two_steps": 2, "short": int(rng.integers(3, 7)),
                       "medium": int(rng.integers(8, 16)), "long": int(rng.integers(20, 41)),
                       "random": int(rng.integers(2, 41))}.items():
        offsets = [-2, -1, 0, 1, 3, time, int(rng.integers(-time, time + 1))]
        cases[name] = (np.int64(time), np.array(offsets, dtype=np.int64))
    return cases


def _call_sees(fn, a):
    """Each case tries several offsets, each in both directions: masks (offsets, 2, time)."""
    time = int(a[0])
    masks = []
    for offset in a[1]:
        for bidirectional in (False, True):
            mask = np.asarray(fn(time, int(offset), bidirectional))
            if mask.shape != (time,):
                raise OutputError(f"for time_steps={time}, offset={int(offset)}, bidirectional="
                                  f"{bidirectional} your mask has shape {mask.shape}; it should "
                                  f"have shape ({time},)")
            masks.append(mask.astype(bool))
    return np.stack(masks).reshape(len(a[1]), 2, time)


def _sees_diagnose(args, got, expected):
    """Which offset and direction are wrong (inputs only: no reference value)."""
    (g,), (e,) = got, expected
    if g.shape != e.shape:
        return None
    wrong = np.argwhere((g != e).any(axis=-1))
    if len(wrong) == 0:
        return None
    i, bi = wrong[0]
    return (f"your mask is wrong for offset {int(args[1][i])} with bidirectional={bool(bi)} "
            f"({len(wrong)} of the {g.shape[0] * 2} offset-and-direction settings are wrong).")


def _param_cases(rng):
    def n(lo=2, hi=65):
        return int(rng.integers(lo, hi))

    square = n()
    pairs = {"one_feature": (1, n()), "one_unit": (n(), 1), "features_equal_units": (square, square),
             "more_features": (n(65, 200), n(2, 20)), "more_units": (n(2, 20), n(65, 200)),
             "random": (n(), n())}
    return {name: (np.int64(f), np.int64(u)) for name, (f, u) in pairs.items()}


def _not_reversed_back(args, got, expected):
    (g,), (e,) = got, expected
    if g.shape == e.shape and g.ndim == 3 and np.allclose(g[:, ::-1], e, atol=1e-5):
        return ("your states are in reading order (s'_T first), as go_backwards returns them: "
                "reverse them along the time axis so that position t holds s'_t.")
    return None


EXERCISES = [
    Exercise(
        "backward_states", target="backward_states", cases=_backward_cases, points=2,
        diagnose=_not_reversed_back, args=("x", "s0", "U", "W", "b"), outputs=("states",),
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
    # 3.2-3.4: each case calls the function once per setting (merge mode, direction...) and
    # returns every result, so that every known mistake shows in every case
    Exercise(
        "merge_directions", target="merge_directions", cases=_merge_cases, points=2,
        call=_call_merge, args=("fw", "bw"), outputs=MERGE_OUTPUTS,
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
        "output_shape", target="output_shape", cases=_shape_cases, points=2,
        call=_call_shape, args=("batch", "time", "features", "units"),
        outputs=SHAPE_OUTPUTS,
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
        "sees_target", target="sees_target", cases=_sees_target_cases, points=2,
        call=_call_sees, args=("time_steps", "offsets"), diagnose=_sees_diagnose,
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
        "bidirectional_params", target="bidirectional_params", cases=_param_cases, points=1,
        args=("features", "units"),
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
