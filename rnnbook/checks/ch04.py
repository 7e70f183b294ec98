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


# ---- 4.5: whether depth helps, judged on validation -------------------------------------------
#
# A case is the loss log of a depth comparison: the training, validation and test loss of every
# (depth, seed) after every epoch, shape (depths, seeds, epochs). The curves are drawn so that
# each known mistake picks another depth (or reports another test loss) than the rule:
# - the rule's depth w (the shallowest whose mean best-epoch validation loss is within `tol` of
#   the lowest) has a deeper rival `a` with the lowest mean and often a deeper one `j` also
#   within `tol` (the plain argmin picks `a`, "ties to the deeper" picks `j`);
# - the deepest stack has the lowest training loss; another depth has the lowest test loss;
# - one depth outside `tol` has a single lucky seed, the lowest of all;
# - w overfits: its validation loss rises after its best epoch, so at the last epoch another
#   depth looks best; every best epoch is before the last one;
# - the test curves reach their minimum at another epoch than the validation curves.


def _curve(best, best_epoch, epochs, fall, rise):
    """A loss curve with its unique minimum ``best`` at ``best_epoch``."""
    e = np.arange(epochs)
    before = fall * (np.clip(best_epoch - e, 0, None) / max(epochs - 1, 1)) ** 1.5
    after = rise * (e - best_epoch)
    return best + np.where(e < best_epoch, before, np.where(e > best_epoch, after, 0.0))


def _depth_case(rng, n_depths, seeds, epochs, tol, exact_tie=False):
    depths = np.sort(rng.choice(np.arange(1, 9), size=n_depths, replace=False)).astype(np.int64)
    w = int(rng.integers(0, 2)) if n_depths >= 4 else 0  # the rule's choice
    a = int(rng.integers(w + 1, max(w + 2, n_depths - 1)))  # the lowest mean
    deeper = [i for i in range(a + 1, n_depths - 1)]
    j = int(rng.choice(deeper)) if deeper and not exact_tie else None  # also within tol
    base = rng.uniform(0.4, 0.8)
    spread = 0.2 * tol if tol > 0 else 0.01
    means = base + tol + rng.uniform(0.03, 0.1, size=n_depths)  # outside tol
    means[a] = base
    means[w] = base if exact_tie else base + rng.uniform(0.2, 0.8) * tol
    if j is not None:
        means[j] = base + rng.uniform(0.2, 0.8) * tol
    outside = [i for i in range(n_depths) if i not in (w, a, j)]
    lucky = int(rng.choice(outside)) if outside else a  # one seed far below the rest
    lucky = lucky if seeds > 1 else None
    best = np.empty((n_depths, seeds))
    for i in range(n_depths):
        dev = rng.uniform(-spread, spread, size=seeds)
        if i == lucky:  # one lucky seed, the lowest single value of all
            dev = np.zeros(seeds)
            drop = means[i] - base + 3 * spread + 0.05
            dev[int(rng.integers(seeds))] = -drop * seeds / (seeds - 1)
        best[i] = means[i] + dev - dev.mean()
    if exact_tie:  # the same values in another seed order: equal means in any summation order
        best = np.round(best * 1024) / 1024
        best[a] = best[w][rng.permutation(seeds)]
    train, val, test = (np.empty((n_depths, seeds, epochs)) for _ in range(3))
    winner = int(rng.choice([i for i in range(n_depths) if i != w]))  # lowest test loss
    for i in range(n_depths):
        rise = rng.uniform(0.05, 0.1) if i == w else rng.uniform(0.0005, 0.002)
        for s in range(seeds):
            top = epochs - 4 if i == w else epochs - 2
            e_val = int(rng.integers(1, top + 1))
            val[i, s] = _curve(best[i, s], e_val, epochs, rng.uniform(0.3, 0.8), rise)
            e_test = min(max(e_val + int(rng.choice([-2, -1, 1, 2])), 0), epochs - 1)
            noise = best[i, s] - means[i]
            floor = (base - 0.2 - tol + noise if i == winner
                     else best[i, s] + rng.uniform(0.0, 0.05))
            test[i, s] = _curve(floor, e_test, epochs, rng.uniform(0.1, 0.3),
                                rng.uniform(0.005, 0.02))
            train[i, s] = (base - 0.1 - (0.02 + tol) * i + rng.uniform(0, 0.005, epochs)
                           + 0.3 * np.exp(-np.arange(epochs) / 2))
    return (depths, *(np.round(c, 6) if not exact_tie else c for c in (train, val, test)),
            np.float64(tol))


