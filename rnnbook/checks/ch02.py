"""Exercises of chapter 2, the recurrent neural network (``solutions/02_rnn.ipynb``).

The chapter itself writes the cell step, the forward loop, the linear read-out, the Keras layer
with the same weights and a many-to-one BPTT; the exercises ask for the variants it does not
show: the step with the lecture's (column) layout of the weights, the forward pass over padded
sequences, the parameters of a stack with an output layer, softmax read-outs, the Keras layer
from a given initial state, and BPTT for a loss on every step's output with the gradient with
respect to the initial state.
"""

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


def _state(rng, batch, units, zero):
    if zero:
        return np.zeros((batch, units), "float32")
    return rng.normal(size=(batch, units)).astype("float32")


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
        s = _state(rng, batch, units, zero)
        U, W, b = _weights(rng, features, units)
        cases[name] = (x, s, U.T.copy(), W, b)  # the lecture's layout: U is (units, features)
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
        cases[name] = (x, _state(rng, batch, units, zero), *_weights(rng, features, units))
    return cases


def _padded_cases(rng):
    """Padded sequences; in every case at least one sequence is shorter than the batch."""
    cases = {}
    for name, (batch, time, features, units, zero) in {
        "batch_of_1": (1, 5, 2, 3, True),
        "one_time_step": (3, 1, 2, 4, False),
        "zero_state": (2, 6, 3, 3, True),
        "longer": (4, 12, 2, 5, False),
        "empty_and_full": (3, 4, 2, 3, False),
    }.items():
        x = rng.normal(size=(batch, time, features)).astype("float32")
        lengths = rng.integers(2, max(time, 3), size=batch)  # 2 to time - 1 (when time > 2)
        if name == "one_time_step":
            lengths = np.array([1, 0, 1])
        elif name == "empty_and_full":
            lengths[:2] = 0, time  # an empty sequence and a full one
        elif name == "longer":
            lengths[0] = time
        x[np.arange(time) >= lengths[:, None]] = 0.0  # the padding is zeros, as usual
        cases[name] = (x, _state(rng, batch, units, zero), *_weights(rng, features, units),
                       lengths.astype("int64"))
    return cases


def _readout_cases(rng):
    cases = {}
    for name, args in _sequence_cases(rng).items():
        units = args[2].shape[1]
        outputs = 3 if name == "batch_of_1" else 2
        V = rng.normal(scale=0.5, size=(units, outputs)).astype("float32")
        c = rng.normal(scale=0.5, size=(outputs,)).astype("float32")
        cases[name] = (*args, V, c)
    return cases


def _param_cases(rng):
    def n(lo=2, hi=65):
        return int(rng.integers(lo, hi))

    square = n()
    cases = {  # (features, units, layers, outputs)
        "one_layer": (n(65, 200), n(), 1, n(1, 10)),
        "one_feature": (1, n(), 2, 1),
        "one_unit": (n(), 1, 3, n(1, 10)),
        "features_equal_units": (square, square, 2, n(1, 10)),
        "deep": (n(65, 200), n(), 4, n(1, 10)),
        "one_output": (n(2, 20), n(65, 200), 2, 1),
        "many_outputs": (n(65, 200), n(2, 20), 3, n(10, 100)),
        "random": (n(65, 200), n(), n(2, 6), n(1, 10)),
    }
    return {name: tuple(np.int64(v) for v in values) for name, values in cases.items()}


def _keras_cases(rng):
    """Sequences from given (nonzero) initial states, so that a layer started from zeros is
    told apart everywhere."""
    cases = {}
    for name, (batch, time, features, units) in {
        "batch_of_1": (1, 5, 2, 3),
        "one_time_step": (3, 1, 2, 4),
        "more_units_than_features": (2, 6, 3, 5),
        "longer": (4, 12, 2, 5),
    }.items():
        x = rng.normal(size=(batch, time, features)).astype("float32")
        cases[name] = (x, _state(rng, batch, units, False), *_weights(rng, features, units))
    return cases


def _bptt_cases(rng):
    cases = {}
    for name, (batch, time, features, units, outputs, zero) in {
        "three_steps": (2, 3, 2, 3, 1, False),
        "three_steps_zero_state": (3, 3, 2, 4, 2, True),
        "batch_of_1": (1, 3, 1, 3, 2, False),
        "one_step": (2, 1, 3, 2, 1, False),
        "longer": (4, 6, 2, 3, 1, False),
        "more_outputs": (3, 4, 3, 2, 3, False),
    }.items():
        x = rng.normal(size=(batch, time, features)).astype("float32")
        y = rng.normal(size=(batch, time, outputs)).astype("float32")
        s0 = _state(rng, batch, units, zero)
        U, W, b = _weights(rng, features, units)
        V = rng.normal(scale=0.5, size=(units, outputs)).astype("float32")
        c = rng.normal(scale=0.5, size=(outputs,)).astype("float32")
        cases[name] = (x, y, s0, U, W, b, V, c)
    return cases


def _reversed_time(args, got, expected):
    (g,), (e,) = got, expected
    if g.shape == e.shape and g.ndim == 3 and np.allclose(g[:, ::-1], e, atol=1e-5):
        return "your states come out in reverse time order -- s_t belongs at position t."
    return None


