"""Exercises of chapter 8, the gated recurrent unit (``solutions/08_gru.ipynb``).

Weights are in Keras's packed layout: ``kernel`` (features, 3*units), ``recurrent_kernel``
(units, 3*units) with the parts in the order z, r, h along the last axis, and ``bias`` of shape
(2, 3*units) for ``reset_after=True`` (row 0 the input bias, row 1 the recurrent bias) or
(3*units,) for ``reset_after=False``.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise

CHAPTER = "08_gru"
STEP_ARGS = ("x_t", "h_prev", "kernel", "recurrent_kernel", "bias")


def _normal(rng, shape, scale=1.0):
    return rng.normal(scale=scale, size=shape).astype("float32")


def _unpack_cases(rng):
    return {
        "kernel": (_normal(rng, (3, 12)),),
        "recurrent_kernel": (_normal(rng, (4, 12)),),
        "bias_reset_after": (_normal(rng, (2, 12)),),
        "bias_reset_before": (_normal(rng, (9,)),),
        "one_unit": (_normal(rng, (2, 3)),),
        "one_feature": (_normal(rng, (1, 6)),),
    }


def _step_cases(rng, reset_after: bool):
    cases = {}
    for name, (batch, features, units, zero) in {
        "batch_of_1": (1, 3, 4, False),
        "batch_of_5": (5, 2, 3, False),
        "zero_state": (4, 3, 2, True),
        "one_unit": (3, 2, 1, False),
        "one_feature": (2, 1, 3, False),
        "wide": (2, 6, 5, False),
        "more_units": (3, 2, 4, False),
        "square": (2, 3, 3, False),
    }.items():
        x = _normal(rng, (batch, features))
        h = np.zeros((batch, units), "float32") if zero else _normal(rng, (batch, units), 0.8)
        kernel = _normal(rng, (features, 3 * units), 0.6)
        recurrent = _normal(rng, (units, 3 * units), 0.6)
        bias = _normal(rng, (2, 3 * units) if reset_after else (3 * units,), 0.6)
        cases[name] = (x, h, kernel, recurrent, bias)
    return cases


def _param_cases(rng):
    def n(lo=2, hi=65):
        return int(rng.integers(lo, hi))

    square = n()
    pairs = {"one_feature": (1, n()), "one_unit": (n(), 1), "features_equal_units": (square, square),
             "more_features": (n(65, 200), n(2, 20)), "more_units": (n(2, 20), n(65, 200)),
             "random": (n(), n())}
    return {name: (np.int64(f), np.int64(u)) for name, (f, u) in pairs.items()}


def _call_params(fn, a):
    """Each case counts both variants: reset_after=True (Keras's default), then False."""
    return tuple(fn(int(a[0]), int(a[1]), after) for after in (True, False))


def _update_bias_cases(rng):
    return {
        "reset_after_keep": (_normal(rng, (2, 12)), np.float32(3.0)),
        "reset_after_forget": (_normal(rng, (2, 6)), np.float32(-2.5)),
        "reset_after_one_unit": (_normal(rng, (2, 3)), np.float32(4.0)),
        "reset_before": (_normal(rng, (9,)), np.float32(5.0)),
        "zero_value": (_normal(rng, (2, 9)), np.float32(0.0)),
        "reset_after_two_units": (_normal(rng, (2, 6)), np.float32(rng.uniform(-5, 5))),
        "reset_after_random": (_normal(rng, (2, 15)), np.float32(rng.uniform(-5, 5))),
        "reset_after_large": (_normal(rng, (2, 30)), np.float32(rng.uniform(5, 10))),
    }


_STEP_MISTAKES = {
    "swapped_z": "you mixed the states the other way round: in Keras's convention "
                 "h_t = z * h_prev + (1 - z) * h_tilde (z near 1 keeps the old state).",
    "rzh_order": "you read the packed parts in the order r, z, h: Keras packs them as z, r, h "
                 "(the first `units` columns belong to the update gate z).",
    "tanh_gates": "your gates use tanh; z and r are sigmoids (values between 0 and 1).",
}

STEP_AFTER_MISTAKES = {
    **_STEP_MISTAKES,
    "reset_before": "you applied the reset gate before the recurrent product, (r * h_prev) @ W_h: "
                    "with reset_after=True it multiplies the product, r * (h_prev @ W_h + b_rec_h).",
    "no_recurrent_bias": "your output matches the reference without the recurrent bias bias[1]: "
                         "with reset_after=True add bias[1] to the recurrent products too.",
    "bias_outside_reset": "you added the recurrent candidate bias outside the reset: it belongs "
                          "inside, r * (h_prev @ W_h + bias[1][h part]).",
}

STEP_BEFORE_MISTAKES = {
    **_STEP_MISTAKES,
    "reset_after": "you applied the reset gate after the recurrent product, r * (h_prev @ W_h): "
                   "with reset_after=False it multiplies the state first, (r * h_prev) @ W_h.",
    "no_reset": "your candidate ignores the reset gate: use (r * h_prev) @ W_h.",
}


EXERCISES = [
    Exercise(
        "unpack_gates", target="unpack_gates", cases=_unpack_cases,
        points=1, args=("packed",), outputs=("z_part", "r_part", "h_part"),
        what="(z_part, r_part, h_part), each with the last axis of length units",
        mistakes={
            "rzh_order": "you returned the parts in the order r, z, h: Keras packs them as z, r, h.",
            "first_axis": "you split the first axis (the rows); the gates are packed along the "
                          "LAST axis: use packed[..., :units] or np.split(packed, 3, axis=-1).",
            "interleaved": "you took every third column: the gates are not interleaved, each "
                           "gate is one contiguous block of `units` columns.",
            "transposed": "your parts are transposed: Keras's kernel is (features, 3*units) and "
                          "each part keeps that layout, (features, units) -- no .T needed "
                          "(PyTorch stacks its gates along the first axis instead).",
        },
    ),
    Exercise(
        "step_reset_after", target="gru_step_after", cases=lambda rng: _step_cases(rng, True),
        points=3, args=STEP_ARGS, outputs=("h_t",),
        what="the new state h_t, shape (batch, units)", mistakes=STEP_AFTER_MISTAKES,
    ),
    Exercise(
        "step_reset_before", target="gru_step_before", cases=lambda rng: _step_cases(rng, False),
        points=2, args=STEP_ARGS, outputs=("h_t",),
        what="the new state h_t, shape (batch, units)", mistakes=STEP_BEFORE_MISTAKES,
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
        "update_bias", target="set_update_bias", cases=_update_bias_cases,
        points=2, args=("bias", "value"), outputs=("new_bias",),
        what="a new bias array whose update-gate bias totals `value`",
        mistakes={
            "input_row_only": "you set the z part of the input bias row but left the recurrent "
                              "row's z part: with reset_after=True both rows are added, so set "
                              "bias[1, :units] to 0.",
            "both_rows": "you set the z part of BOTH bias rows to value, so the total z bias is "
                         "2 * value: put value in row 0 and 0 in row 1.",
            "reset_part": "you changed the second block of `units` columns, which is the reset "
                          "gate r; the update gate z comes first.",
            "first_axis": "you indexed the first axis ([:units]) of a 2-row bias, which sets "
                          "whole rows: index the last axis, bias[0, :units].",
        },
    ),
]