def _depth_cases(rng):
    cases = {}
    for name, (n_depths, seeds, epochs, tol) in {
        "typical": (4, 5, 12, 0.02),
        "five_depths": (5, 3, 15, 0.05),
        "many_seeds": (4, 8, 10, 0.01),
        "long_training": (5, 5, 30, 0.03),
        "random": (int(rng.integers(4, 6)), int(rng.integers(3, 7)), int(rng.integers(8, 20)),
                   float(rng.choice([0.01, 0.02, 0.05]))),
        "one_seed": (4, 1, 12, 0.02),
        "two_depths": (2, 3, 10, 0.02),
    }.items():
        cases[name] = _depth_case(rng, n_depths, seeds, epochs, tol)
    cases["exact_tie"] = _depth_case(rng, 4, 4, 10, 0.0, exact_tie=True)
    return cases


def _call_depth(fn, a):
    """The pair as two outputs (a pair of numbers would otherwise count as one array)."""
    out = fn([int(d) for d in a[0]], a[1], a[2], a[3], float(a[4]))
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return tuple(v if hasattr(v, "numpy") else np.asarray(v) for v in out)
    return out


DEPTH_MISTAKES = {
    "on_training": "you chose on the training loss, which deeper stacks always lower: choose on "
                   "the validation loss.",
    "on_test": "you chose the depth with the test loss: the test split is read once, after the "
               "choice. Choose on the validation loss.",
    "best_seed": "you chose the depth of the single best seed: average each depth's validation "
                 "loss over the seeds (axis 1) and choose on the mean.",
    "ties_deeper": "among the depths within `tol` of the lowest mean validation loss you chose "
                   "the deepest: a tie goes to the shallower (cheaper) stack.",
    "ignores_tol": "you took the lowest mean validation loss and ignored `tol`: choose the "
                   "shallowest depth whose mean is within `tol` of the lowest.",
    "last_epoch": "you used the losses after the last epoch: with early stopping each run keeps "
                  "the weights of its best validation epoch (np.argmin over axis 2), for the "
                  "choice and for the test loss.",
    "index_not_depth": "you returned the position of the depth in `depths`, not the depth "
                       "itself: depths[i].",
    "test_own_best": "your test loss is each run's lowest test loss, an epoch chosen on the "
                     "test split: report the test loss at the epoch of the lowest validation "
                     "loss.",
}


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
            "one_step_late": "your upper layers read the layer below one step late "
                             "(s^(i-1)_{t-1}): layer i reads s^(i-1)_t at the same step.",
        },
    ),
    # 4.2-4.3: each case calls the function once per setting (bidirectional or not, the
    # task) and returns every result, so that every known mistake shows in every case
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
            "first_layer_only": "you returned the first layer's states: run the whole "
                                "stack.",
            "go_backwards": "you set go_backwards=True: the layers read the sequence from the "
                            "end.",
        },
    ),
    Exercise(
        "choose_depth", target="choose_depth", cases=_depth_cases, call=_call_depth, points=2,
        args=("depths", "train_loss", "val_loss", "test_loss", "tol"),
        outputs=("depth", "test_loss"),
        what="(depth, test_loss): the chosen depth, and the mean test loss of its runs",
        mistakes=DEPTH_MISTAKES,
    ),
]
