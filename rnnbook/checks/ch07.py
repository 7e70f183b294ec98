"""Exercises of chapter 7, the LSTM (``solutions/07_lstm.ipynb``).

Conventions, as in the chapter: Keras packs the four blocks of an LSTM's weights along the last
axis in the order i (input gate), f (forget gate), c (candidate), o (output gate): ``kernel`` has
shape ``(features, 4*units)``, ``recurrent_kernel`` ``(units, 4*units)`` and ``bias``
``(4*units,)``.

Exercise 7.5 is a *training exercise* (:class:`~rnnbook.checks.core.TrainingExercise`): the
student trains an LSTM on the chapter's long-range memory task and predicts the class of new
sequences; it passes when the error rate is far below chance. Every case, visible or hidden, is
drawn at random (the grader's from the secret seed), and which class goes with which first
symbol is a permutation drawn per case, so the answers cannot be looked up.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise, TrainingExercise

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


def _cell_path_cases(rng):
    cases = {}
    for name, (batch, time, units, centre, spread) in {
        "batch_of_1": (1, 6, 3, 1.0, 2.0),
        "one_step": (2, 1, 4, 1.0, 2.0),
        "one_unit": (3, 8, 1, 1.0, 2.0),
        "open_gates": (2, 30, 3, 5.0, 1.0),
        "closing_gates": (2, 10, 2, -1.0, 1.5),
        "typical": (4, 12, 5, 1.0, 1.5),
    }.items():
        net = rng.normal(centre, spread, size=(batch, time, units))
        cases[name] = (net.astype("float32"),)
    return cases


def _cell_path_diagnose(args, got, expected):
    (g,), (e,) = got, expected
    g = np.asarray(g)
    batch, time, units = np.shape(args[0])
    if g.shape == (batch, time - 1, units):
        return ("you returned one gain too few along time: include k = T-1, the last step, "
                "whose gain is 1 (an empty product).")
    if g.shape == (time, batch, units):
        return "your axes are (time, batch, units): return (batch, time, units), like the input."
    if g.shape == e.shape and np.nanmax(np.asarray(g, "float64")) > 1 + 1e-4:
        return ("some of your gains exceed 1: each is a product of forget gates, numbers in "
                "(0, 1), so it can only shrink as k moves back in time.")
    return None


def _sampling_cases(rng):
    cases = {}
    for name, (batch, vocab, temperature, top_k) in {
        "batch_of_1_all_kept": (1, 5, 1.5, 5),
        "cold_T_0.5_top_4": (3, 6, 0.5, 4),
        "warm_T_2_top_2": (4, 5, 2.0, 2),
        "top_1_is_the_argmax": (2, 4, 0.7, 1),
        "three_symbols_T_3_top_2": (2, 3, 3.0, 2),
        "hot_T_5_top_4": (3, 10, 5.0, 4),
        "vocab_65_T_0.8_top_5": (2, 65, 0.8, 5),
    }.items():
        logits = rng.normal(scale=2.0, size=(batch, vocab)).astype("float32")
        cases[name] = (logits, np.float32(temperature), np.int64(top_k))
    return cases


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _span_cases(rng):
    """The fraction is often set so that the exact span, log(fraction) / log(f), lies between
    k + 0.55 and k + 0.95 for a whole k: then rounding up, and rounding to the nearest, both
    differ from rounding down."""
    def between_steps(bias):
        return _sigmoid(bias) ** (rng.integers(1, 40) + rng.uniform(0.55, 0.95))

    one = rng.uniform(1.0, 4.0, size=1)
    default = 1.0 + rng.normal(scale=1e-3, size=3)
    zero = rng.normal(scale=1e-3, size=4)
    low = rng.uniform(0.0, 1.5, size=3)
    cases = {
        "one_unit": (one, between_steps(one[0])),
        "default_bias_1": (default, between_steps(default.max())),
        "zero_bias_halves": (zero, between_steps(zero.max())),
        "high_fraction_span_0": (low, _sigmoid(low.max()) ** rng.uniform(0.55, 0.95)),
        "chrono_range": (rng.uniform(2.0, 6.0, size=6), rng.uniform(0.3, 0.7)),
        "negative_biases": (rng.uniform(-2.0, -0.5, size=5), rng.uniform(0.001, 0.01)),
    }
    return {k: (b.astype("float64"), np.float64(r)) for k, (b, r) in cases.items()}


def _cell_step_diagnose(args, got, expected):
    if len(got) != 2 or any(np.shape(g) != np.shape(e) for g, e in zip(got, expected)):
        return None
    h_ok = np.allclose(got[0], expected[0], rtol=1e-4, atol=1e-5)
    c_ok = np.allclose(got[1], expected[1], rtol=1e-4, atol=1e-5)
    if c_ok and not h_ok:
        return ("your cell state c_t is right but h_t is not: h_t = o * tanh(c_t), o the output "
                "gate.")
    if h_ok and not c_ok:
        return "your h_t is right but the c_t you return is not: return the new cell state."
    if np.allclose(got[0], expected[1], atol=1e-5) and np.allclose(got[1], expected[0], atol=1e-5):
        return "you returned (c_t, h_t): return the pair in the order (h_t, c_t)."
    return None


def _sampling_diagnose(args, got, expected):
    (g,), (e,) = got, expected
    if g.shape != e.shape:
        return None
    g = np.asarray(g, "float64")
    if not np.allclose(g.sum(axis=-1), 1, atol=1e-4):
        return ("your rows do not each sum to 1: after keeping the k largest logits, normalise "
                "every row over the vocabulary (sum over axis=-1 with keepdims=True).")
    if np.any((g > 1e-12).sum(axis=-1) > int(args[2])):
        return "some of your rows keep more than `top_k` characters: zero all the others."
    return None


def _span_diagnose(args, got, expected):
    (g,), (e,) = got, expected
    g = np.asarray(g, "float64")
    if g.shape == e.shape and np.all(np.isfinite(g)) and np.any(g != np.floor(g)):
        return ("your spans are not whole numbers: a span counts whole steps, the largest "
                "integer k with sigmoid(b)**k >= fraction (np.floor).")
    return None


# ---- 7.5: train an LSTM that remembers (a training exercise) ----------------------------------

SYMBOLS = 4  # symbols shown at step 0, and distractor symbols after it
N_TRAIN, N_NEW = 2000, 400  # sequences to train on, sequences to predict


def memory_task(n: int, steps: int, classes, rng: np.random.Generator):
    """The chapter's first-symbol task: ``x`` (n, steps, 2*SYMBOLS) and the class of each
    sequence, ``classes[symbol shown at step 0]``. At step 0 one of SYMBOLS symbols is shown
    (one-hot in channels 0-3); at every later step a random distractor (channels 4-7)."""
    symbol = rng.integers(0, SYMBOLS, n)
    x = np.zeros((n, steps, 2 * SYMBOLS), "float32")
    x[np.arange(n), 0, symbol] = 1
    distractors = rng.integers(0, SYMBOLS, (n, steps - 1))
    x[np.arange(n)[:, None], np.arange(1, steps), SYMBOLS + distractors] = 1
    return x, np.asarray(classes)[symbol].astype("int64")


def memory_case(rng: np.random.Generator, steps: int) -> tuple[tuple, np.ndarray]:
    """``((x_train, y_train, x_new), y_new)``, with its own symbol-to-class permutation."""
    classes = rng.permutation(SYMBOLS)
    x_train, y_train = memory_task(N_TRAIN, steps, classes, rng)
    x_new, y_new = memory_task(N_NEW, steps, classes, rng)
    return (x_train, y_train, x_new), y_new


def _memory_cases(rng):
    return {"lag_100": memory_case(rng, 100)}


def _memory_hidden_cases(rng):
    return {"lag_100": memory_case(rng, 100), "lag_120": memory_case(rng, 120)}


def error_rate(args, predictions, targets) -> float:
    """The share of sequences whose class is predicted wrong (chance: 3/4)."""
    return float(np.mean(np.asarray(predictions) != np.asarray(targets[0])))


MEMORY_THRESHOLD = 0.4
MEMORY_MISTAKES = {
    "probabilities": "you returned one row of class probabilities per sequence, shape (n, 4): "
                     "return the predicted class, an integer per sequence, shape (n,) (e.g. "
                     "`model.predict(x_new, verbose=0).argmax(axis=-1)`).",
    "every_step": "you returned a prediction for every time step (return_sequences=True?): the "
                  "class is read once, after the last step -- one prediction per sequence, "
                  "shape (n,).",
    "constant": "your predictions are one and the same class for every sequence: the model has "
                "not learned to carry the first symbol to the end. With Keras's default forget "
                "bias of 1 the cell keeps sigmoid(1)**T of its state over T steps, next to "
                "nothing: set the forget bias so that a good part survives the whole sequence "
                "(the chapter's chrono bias), then train a few epochs.",
    "chance": "your predictions are no better than guessing: the model has not learned to carry "
              "the first symbol over the sequence. With Keras's default forget bias of 1 the "
              "cell keeps sigmoid(1)**T of its state over T steps: set the forget bias so that "
              "a good part survives the whole sequence (the chapter's chrono bias), then train a "
              "few epochs.",
}


def _memory_diagnose(args, got, expected):
    """Name a known mistake from the predictions (no numbers: this runs on hidden cases too)."""
    (pred,), (y,) = got, expected
    pred = np.asarray(pred)
    n, steps = np.shape(args[2])[:2]
    if pred.shape == (n, SYMBOLS):
        return MEMORY_MISTAKES["probabilities"]
    if pred.shape in ((n, steps), (n, steps, SYMBOLS)):
        return MEMORY_MISTAKES["every_step"]
    if pred.shape != y.shape or not np.all(np.isfinite(pred.astype("float64"))):
        return None
    if len(np.unique(pred)) == 1:
        return MEMORY_MISTAKES["constant"]
    if error_rate(args, pred, (y,)) > 0.6:  # chance is 0.75
        return MEMORY_MISTAKES["chance"]
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
        "cell_step", target="lstm_cell_step", cases=_cell_step_cases,
        diagnose=_cell_step_diagnose, points=3,
        args=("x_t", "h_prev", "c_prev", "kernel", "recurrent_kernel", "bias"),
        outputs=("h_t", "c_t"),
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
        "cell_path", target="cell_path_gain", cases=_cell_path_cases,
        diagnose=_cell_path_diagnose, points=3, args=("forget_net",), outputs=("gain",),
        what="the gain d c_{T-1} / d c_k along the cell path, shape (batch, time, units)",
        mistakes={
            "includes_f_k": "your product includes f_k itself, one gate too many: c_k reaches "
                            "c_{T-1} through the gates of the later steps only, f_{k+1} ... "
                            "f_{T-1} (the gain at k = T-1 is 1).",
            "from_the_start": "you multiplied the gates from the start of the sequence "
                              "(f_0 ... f_k): the gain of c_k is the product of the gates "
                              "*after* step k, up to the last step -- accumulate from the end.",
            "sum": "you added the forget gates: along the cell path each step *multiplies* the "
                   "gradient by f_t, so the gain is a product.",
            "no_sigmoid": "you multiplied the net inputs themselves: the forget gate is "
                          "f_t = sigmoid(net input); apply the sigmoid first.",
            "over_units": "you took the product over the units axis: each unit has its own cell "
                          "path; multiply over time (axis 1), unit by unit.",
            "lag_order": "your gains are in the order of the lag (the last step first), as the "
                         "chapter's `cell_path_alone`: return them in time order, gain[:, k] "
                         "for step k.",
        },
    ),
    Exercise(
        "memory_span", target="memory_span", cases=_span_cases, diagnose=_span_diagnose,
        points=2, args=("forget_bias", "fraction"), outputs=("span",),
        what="for each unit, the largest whole number of steps k with sigmoid(b)**k >= fraction",
        mistakes={
            "ceil": "your spans are one step too long: you rounded up, which gives the first "
                    "step at which less than `fraction` is left. The span is the last step at "
                    "which at least `fraction` is left: round down (np.floor).",
            "round": "you rounded to the nearest integer: the span is the last whole step at "
                     "which at least `fraction` is left, so round down (np.floor).",
            "no_sigmoid": "you used the bias itself as the forget gate: the gate is "
                          "f = sigmoid(b), and f**k >= fraction gives k <= log(fraction) / "
                          "log(f).",
            "inverted": "your ratio is upside down: f**k >= fraction gives "
                        "k <= log(fraction) / log(f), with f = sigmoid(b).",
        },
    ),
    TrainingExercise(
        "memory", target="train_and_predict_memory", cases=_memory_cases,
        hidden_cases=_memory_hidden_cases, points=3, args=("x_train", "y_train", "x_new"),
        outputs=("predictions",), metric=error_rate, threshold=MEMORY_THRESHOLD,
        metric_text="the error rate of your predictions", metric_name="error rate",
        diagnose=_memory_diagnose, mistakes=MEMORY_MISTAKES, time_limit=60, seeds=5, margin=0.1,
        what="the predicted class of each sequence of x_new, shape (n,)",
    ),
    Exercise(
        "sampling", target="sampling_probabilities", cases=_sampling_cases,
        points=2, args=("logits", "temperature", "top_k"), outputs=("probabilities",),
        diagnose=_sampling_diagnose,
        what="probabilities of shape (batch, vocab): top-k of logits / T, each row summing to 1",
        mistakes={
            "times_T": "you multiplied the logits by the temperature: divide them by it "
                       "(a low temperature must sharpen the distribution).",
            "not_renormalised": "you took the softmax of all the logits and then zeroed the "
                                "others: the k kept probabilities must be renormalised to sum "
                                "to 1 (or set the dropped logits to -inf before the softmax).",
            "smallest_k": "you kept the k *smallest* logits: np.argsort sorts in increasing "
                          "order, so the k largest are the last k indices.",
            "no_temperature": "your output ignores the temperature: use the logits / T.",
            "k_plus_one": "you kept one character too many (k + 1): keep exactly the `top_k` "
                          "largest logits of each row.",
        },
    ),
]