EXERCISES = [
    Exercise(
        "cell_step", target="rnn_cell_step", cases=_cell_step_cases, points=2,
        args=("x_t", "s_prev", "U", "W", "b"), outputs=("s_t",),
        what="the new states s_t, shape (batch, units), from weights in the lecture's layout",
        mistakes={
            "no_bias": "your output matches the reference without the bias b -- did you "
                       "forget it?",
            "no_recurrence": "your output ignores the previous state: add the recurrent term.",
            "W_not_transposed": "your output matches s_prev @ W: in the lecture's layout W[i, j] "
                                "goes from unit j to unit i, so with rows as examples the "
                                "recurrent term is s_prev @ W.T (the same holds for U).",
            "no_activation": "your output is the pre-activation: apply f = tanh.",
            "relu": "you used ReLU; the SimpleRNN cell here uses f = tanh.",
        },
    ),
    Exercise(
        "forward", target="rnn_forward", cases=_padded_cases, diagnose=_reversed_time,
        points=2, args=SEQ_ARGS + ("lengths",), outputs=("states",),
        what="all states, shape (batch, time, units), unchanged over each sequence's padding",
        mistakes={
            "reversed": "your states come out in reverse time order -- s_t belongs at position t.",
            "no_mask": "your states keep changing after a sequence's end: at a padded step "
                       "(t >= lengths[i]) the state of sequence i must stay as it was.",
            "zeros_after_end": "your states are zero after a sequence's end: keep the last real "
                               "state instead (s_t = s_{t-1} at padded steps), so that "
                               "states[:, -1] is each sequence's final state.",
            "one_step_short": "your sequences stop one step too early: step t is real when "
                              "t < lengths[i] (Python counts steps from 0).",
            "state_not_carried": "each step starts again from s0: feed the new state back in.",
        },
    ),
    Exercise(
        "param_count", target="rnn_stack_params", cases=_param_cases, points=1,
        args=("features", "units", "layers", "outputs"),
        what="the number of trainable parameters of the stack and its Dense output layer",
        mistakes={
            "no_bias": "you left out the bias of the recurrent layers: one per unit in each.",
            "same_inputs_every_layer": "you counted every recurrent layer as reading the "
                                       "`features` inputs; the layers above the first read "
                                       "the `units` states of the layer below.",
            "swapped": "you counted features x features instead of units x units for W.",
            "two_biases": "you counted two bias vectors per layer (PyTorch's nn.RNN has b_ih and "
                          "b_hh); keras.layers.SimpleRNN has one bias of `units` numbers.",
            "no_output_layer": "you left out the Dense output layer: units x outputs weights and "
                               "outputs biases.",
        },
    ),
    Exercise(
        "readout", target="rnn_readout", cases=_readout_cases, points=2,
        args=SEQ_ARGS + ("V", "c"), outputs=("p_all", "p_last"),
        what="(p_all, p_last): class probabilities at every step, and at the last step only",
        mistakes={
            "first_not_last": "your many-to-one output is the output at the first step; "
                              "a many-to-one model reads the last one.",
            "no_output_bias": "your outputs match the reference without the output bias c.",
            "no_softmax": "your outputs are the logits s_t V + c: apply the softmax over the "
                          "classes so that each output sums to 1.",
            "tanh_output": "you applied tanh to the outputs; here g is the softmax over the "
                           "classes.",
            "softmax_over_time": "your softmax runs over the time axis: normalise over the "
                                 "classes, the last axis (axis=-1).",
            "softmax_over_batch": "your softmax runs over the batch axis: normalise over the "
                                  "classes, the last axis (axis=-1).",
        },
    ),
    Exercise(
        "keras_forward", target="keras_rnn_forward", cases=_keras_cases, points=2,
        args=SEQ_ARGS, outputs=("states", "s_T"),
        what="(states, s_T) from keras.layers.SimpleRNN started from s0",
        mistakes={
            "zero_initial_state": "your states match a layer started from zeros: pass the given "
                                  "states with layer(x, initial_state=s0).",
            "go_backwards": "you set go_backwards=True: this reads the sequence from the end.",
            "transposed_W": "your states match a layer given W.T as its recurrent_kernel -- pass "
                            "the weights as set_weights([U, W, b]), without transposing.",
            "no_bias": "your states match the reference without the bias b: keep use_bias=True "
                       "and pass b as the third weight.",
        },
    ),
    Exercise(
        "bptt", target="rnn_bptt", cases=_bptt_cases, points=3,
        args=("x", "y", "s0", "U", "W", "b", "V", "c"),
        outputs=("dU", "dW", "db", "dV", "dc", "ds0"),
        what="the gradients (dU, dW, db, dV, dc, ds0) of the loss summed over every step",
        mistakes={
            "no_tanh_derivative": "your gradients miss the tanh derivative: multiply what "
                                  "reaches s_t by 1 - s_t**2 to get delta_t at the net input.",
            "no_carry": "your delta_t has only the local term of step t: add what delta_{t+1} "
                        "sends back through W (delta_{t+1} @ W.T) before the tanh derivative.",
            "transposed_W": "you carried delta back with delta @ W; with rows as examples "
                            "a_{t+1} = ... + s_t W, so dL/ds_t gets delta_{t+1} @ W.T.",
            "current_state_in_dW": "your dW pairs delta_t with s_t; W multiplied s_{t-1} at step "
                                   "t, so its share is s_{t-1}.T @ delta_t (s_0 at the first "
                                   "step).",
            "last_step_only": "your gradients are those of the last step's loss only (the "
                              "chapter's many-to-one loss); here every step's output has a "
                              "target and adds its error.",
            "first_step_skipped": "your backward loop stops one step early: the first step, "
                                  "t = 1 (x[:, 0] and s_0), adds its share too, and ds0 is what "
                                  "delta_1 sends back through W.",
            "derivative_wrong_step": "your tanh derivative uses the state of the step before, "
                                     "1 - s_{t-1}**2; delta_t needs 1 - s_t**2, the state that "
                                     "step t produced.",
        },
    ),
]
