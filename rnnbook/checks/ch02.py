"""Exercises of chapter 2, the recurrent neural network (``solutions/02_rnn.ipynb``)."""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise

CHAPTER = "02_rnn"
SEQ_ARGS = ("x", "s0", "U", "W", "b")


def _weights(rng, features, units, scale=0.5):
    U = rng.normal(scale=scale, size=(features, units)).astype("float32")
    W = rng.normal(scale=scale, size=(units, units)).astype("float32")
    b = rng.normal(scale=scale, size=(units,)).astype("float32")
    return U, W, b


def _cell_step_cases(rng):
    cases = {}
    for name, (batch, features, units, zero) in {
        "batch_of_1": (1, 3, 4, False),
        "batch_of_5": (5, 2, 3, False),
        "zero_state": (4, 3, 2, True),
        "one_unit": (3, 2, 1, False),
        "wide": (2, 6, 5, False),
        "more_units_than_features": (3, 2, 4, False),
        "square_weights": (4, 3, 3, False),
        "batch_of_2": (2, 4, 2, False),
    }.items():
        x = rng.normal(size=(batch, features)).astype("float32")
        s = np.zeros((batch, units), "float32") if zero else rng.normal(size=(batch, units)).astype("float32")
        cases[name] = (x, s, *_weights(rng, features, units))
    return cases


def _sequence_cases(rng):
    cases = {}
    for name, (batch, time, features, units, zero) in {
        "batch_of_1": (1, 5, 2, 3, True),
        "one_time_step": (3, 1, 2, 4, False),
        "zero_state": (2, 6, 3, 3, True),
        "longer": (4, 12, 2, 5, False),
    }.items():
        x = rng.normal(size=(batch, time, features)).astype("float32")
        s0 = np.zeros((batch, units), "float32") if zero else rng.normal(size=(batch, units)).astype("float32")
        cases[name] = (x, s0, *_weights(rng, features, units))
    return cases


def _readout_cases(rng):
    cases = {}
    for name, args in _sequence_cases(rng).items():
        units = args[2].shape[1]
        outputs = 1 if name == "batch_of_1" else 2
        V = rng.normal(scale=0.5, size=(units, outputs)).astype("float32")
        c = rng.normal(scale=0.5, size=(outputs,)).astype("float32")
        cases[name] = (*args, V, c)
    return cases


def _param_cases(rng):
    def n(lo=2, hi=65):
        return int(rng.integers(lo, hi))

    square = n()
    pairs = {"one_feature": (1, n()), "one_unit": (n(), 1), "features_equal_units": (square, square),
             "more_features": (n(65, 200), n(2, 20)), "more_units": (n(2, 20), n(65, 200)),
             "random": (n(), n())}
    return {name: (np.int64(f), np.int64(u)) for name, (f, u) in pairs.items()}


def _keras_cases(rng):
    return {k: (v[0], *v[2:]) for k, v in _sequence_cases(rng).items()}  # no initial state


def _reversed_time(args, got, expected):
    (g,), (e,) = got, expected
    if g.shape == e.shape and g.ndim == 3 and np.allclose(g[:, ::-1], e, atol=1e-5):
        return "your states come out in reverse time order -- s_t belongs at position t."
    return None


EXERCISES = [
    Exercise(
        "cell_step", target="rnn_cell_step", cases=_cell_step_cases, points=2,
        args=("x_t", "s_prev", "U", "W", "b"), outputs=("s_t",),
        what="the new state s_t, shape (batch, units)",
        mistakes={
            "no_bias": "your output matches the reference without the bias b -- did you forget it?",
            "no_recurrence": "your output ignores the previous state: add s_prev @ W.",
            "transposed_W": "your output matches s_prev @ W.T -- with batch-major rows the "
                            "recurrent term is s_prev @ W (W has shape (units, units)).",
            "no_activation": "your output is the pre-activation: apply f = tanh.",
            "relu": "you used ReLU; the SimpleRNN cell here uses f = tanh.",
        },
    ),
    Exercise(
        "forward", target="rnn_forward", cases=_sequence_cases, diagnose=_reversed_time,
        points=2, args=SEQ_ARGS, outputs=("states",),
        what="all states, shape (batch, time, units)",
        mistakes={
            "reversed": "your states come out in reverse time order -- s_t belongs at position t.",
            "includes_s0": "your states are shifted by one step: the first entry should be s_1 "
                           "(after reading x_1), not the initial state s_0.",
            "state_not_carried": "each step starts again from s0: feed the new state back in.",
            "no_bias": "your states match the reference without the bias b -- did you forget it?",
        },
    ),
    Exercise(
        "param_count", target="simple_rnn_params", cases=_param_cases, points=1,
        args=("features", "units"),
        what="the number of trainable parameters of SimpleRNN(units) on `features` inputs",
        mistakes={
            "no_bias": "you left out the bias: one per unit.",
            "no_recurrent": "you left out the recurrent matrix W (units x units).",
            "swapped": "you counted features x features instead of units x units for W.",
            "two_biases": "you counted two bias vectors (PyTorch's nn.RNN has b_ih and b_hh); "
                          "keras.layers.SimpleRNN has one bias of `units` numbers.",
        },
    ),
    Exercise(
        "readout", target="rnn_readout", cases=_readout_cases, points=2,
        args=SEQ_ARGS + ("V", "c"), outputs=("o_all", "o_last"),
        what="(o_all, o_last): outputs at every step, and at the last step only",
        mistakes={
            "first_not_last": "your many-to-one output is the output at the first step; "
                              "a many-to-one model reads the last one.",
            "no_output_bias": "your outputs match the reference without the output bias c.",
            "tanh_output": "you applied tanh to the outputs; here g is the identity (regression).",
        },
    ),
    Exercise(
        "keras_forward", target="keras_rnn_forward", cases=_keras_cases, points=2,
        args=("x", "U", "W", "b"), outputs=("states",),
        what="all states from keras.layers.SimpleRNN, shape (batch, time, units)",
        mistakes={
            "last_only": "you returned only the last state: set return_sequences=True.",
            "go_backwards": "you set go_backwards=True: this reads the sequence from the end.",
            "transposed_W": "your states match a layer given W.T as its recurrent_kernel -- pass "
                            "the weights as set_weights([U, W, b]), without transposing.",
            "no_bias": "your states match the reference without the bias b: keep use_bias=True "
                       "and pass b as the third weight.",
        },
    ),
]
