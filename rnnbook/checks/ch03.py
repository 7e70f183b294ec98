"""Exercises of chapter 3, bidirectional RNNs (``solutions/03_bidirectional_rnn.ipynb``).

Exercise 3.4 is a *training exercise* (:class:`~rnnbook.checks.core.TrainingExercise`): the
student trains a tagger on noisy sequences and tags new ones; it passes when its error rate is
below a bar that only a model reading the future too can reach. Every case, visible or hidden, is
drawn afresh (its own marker rate, window, noise and length): the grader's cases come from the
secret seed, so their tags cannot be looked up anywhere.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise, OutputError, TrainingExercise

CHAPTER = "03_bidirectional_rnn"
MODES = ["concat", "sum", "mul", "ave", "None"]  # stored as strings; "None" is merge_mode=None


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


def _not_reversed_back(args, got, expected):
    (g,), (e,) = got, expected
    if g.shape == e.shape and g.ndim == 3 and np.allclose(g[:, ::-1], e, atol=1e-5):
        return ("your states are in reading order (s'_T first), as go_backwards returns them: "
                "reverse them along the time axis so that position t holds s'_t.")
    return None


# ---- 3.4: tag the steps near a marker (a training exercise) ------------------------------------

def near_markers(markers, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(near, future_only)`` for boolean markers ``(n, time)``: step t is *near* when a marker
    lies in t-k..t+k; *future_only* when the nearest such markers all come after t (a model
    that reads only x_0..x_t cannot know it)."""
    markers = np.asarray(markers, bool)
    time = markers.shape[1]
    padded = np.pad(markers, ((0, 0), (k, k)))
    windows = np.stack([padded[:, j:j + time] for j in range(2 * k + 1)])  # offsets -k..k
    near, past = windows.any(axis=0), windows[:k + 1].any(axis=0)
    return near, near & ~past


def _tag_data(rng, n, time, k, rate, noise):
    markers = rng.random((n, time)) < rate
    near, future_only = near_markers(markers, k)
    x = markers + rng.normal(scale=noise, size=(n, time))
    return x[..., None].astype("float32"), near.astype("float32"), future_only.astype("float32")


def tag_case(rng) -> tuple[tuple, tuple]:
    """``((X_train, y_train, X_new), (y_new, future_only))`` with settings drawn from ``rng``:
    a marker rate, the window k, the noise and the length are the case's own."""
    time, k = int(rng.integers(24, 37)), int(rng.integers(2, 4))
    rate, noise = rng.uniform(0.06, 0.12), rng.uniform(0.1, 0.15)
    X_train, y_train, _ = _tag_data(rng, 1000, time, k, rate, noise)
    X_new, y_new, future_only = _tag_data(rng, 500, time, k, rate, noise)
    return (X_train, y_train, X_new), (y_new, future_only)


def _tag_cases(rng):
    return {"markers": tag_case(rng)}


def _tag_hidden_cases(rng):
    return {f"markers_{i}": tag_case(rng) for i in (1, 2)}


def tag_error(args, tags, targets) -> float:
    """The share of steps tagged wrong (a tag must be exactly 0 or 1)."""
    return float(np.mean(np.asarray(tags, "float64") != np.asarray(targets[0], "float64")))


# a model that reads only the past is wrong on about 9 % of the steps or more; the solution on
# at most 1 % (printed with 2 decimals, so that round-off on another CPU cannot change the text)
TAG_THRESHOLD = 0.05
TAG_MISTAKES = {
    "unidirectional": "your tags are right where the marker came before (or at) the step, and "
                      "0 where it comes only after: your model reads the sequence in one "
                      "direction. Wrap its recurrent layer in keras.layers.Bidirectional (with "
                      "return_sequences=True) so that each step also sees what follows it.",
    "constant": "your tags are the same at every step (all 0 is the most common tag): the model "
                "has not learned. Train longer or with a larger learning rate, and watch the "
                "training loss go down.",
    "shifted": "your tags are one step out of place: they match the right tags moved by one "
               "step in time. Tag step t from the model's output at step t "
               "(return_sequences=True, no shift of the inputs or the targets).",
    "probabilities": "your tags are probabilities, not labels: return 0 or 1 at every step, "
                     "e.g. `(model.predict(X_new, verbose=0)[..., 0] > 0.5).astype(int)`.",
    "column": "your tags have shape (n, time, 1): return one tag per step, shape (n, time) "
              "(e.g. `[..., 0]`).",
}


def _shift(tags, by):
    moved = np.zeros_like(tags)
    if by > 0:
        moved[:, by:] = tags[:, :-by]
    else:
        moved[:, :by] = tags[:, -by:]
    return moved


def _tag_diagnose(args, got, expected):
    """Name a known mistake from the tags (no numbers: this runs on hidden cases too)."""
    (tags,), (y, future_only) = got, expected[:2]
    tags, y, future_only = (np.asarray(a, "float64") for a in (tags, y, future_only))
    if tags.shape == y.shape + (1,):
        return TAG_MISTAKES["column"]
    if tags.shape != y.shape or not np.all(np.isfinite(tags)):
        return None
    if np.any((tags != 0) & (tags != 1)) and tags.min() >= 0 and tags.max() <= 1:
        return TAG_MISTAKES["probabilities"]
    if np.all(tags == tags.flat[0]):
        return TAG_MISTAKES["constant"]
    wrong = np.mean(tags != y)
    if min(np.mean(tags != _shift(y, by)) for by in (1, -1)) < 0.5 * wrong:
        return TAG_MISTAKES["shifted"]
    seen = future_only == 0
    if (np.mean(tags[seen] != y[seen]) < TAG_THRESHOLD / 2
            and np.mean(tags[~seen]) < 0.5):
        return TAG_MISTAKES["unidirectional"]
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
    # 3.2-3.3: each case calls the function once per setting (merge mode, direction...) and
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
    TrainingExercise(
        "tag_near_markers", target="train_and_tag", cases=_tag_cases,
        hidden_cases=_tag_hidden_cases, points=3, args=("X_train", "y_train", "X_new"),
        outputs=("tags",), metric=tag_error, threshold=TAG_THRESHOLD,
        metric_text="your tags' error rate (the share of steps tagged wrong)",
        metric_name="error rate", diagnose=_tag_diagnose, mistakes=TAG_MISTAKES,
        time_limit=60, seeds=5, margin=0.1,
        what="tags 0 or 1 for every step of X_new, shape (n, time), from a model trained on "
             "(X_train, y_train)",
    ),
]
