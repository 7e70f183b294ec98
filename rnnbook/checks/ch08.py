"""Exercises of chapter 8, the gated recurrent unit (``solutions/08_gru.ipynb``).

Weights are in Keras's packed layout (except the input of exercise 8.1, in PyTorch's):
``kernel`` (features, 3*units), ``recurrent_kernel`` (units, 3*units) with the parts in the order
z, r, h along the last axis, and ``bias`` of shape (2, 3*units) for ``reset_after=True`` (row 0
the input bias, row 1 the recurrent bias) or (3*units,) for ``reset_after=False``.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise, TrainingExercise

CHAPTER = "08_gru"
STEP_ARGS = ("x_t", "h_prev", "kernel", "recurrent_kernel", "bias")


def _normal(rng, shape, scale=1.0):
    return rng.normal(scale=scale, size=shape).astype("float32")


def _torch_cases(rng):
    """PyTorch's GRU weights: weight_ih (3*units, features), weight_hh (3*units, units), biases
    (3*units,), the parts in the order r, z, n along the FIRST axis."""
    cases = {}
    for name, (features, units) in {
        "typical": (3, 4), "one_unit": (2, 1), "one_feature": (1, 3),
        "square": (3, 3), "wide": (6, 2), "more_units": (2, 5),
    }.items():
        cases[name] = (_normal(rng, (3 * units, features)), _normal(rng, (3 * units, units)),
                       _normal(rng, (3 * units,)), _normal(rng, (3 * units,)))
    return cases


def _step_weights(rng, batch, features, units, zero=False, reset_after=True):
    x = _normal(rng, (batch, features))
    h = np.zeros((batch, units), "float32") if zero else _normal(rng, (batch, units), 0.8)
    kernel = _normal(rng, (features, 3 * units), 0.6)
    recurrent = _normal(rng, (units, 3 * units), 0.6)
    bias = _normal(rng, (2, 3 * units) if reset_after else (3 * units,), 0.6)
    return x, h, kernel, recurrent, bias


def _backward_cases(rng):
    cases = {}
    for name, (batch, features, units, zero) in {
        "batch_of_1": (1, 3, 4, False),
        "batch_of_5": (5, 2, 3, False),
        "zero_state": (4, 3, 2, True),
        "one_unit": (3, 2, 1, False),
        "one_feature": (2, 1, 3, False),
        "wide": (2, 6, 5, False),
        "square": (2, 3, 3, False),
    }.items():
        weights = _step_weights(rng, batch, features, units, zero)
        cases[name] = (*weights, _normal(rng, (batch, units)))
    return cases


def _masked_cases(rng):
    """Each case has a sequence of length 0 (its state stays h0) and one of full length."""
    cases = {}
    for name, (batch, time, features, units) in {
        "typical": (4, 6, 2, 3),
        "batch_of_2": (2, 5, 3, 2),
        "one_unit": (3, 4, 2, 1),
        "one_feature": (4, 7, 1, 3),
        "longer": (5, 10, 2, 4),
        "square": (3, 5, 3, 3),
    }.items():
        x = _normal(rng, (batch, time, features))
        lengths = rng.integers(1, time, size=batch)
        lengths[0], lengths[-1] = 0, time
        lengths = rng.permutation(lengths).astype("int64")
        _, h0, kernel, recurrent, bias = _step_weights(rng, batch, features, units,
                                                        reset_after=False)
        cases[name] = (x, lengths, h0, kernel, recurrent, bias)
    return cases


def _param_cases(rng):
    def n(lo=2, hi=65):
        return int(rng.integers(lo, hi))

    square = n()
    pairs = {"one_feature": (1, n()), "one_unit": (n(), 1),
             "features_equal_units": (square, square),
             "more_features": (n(65, 200), n(2, 20)), "more_units": (n(2, 20), n(65, 200)),
             "random": (n(), n())}
    return {name: (np.int64(f), np.int64(u)) for name, (f, u) in pairs.items()}


def _call_params(fn, a):
    """Each case counts both variants: reset_after=True (Keras's default), then False."""
    return tuple(fn(int(a[0]), int(a[1]), after) for after in (True, False))


def _update_gate_cases(rng):
    return {
        "reset_after_keep": (_normal(rng, (2, 12)), np.float64(0.99)),
        "reset_after_mostly_new": (_normal(rng, (2, 6)), np.float64(0.1)),
        "reset_after_one_unit": (_normal(rng, (2, 3)), np.float64(rng.uniform(0.6, 0.95))),
        "reset_before": (_normal(rng, (9,)), np.float64(rng.uniform(0.6, 0.99))),
        "half_open_reset_before": (_normal(rng, (9,)), np.float64(0.5)),
        "reset_after_low": (_normal(rng, (2, 6)), np.float64(rng.uniform(0.02, 0.3))),
        "reset_after_random": (_normal(rng, (2, 15)), np.float64(rng.uniform(0.55, 0.999))),
        "reset_after_large": (_normal(rng, (2, 30)), np.float64(rng.uniform(0.7, 0.9))),
    }


# ---- 8.6: a GRU that remembers (a training exercise) ----------------------------------------

RECALL_STEPS, RECALL_TRAIN, RECALL_NEW = 30, 1000, 300
# The chapter's "learned": a tenth of the MSE of predicting 0. Measured: the solution (a GRU(16)
# with b_z = 1, 10 epochs) reaches at worst 0.0124 over 5 seeds x 3 cases (the build's log); the
# same GRU with Keras's default bias b_z = 0 stays at 1.00 (0.997 to 1.009) on 5 of 5 seeds.
RECALL_THRESHOLD = 0.1


def memory_task(rng, n, steps=RECALL_STEPS):
    """The chapter's memory task: x (n, steps, 2) = (value, marker), the marker at one step of
    the first half; y (n,) the marked value. Values are rounded to 0.01 (a smaller key)."""
    values = rng.uniform(-1, 1, size=(n, steps)).round(2)
    where = rng.integers(0, steps // 2, size=n)
    marker = np.zeros((n, steps))
    marker[np.arange(n), where] = 1.0
    x = np.stack([values, marker], axis=-1).astype("float32")
    return x, values[np.arange(n), where].astype("float32")


def _recall_case(rng):
    X_train, y_train = memory_task(rng, RECALL_TRAIN)
    X_new, y_new = memory_task(rng, RECALL_NEW)
    return (X_train, y_train, X_new), y_new


def _recall_cases(rng):
    return {"memory_task": _recall_case(rng)}


def _recall_hidden_cases(rng):
    return {f"memory_task_{k}": _recall_case(rng) for k in (1, 2)}


def mse_vs_zero(args, predictions, targets) -> float:
    """The predictions' MSE as a multiple of the MSE of predicting 0 (about 1/3)."""
    y = np.asarray(targets[0], "float64")
    pred = np.asarray(predictions, "float64")
    return float(np.mean((pred - y) ** 2) / np.mean(y ** 2))


RECALL_MISTAKES = {
    "last_value": "your predictions are the value at the last step of each sequence: the target "
                  "is the value at the step where the marker (channel 1) is 1.",
    "constant": "your predictions hardly change from one sequence to the next: the model has not "
                "learned to hold the marked value. A GRU with Keras's defaults starts with its "
                "update gate near 0.5, which forgets fast; start it nearer 1 with an update-gate "
                "bias (exercise 8.5), or train longer.",
    "column": "your predictions have shape (n, 1): return one number per sequence, shape (n,) "
              "(e.g. `model.predict(X_new, verbose=0)[:, 0]`).",
}


def _recall_diagnose(args, got, expected):
    """Name a known mistake from the predictions (no numbers: this runs on hidden cases too)."""
    (pred,), (y,) = got, expected
    pred = np.asarray(pred, "float64")
    if pred.shape == y.shape + (1,):
        return RECALL_MISTAKES["column"]
    if pred.shape != y.shape or not np.all(np.isfinite(pred)):
        return None
    X_new = np.asarray(args[2], "float64")
    if np.allclose(pred, X_new[:, -1, 0], atol=0.05):
        return RECALL_MISTAKES["last_value"]
    if np.std(pred) < 0.2 * np.std(y):
        return RECALL_MISTAKES["constant"]
    return None


EXERCISES = [
    Exercise(
        "from_pytorch", target="from_pytorch", cases=_torch_cases,
        points=2, args=("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
        outputs=("kernel", "recurrent_kernel", "bias"),
        what="(kernel, recurrent_kernel, bias) for keras.layers.GRU(units, reset_after=True)",
        mistakes={
            "rz_order": "you kept PyTorch's order r, z, n: Keras packs the parts as z, r, h, so "
                        "swap the first two blocks.",
            "reshape": "you reshaped the weights instead of transposing them: reshape keeps the "
                       "memory order and scrambles the rows and columns; use .T.",
            "bias_rows_swapped": "your bias rows are the wrong way round: row 0 is the input "
                                 "bias (bias_ih), row 1 the recurrent bias (bias_hh).",
            "biases_summed": "you added the two biases into one row: with reset_after=True the "
                             "recurrent bias of the candidate sits inside the reset, "
                             "r * (h W_h + b'_h), so keep the two rows apart.",
            "negated_z": "you converted the update gate to the other convention: PyTorch mixes "
                         "h' = (1 - z) * n + z * h, the same convention as Keras, so the z part "
                         "is copied as it is.",
        },
    ),
    Exercise(
        "step_backward", target="gru_step_backward", cases=_backward_cases, rtol=1e-3,
        atol=1e-5, points=3, args=(*STEP_ARGS, "g"), outputs=("dL_dh_prev", "copy_part"),
        what="(dL/dh_prev, g * z_t), each of shape (batch, units)",
        mistakes={
            "copy_path_only": "your dL/dh_prev is only the copy path g * z: h_prev also reaches "
                              "h_t through the candidate and through both gates; take the "
                              "gradient of the whole step (e.g. with tf.GradientTape).",
            "swapped_z": "you mixed the states the other way round: in Keras's convention "
                         "h_t = z * h_prev + (1 - z) * h_tilde, so the copy path carries g * z.",
            "reset_before": "you applied the reset gate before the recurrent product, "
                            "(r * h_prev) @ W_h: with reset_after=True it multiplies the product, "
                            "r * (h_prev @ W_h + bias[1][h part]).",
            "no_upstream": "you took the gradient of sum(h_t), ignoring the upstream gradient g: "
                           "use L = sum(g * h_t).",
            "gates_constant": "you treated the gates z and r as constants: they depend on h_prev "
                              "too (through W_z and W_r), so their paths add to dL/dh_prev.",
        },
    ),
    Exercise(
        "masked_sequences", target="gru_last_state", cases=_masked_cases,
        points=2, args=("x", "lengths", "h0", "kernel", "recurrent_kernel", "bias"),
        outputs=("h_last",),
        what="each sequence's state after its own last step, shape (batch, units)",
        mistakes={
            "ignores_lengths": "you ran every sequence over all T steps: sequence i must stop "
                               "after its first lengths[i] steps (its state then stays fixed).",
            "length_zero": "a sequence of length 0 has taken no step: its state is h0 (did you "
                           "read states[lengths - 1], which wraps round to the last step?).",
            "zeroed": "your padded steps set the state to 0: a masked step keeps the previous "
                      "state unchanged (that is what Keras does with a mask).",
            "reset_after": "you applied the reset gate after the recurrent product; with "
                           "reset_after=False it multiplies the state first, (r * h_prev) @ W_h.",
            "rzh_order": "you read the packed parts in the order r, z, h: Keras packs them as "
                         "z, r, h.",
        },
    ),
    Exercise(
        "param_count", target="gru_params", cases=_param_cases, call=_call_params,
        points=1, args=("features", "units"),
        outputs=("the count with reset_after=True", "the count with reset_after=False"),
        what="the number of trainable parameters of keras.layers.GRU(units, reset_after=...)",
        mistakes={
            "ignores_reset_after": "your count ignores reset_after: with reset_after=True there "
                                   "is a second (recurrent) bias, 3*units more parameters.",
            "lstm_gates": "you counted four parts, as for an LSTM; a GRU has three (z, r, h).",
            "no_recurrent": "you left out the recurrent kernel, units x units for each part.",
            "bias_not_tripled": "you counted one bias vector of `units` (or two) in total; "
                                "each of the three parts has its own.",
        },
    ),
    Exercise(
        "update_bias", target="set_update_gate", cases=_update_gate_cases,
        points=2, args=("bias", "z_value"), outputs=("new_bias",),
        what="a new bias array with which the update gate is z_value at zero input and state",
        mistakes={
            "no_logit": "you set the bias to z_value itself: the gate is sigmoid(b_z), so the "
                        "bias is the inverse of the sigmoid, log(z / (1 - z)).",
            "both_rows": "you set the z part of BOTH bias rows, so the gate sees twice the bias: "
                         "put the bias in row 0 and 0 in row 1.",
            "reset_part": "you changed the second block of `units` columns, which is the reset "
                          "gate r; the update gate z comes first.",
            "other_convention": "your bias gives the gate 1 - z_value: in Keras's convention z "
                                "near 1 keeps the state, so b_z = log(z / (1 - z)), positive for "
                                "z > 0.5.",
            "first_axis": "you indexed the first axis ([:units]) of a 2-row bias, which sets "
                          "whole rows: index the last axis, bias[0, :units].",
        },
    ),
    TrainingExercise(
        "recall", target="train_and_recall", cases=_recall_cases,
        hidden_cases=_recall_hidden_cases, points=2, args=("X_train", "y_train", "X_new"),
        outputs=("predictions",), metric=mse_vs_zero, threshold=RECALL_THRESHOLD,
        metric_text="your predictions' MSE, as a multiple of the MSE of predicting 0,",
        metric_name="MSE / MSE of predicting 0", diagnose=_recall_diagnose,
        mistakes=RECALL_MISTAKES, time_limit=90, seeds=5, margin=0.1,
        what="the marked value of each sequence of X_new, shape (n,), from a model trained on "
             "X_train",
    ),
]
