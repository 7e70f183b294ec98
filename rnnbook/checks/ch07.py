"""Exercises of chapter 7, the LSTM (``solutions/07_lstm.ipynb``).

Conventions, as in the chapter: Keras packs the four blocks of an LSTM's weights along the last
axis in the order i (input gate), f (forget gate), c (candidate), o (output gate): ``kernel`` has
shape ``(features, 4*units)``, ``recurrent_kernel`` ``(units, 4*units)`` and ``bias``
``(4*units,)``.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise

CHAPTER = "07_lstm"


def _lstm_weights(rng, features, units, scale=0.5):
    kernel = rng.normal(scale=scale, size=(features, 4 * units)).astype("float32")
    recurrent = rng.normal(scale=scale, size=(units, 4 * units)).astype("float32")
    bias = rng.normal(scale=scale, size=(4 * units,)).astype("float32")
    return kernel, recurrent, bias


def _split_cases(rng):
    return {
        "kernel": (rng.normal(size=(3, 20)).astype("float32"),),
        "recurrent_kernel": (rng.normal(size=(5, 20)).astype("float32"),),
        "bias_1d": (rng.normal(size=(12,)).astype("float32"),),
        "one_unit": (rng.normal(size=(2, 4)).astype("float32"),),
        "one_feature": (rng.normal(size=(1, 8)).astype("float32"),),
    }


def _cell_step_cases(rng):
    cases = {}
    for name, (batch, features, units, zero) in {
        "batch_of_1": (1, 3, 4, False),
        "batch_of_5": (5, 2, 3, False),
        "zero_state": (4, 3, 2, True),
        "one_unit": (3, 2, 1, False),
        "one_feature": (2, 1, 5, False),
    }.items():
        x = rng.normal(size=(batch, features)).astype("float32")
        if zero:
            h = np.zeros((batch, units), "float32")
            c = np.zeros((batch, units), "float32")
        else:
            h = rng.normal(scale=0.5, size=(batch, units)).astype("float32")
            c = rng.normal(size=(batch, units)).astype("float32")
        cases[name] = (x, h, c, *_lstm_weights(rng, features, units))
    return cases


def _param_cases(rng):
    def n(lo=2, hi=65):
        return int(rng.integers(lo, hi))

    square = n()
    pairs = {"one_feature": (1, n()), "one_unit": (n(), 1), "features_equal_units": (square, square),
             "more_features": (n(65, 200), n(2, 20)), "more_units": (n(2, 20), n(65, 200)),
             "random": (n(), n())}
    return {name: (np.int64(f), np.int64(u)) for name, (f, u) in pairs.items()}


def _temperature_cases(rng):
    cases = {}
    for name, (batch, vocab, temperature) in {
        "batch_of_1_T_1": (1, 5, 1.0),
        "cold_T_0.25": (3, 6, 0.25),
        "warm_T_2": (4, 5, 2.0),
        "two_symbols_T_0.5": (2, 2, 0.5),
        "vocab_65_T_0.8": (2, 65, 0.8),
    }.items():
        logits = rng.normal(scale=2.0, size=(batch, vocab)).astype("float32")
        cases[name] = (logits, np.float32(temperature))
    return cases


def _forget_bias_cases(rng):
    pairs = {"one_step": (1, float(rng.uniform(0.2, 0.8))),
             "fifty_steps": (int(rng.integers(30, 80)), float(rng.uniform(0.3, 0.7))),
             "hundred_steps_most_kept": (int(rng.integers(90, 150)), float(rng.uniform(0.85, 0.95))),
             "ten_steps_little_kept": (int(rng.integers(5, 15)), float(rng.uniform(0.005, 0.02))),
             "random": (int(rng.integers(5, 200)), float(rng.uniform(0.05, 0.95)))}
    return {k: (np.int64(s), np.float64(p)) for k, (s, p) in pairs.items()}


def _cell_step_diagnose(args, got, expected):
    if len(got) != 2 or any(np.shape(g) != np.shape(e) for g, e in zip(got, expected)):
        return None
    h_ok = np.allclose(got[0], expected[0], rtol=1e-4, atol=1e-5)
    c_ok = np.allclose(got[1], expected[1], rtol=1e-4, atol=1e-5)
    if c_ok and not h_ok:
        return "your cell state c_t is right but h_t is not: h_t = o * tanh(c_t), o the output gate."
    if h_ok and not c_ok:
        return "your h_t is right but the c_t you return is not: return the new cell state."
    if np.allclose(got[0], expected[1], atol=1e-5) and np.allclose(got[1], expected[0], atol=1e-5):
        return "you returned (c_t, h_t): return the pair in the order (h_t, c_t)."
    return None


def _temperature_diagnose(args, got, expected):
    (g,), (e,) = got, expected
    if g.shape == e.shape and not np.allclose(np.asarray(g, "float64").sum(axis=-1), 1, atol=1e-4):
        return ("your rows do not each sum to 1: normalise every row over the vocabulary "
                "(sum over axis=-1 with keepdims=True).")
    return None


EXERCISES = [
    Exercise(
        "split_gates", target="split_gates", cases=_split_cases,
        points=1, args=("packed",), outputs=("i", "f", "c", "o"),
        what="(i, f, c, o): the four blocks of a packed Keras LSTM weight, last axis units",
        mistakes={
            "order_ifoc": "your blocks are in the order i, f, o, c: Keras packs i, f, c, o -- the "
                          "candidate c is the third block and the output gate o the last.",
            "order_icfo": "your blocks are in the order i, c, f, o (TensorFlow 1's LSTMCell "
                          "order): Keras 3 packs i, f, c, o.",
            "interleaved": "your blocks interleave the columns (reshape to (..., units, 4)): "
                           "each gate is a contiguous block of `units` columns, block k is "
                           "columns k*units to (k+1)*units.",
        },
    ),
    Exercise(
        "cell_step", target="lstm_cell_step", cases=_cell_step_cases, diagnose=_cell_step_diagnose,
        points=3, args=("x_t", "h_prev", "c_prev", "kernel", "recurrent_kernel", "bias"), outputs=("h_t", "c_t"),
        what="(h_t, c_t), each of shape (batch, units)",
        mistakes={
            "order_ifoc": "your gates are taken in the order i, f, o, c: Keras packs i, f, c, o.",
            "tanh_gate": "you applied tanh to the input gate: the three gates i, f, o use the "
                         "sigmoid (values in (0, 1)); only the candidate uses tanh.",
            "no_forget": "your cell state ignores the forget gate (c_t = c_prev + i*g): "
                         "multiply c_prev by f.",
            "one_minus_f": "you multiplied c_prev by (1 - f): in the LSTM f itself is the "
                           "fraction of the old cell state that is kept.",
            "h_from_c": "your h_t is o * c_t: the hidden state is o * tanh(c_t).",
        },
    ),
    Exercise(
        "param_count", target="lstm_params", cases=_param_cases,
        points=1, args=("features", "units"), outputs=(),
        what="the number of trainable parameters of keras.layers.LSTM(units) on `features` inputs",
        mistakes={
            "one_block": "you counted one block, as for a SimpleRNN: an LSTM has four (i, f, c, o).",
            "three_blocks": "you counted three blocks (the gates): the candidate c has its own "
                            "weights too, four blocks in all.",
            "no_bias": "you left out the biases: 4 * units of them.",
            "no_recurrent": "you left out the recurrent kernel (units x 4*units).",
        },
    ),
    Exercise(
        "temperature", target="softmax_with_temperature", cases=_temperature_cases,
        points=2, args=("logits", "temperature"), outputs=("probabilities",),
        diagnose=_temperature_diagnose,
        what="probabilities of shape (batch, vocab), each row summing to 1",
        mistakes={
            "times_T": "you multiplied the logits by the temperature: divide them by it "
                       "(a low temperature must sharpen the distribution).",
            "not_normalised": "your rows do not sum to 1: divide exp(logits / T) by its sum over "
                              "the vocabulary.",
            "no_temperature": "your output ignores the temperature: use softmax(logits / T).",
            "wrong_axis": "you normalised over the batch axis: normalise each row (axis=-1).",
        },
    ),
    Exercise(
        "forget_bias", target="forget_bias_for_memory", cases=_forget_bias_cases,
        points=2, args=("steps", "fraction"), outputs=(),
        what="the forget-gate bias b with sigmoid(b) ** steps == fraction",
        mistakes={
            "no_logit": "you returned the forget gate value f = fraction ** (1/steps): the bias "
                        "is its logit, log(f / (1 - f)), since f = sigmoid(b).",
            "no_root": "you returned logit(fraction): the fraction must survive `steps` "
                       "multiplications, so f = fraction ** (1 / steps) first.",
            "log_not_logit": "you returned log(f): the inverse of the sigmoid is the logit, "
                             "log(f / (1 - f)).",
        },
    ),
]
