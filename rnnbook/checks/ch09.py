"""Exercises of chapter 9, the IRNN (``solutions/09_irnn.ipynb``)."""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise, TrainingExercise

CHAPTER = "09_irnn"


# ---- 9.1: the IRNN layer of the paper --------------------------------------------------------

def _irnn_layer_cases(rng):
    cases = {}
    for name, (units, gain, sigma, batch, time, features) in {
        "batch_of_1": (3, 1.0, 0.001, 1, 5, 2),
        "one_time_step": (4, 0.01, 0.01, 3, 1, 2),
        "scaled_identity": (5, 0.5, 0.5, 2, 6, 3),
        "one_unit": (1, 1.0, 0.2, 2, 4, 2),
    }.items():
        gain = float(np.round(gain * rng.uniform(0.5, 1.0), 3))
        x = rng.normal(size=(batch, time, features)).astype("float32")
        U = rng.normal(scale=0.5, size=(features, units)).astype("float32")
        cases[name] = (np.int64(units), np.float64(gain), np.float64(sigma), x, U)
    return cases


def _call_irnn_layer(fn, args):
    """Build the student's layer; return its recurrent kernel, bias, output and kernel spread.

    The output is computed after replacing the (random) input kernel by the case's ``U``, so that
    it is deterministic; the spread of a freshly initialised kernel is returned as
    ``round(std / sigma, 1)`` of a large kernel (1.0 for ``RandomNormal(stddev=sigma)``).
    """
    import keras

    units, gain, sigma, x, U = int(args[0]), float(args[1]), float(args[2]), args[3], args[4]
    keras.utils.set_random_seed(0)
    layer = fn(units, gain, sigma)
    if not isinstance(layer, keras.layers.Layer):
        raise TypeError(f"irnn_layer must return a Keras layer, got {type(layer).__name__}")
    layer.build((None, None, x.shape[-1]))
    weights = layer.get_weights()
    if len(weights) < 2:
        raise ValueError("expected a recurrent layer with a kernel and a recurrent kernel")
    recurrent = weights[1]
    bias = weights[2] if len(weights) > 2 else np.zeros(units, "float32")
    layer.set_weights([U, recurrent, *weights[2:]])
    output = keras.ops.convert_to_numpy(layer(x))
    wide = fn(units, gain, sigma)
    wide.build((None, None, max(400, 40_000 // units)))
    spread = np.round(float(np.std(wide.get_weights()[0])) / sigma, 1)
    return recurrent, bias, output, spread


def _diagnose_irnn_layer(args, got, expected):
    """Name the part of the layer that is off when no stored mistake explains the output."""
    if len(got) != 4:
        return None
    recurrent, bias, output, spread = got
    if recurrent.shape == expected[0].shape and not np.allclose(recurrent, expected[0], atol=1e-6):
        return ("your recurrent kernel is not gain * I: use "
                "keras.initializers.Identity(gain=gain) as the recurrent_initializer.")
    if bias.shape == expected[1].shape and np.abs(bias).max() > 0:
        return "your bias does not start at zero: keep the default bias_initializer=\"zeros\"."
    if output.ndim != 3:
        return "your layer does not return every step: set return_sequences=True."
    if output.shape == expected[2].shape and output.min() < 0:
        return ("your layer outputs negative values, which ReLU units cannot: "
                "activation=\"relu\".")
    if spread.shape == () and float(spread) != float(expected[3]):
        return ("the spread of your input kernel is not sigma: draw it with "
                "keras.initializers.RandomNormal(stddev=sigma) (not truncated, not uniform, "
                "not Keras's default).")
    return None


# ---- 9.2: adding-problem data ------------------------------------------------------------------

def _adding_cases(rng):
    cases = {}
    for name, (n, T) in {"batch_of_1": (1, 6), "three_steps": (4, 3),
                         "markers_at_the_ends": (4, 8), "typical": (5, 20),
                         "adjacent_markers": (4, 10), "long": (3, 50), "many_rows": (12, 6),
                         "random": (int(rng.integers(2, 8)), 15)}.items():
        values = rng.uniform(size=(n, T))
        if name == "three_steps":  # two of the three positions, in either order
            first = rng.permutation(np.arange(n) % T)
            second = (first + rng.integers(1, T, size=n)) % T
        elif name == "markers_at_the_ends":
            first, second = np.zeros(n, "int64"), np.full(n, T - 1, "int64")
        elif name == "adjacent_markers":
            first = rng.integers(0, T - 1, size=n)
            second = first + 1
        else:
            first = rng.integers(0, T // 2, size=n)
            second = rng.integers(T // 2, T, size=n)
        cases[name] = (values, first, second)
    return cases


# ---- 9.3: the baseline MSE -------------------------------------------------------------------

def _baseline_cases(rng):
    def sums(n):
        return (rng.uniform(size=(n, 1)) + rng.uniform(size=(n, 1))).astype("float32")

    return {
        "one_target": (sums(1),),
        "all_ones": (np.ones((int(rng.integers(2, 9)), 1), "float32"),),
        "typical": (sums(200),),
        "flat_shape": (sums(50)[:, 0],),
        "wide_targets": (rng.uniform(0, 3, size=(30, 1)).astype("float32"),),
        "two_targets": (sums(2),),
        "negative_targets": (rng.uniform(-2, 1, size=(10, 1)).astype("float32"),),
        "float64_targets": (rng.uniform(0, 2, size=(25,)),),
    }


# ---- 9.4: has a model learned? -----------------------------------------------------------------

def _learned_cases(rng):
    def with_edge_rows(curves, baseline, fraction):
        """Two more models: one that ends exactly at the bar (not below it: not learned), and
        one that was below the bar at first, then diverged (not learned either)."""
        bar = fraction * baseline
        epochs = curves.shape[1]
        at_bar = rng.uniform(bar, 3 * bar, size=(1, epochs))
        at_bar[0, -1] = bar
        diverged = rng.uniform(2 * bar, 4 * bar, size=(1, epochs))
        diverged[0, 0] = bar / 2
        return (np.concatenate([curves, at_bar, diverged]), np.float64(baseline),
                np.float64(fraction))

    curves = np.array([
        [0.170, 0.160, 0.050],   # learned
        [0.170, 0.167, 0.166],   # stuck at the baseline
        [0.050, 0.300, 0.400],   # good at first, then diverged
        [0.500, 0.400, 0.300],   # improving, still above the baseline
        [0.170, 0.100, np.nan],  # the loss became nan
    ]) * rng.uniform(0.9, 1.1)
    random_curves = rng.uniform(0.2, 2.5, size=(6, 4)) * np.linspace(1.0, 0.3, 4)
    baseline, fraction = float(rng.uniform(0.1, 0.3)), float(rng.uniform(0.3, 0.7))
    one_epoch = np.array([[0.05], [0.16], [0.40]]) * rng.uniform(0.8, 1.2, size=(3, 1))
    one_epoch = np.concatenate([one_epoch, [[0.5 / 6]]])  # exactly at the bar
    return {
        "exactly_at_the_bar": with_edge_rows(rng.uniform(0.01, 0.5, size=(3, 3)), baseline,
                                             fraction),
        "typical": with_edge_rows(curves, 1 / 6, 0.5),
        "one_epoch": (one_epoch, np.float64(1 / 6), np.float64(0.5)),
        "one_good_model": with_edge_rows(
            np.array([[0.9, 0.08, 0.2, 0.04]]) * rng.uniform(0.8, 1.2, size=(1, 4)), 1 / 6, 0.5),
        "other_baseline": with_edge_rows(random_curves, float(np.log(10)), 0.3),
    }


# ---- 9.5: tanh against IRNN as T grows ---------------------------------------------------------

def _orthogonal(rng, n):
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


def _t_grows_cases(rng):
    """``(x, U, W, gain, lengths)``. ``W`` is never symmetric (so that a missing transpose and
    a reversed product show on the tanh RNN); a unit without input weights (a zero column of
    ``U``) and zero rows of ``x`` put ReLU units exactly at 0."""
    cases = {}
    for name, (T, d, n, gain, lengths, kind) in {
        "typical": (30, 2, 4, 1.0, (1, 5, 10, 30), "orthogonal"),
        "one_step": (1, 2, 3, 1.0, (1,), "orthogonal"),
        "zero_length_too": (12, 2, 3, 1.0, (0, 1, 2, 12), "orthogonal"),
        "blank_first_step": (20, 2, 4, 1.0, (1, 3, 20), "orthogonal"),
        "dead_unit": (15, 3, 4, 1.0, (2, 8, 15), "orthogonal"),
        "scaled_identity": (25, 2, 3, 0.5, (1, 4, 25), "orthogonal"),
        "one_unit": (10, 2, 1, 1.0, (2, 5, 10), "orthogonal"),
        "unsorted_lengths": (16, 2, 3, 1.0, (16, 3, 9), "orthogonal"),
        "large_random_W": (20, 2, 5, 1.0, (2, 6, 20), "random"),
        "long": (60, 2, 4, 1.0, (10, 30, 60), "orthogonal"),
        "random": (int(rng.integers(8, 25)), int(rng.integers(1, 4)), int(rng.integers(2, 6)),
                   float(np.round(rng.uniform(0.5, 1.0), 2)), None, "orthogonal"),
    }.items():
        if lengths is None:  # four lengths in 1..T, increasing, the last one T
            lengths = (*sorted(rng.choice(np.arange(1, T), size=min(3, T - 1), replace=False)), T)
        x = rng.uniform(size=(T, d)).round(3)  # adding-problem-like: values in [0, 1]
        x[:, -1] = (rng.uniform(size=T) < 0.1) if d > 1 else x[:, -1]
        U = rng.normal(scale=1.0, size=(d, n))
        if kind == "random":
            W = rng.normal(scale=1.2 / np.sqrt(n), size=(n, n))
        else:
            W = _orthogonal(rng, n)
        if n > 1:
            W = W + rng.normal(scale=0.05, size=(n, n))  # not symmetric
        if name == "blank_first_step":
            x[:2] = 0.0  # a_1 = 0 exactly: relu'(0) = 0 cuts the IRNN's path
        if n > 1:  # a unit without input: its a_t is exactly 0 in the IRNN, relu'(0) = 0
            U[:, 0 if name == "dead_unit" else rng.integers(0, n)] = 0.0
        cases[name] = (x, U, W, np.float64(gain), np.asarray(lengths, "int64"))
    return cases


def _t_grows_diagnose(args, got, expected):
    """Name a result in which the two rows are swapped."""
    if len(got) == 2 and all(g.shape == e.shape for g, e in zip(got, expected)):
        if np.allclose(got[0], expected[1], rtol=1e-3) and np.allclose(
                got[1], expected[0], rtol=1e-3) and not np.allclose(expected[0], expected[1]):
            return ("your two outputs are swapped: return (tanh_norms, irnn_norms), the tanh "
                    "RNN's first.")
    return None


# ---- 9.6: an IRNN that solves the adding problem (a training exercise) -------------------------

ADDING_T = 100  # the sequence length of exercise 9.6
ADDING_TRAIN, ADDING_NEW = 2000, 500  # training sequences, sequences to predict


def adding_case(rng: np.random.Generator, weights=(1.0, 1.0), n_train: int = ADDING_TRAIN,
                n_new: int = ADDING_NEW, T: int = ADDING_T) -> tuple[tuple, np.ndarray]:
    """``((x_train, y_train, x_new), y_new)``: adding-problem sequences as in the chapter (values
    from U(0, 1), rounded to 3 decimals; one marker in each half) and their targets, the two
    marked values weighted by ``weights`` (1 and 1: the adding problem itself)."""
    n = n_train + n_new
    values = rng.uniform(size=(n, T)).round(3)
    first = rng.integers(0, T // 2, size=n)
    second = rng.integers(T // 2, T, size=n)
    rows = np.arange(n)
    x = np.zeros((n, T, 2), "float32")
    x[:, :, 0] = values
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = weights[0] * values[rows, first] + weights[1] * values[rows, second]
    y = y[:, None].astype("float32")
    return (x[:n_train], y[:n_train], x[n_train:]), y[n_train:]


def _adding_train_cases(rng):
    return {"adding_T100": adding_case(rng)}


def _adding_train_hidden_cases(rng):
    """Fresh sequences of two signed variants, ``a * first - b * second`` and
    ``-a * first + b * second``, so that only a rule learned from ``y_train`` passes: the sum of
    the marked values written by hand has an MSE of several times the baseline's on each
    (reweighting the sum alone would not do: a hand-written sum stays well below half the
    baseline for any weights near 1), and so earns nothing."""
    def weight():
        return round(float(rng.uniform(0.6, 1.4)), 2)

    return {"fresh_signed_adding_T100": adding_case(rng, (weight(), -weight())),
            "fresh_signed_adding_T100_b": adding_case(rng, (-weight(), weight()))}


def mse_vs_baseline(args, predictions, targets) -> float:
    """The predictions' MSE as a multiple of the baseline's: always predicting the mean training
    target (1 for the adding problem: an MSE of about 1/6, as in the chapter)."""
    y = np.asarray(targets[0], "float64")
    constant = float(np.mean(np.asarray(args[1], "float64")))
    mse = float(np.mean((np.asarray(predictions, "float64") - y) ** 2))
    return mse / float(np.mean((y - constant) ** 2))


ADDING_THRESHOLD = 0.5  # below half the baseline: the chapter's "learned"
ADDING_MISTAKES = {
    "constant": "your predictions hardly vary from one sequence to the next: a constant, such "
                "as the baseline's 1, or a model that has not learned. Use ReLU units with the "
                "identity as the recurrent initialiser, clip the gradient (global_clipnorm=1), "
                "and train for more updates.",
    "sum_of_all": "your predictions follow the sum of all the values of a sequence: the target "
                  "is the sum of the two *marked* values only (channel 1 marks them).",
    "markers_ignored": "your predictions follow the mean of each sequence's values, as if the "
                       "markers were not there (without them, twice the mean is the best "
                       "guess): feed both channels of x, values and markers, to the model.",
    "flat_shape": "your predictions have one axis too few: return shape (n, 1), like y_train "
                  "(model.predict(x_new) already has it).",
}


def _fit_share(pred, feature) -> float:
    """The share of the variance of ``pred`` that a straight line in ``feature`` explains."""
    A = np.c_[feature, np.ones_like(feature)]
    residual = pred - A @ np.linalg.lstsq(A, pred, rcond=None)[0]
    return 1.0 - float(np.var(residual)) / max(float(np.var(pred)), 1e-30)


def _adding_diagnose(args, got, expected):
    """Name a known mistake from the predictions (in words only: this runs on hidden cases)."""
    (pred,), (y,) = got, expected
    pred = np.asarray(pred, "float64")
    if pred.shape == y.shape[:1]:
        return ADDING_MISTAKES["flat_shape"]
    if pred.shape != y.shape or not np.all(np.isfinite(pred)):
        return None
    pred = pred[:, 0]
    values = np.asarray(args[2], "float64")[:, :, 0]  # (n, T)
    if np.std(pred) < 0.1 * np.std(y):
        return ADDING_MISTAKES["constant"]
    total = values.sum(axis=1)
    if _fit_share(pred, total) > 0.9:
        if np.mean(pred) > 5.0:  # targets lie in [-2, 3]; the sum of all is about T / 2
            return ADDING_MISTAKES["sum_of_all"]
        # a straight line in the mean of the values: the best a marker-blind model can do
        return ADDING_MISTAKES["markers_ignored"]
    return None


EXERCISES = [
    Exercise(
        "irnn_layer", target="irnn_layer", cases=_irnn_layer_cases, call=_call_irnn_layer,
        points=2, args=("units", "gain", "sigma"),
        outputs=("recurrent_kernel", "bias", "output", "kernel_spread"),
        diagnose=_diagnose_irnn_layer,
        what="(recurrent kernel, bias, output on x with kernel U, spread of the input kernel)",
        mistakes={
            "tanh": "your layer uses tanh (SimpleRNN's default activation): an IRNN has ReLU "
                    "units -- pass activation=\"relu\".",
            "orthogonal": "your recurrent kernel is not the identity (it is Keras's default "
                          "orthogonal initialiser): pass recurrent_initializer="
                          "keras.initializers.Identity(gain=gain).",
            "unscaled": "your recurrent kernel is I, not gain * I: pass the gain to "
                        "keras.initializers.Identity.",
            "glorot_input": "your input kernel has Keras's default Glorot-uniform spread (what "
                            "the chapter kept), not the paper's N(0, sigma^2): pass "
                            "kernel_initializer=keras.initializers.RandomNormal(stddev=sigma).",
            "uniform_input": "your input kernel is uniform on [-sigma, sigma], whose standard "
                             "deviation is sigma / sqrt(3): use "
                             "keras.initializers.RandomNormal(stddev=sigma).",
            "truncated_input": "your input kernel is a truncated normal, whose draws beyond two "
                               "standard deviations are redrawn, so its spread is below sigma: "
                               "use keras.initializers.RandomNormal(stddev=sigma).",
            "last_only": "your layer returns only the last state: set return_sequences=True.",
        },
    ),
    Exercise(
        "adding_data", target="adding_data", cases=_adding_cases,
        points=2, args=("values", "first", "second"), outputs=("x", "y"),
        dtypes=("float32", "float32"),
        what="(x, y): inputs (n, T, 2) and targets (n, 1)",
        mistakes={
            "swapped_channels": "your channels are swapped: channel 0 holds the values and "
                                "channel 1 the markers.",
            "broadcast_markers": "every sequence is marked at every sequence's positions: "
                                 "x[:, first, 1] = 1 broadcasts -- index the rows too, "
                                 "x[np.arange(n), first, 1] = 1.",
            "target_all": "your target is the sum of all the values: add only the two marked "
                          "ones.",
            "flat_target": "your y has shape (n,): return it as a column, shape (n, 1), like a "
                           "Keras regression target with one output.",
            "float64": "your arrays are float64: the exercise asks for float32 (Keras's default "
                       "dtype), e.g. `x.astype(\"float32\")`.",
        },
    ),
    Exercise(
        "baseline_mse", target="baseline_mse", cases=_baseline_cases,
        points=1, args=("y",), outputs=(),
        what="the mean squared error of always predicting 1 (a number)",
        mistakes={
            "rmse": "you returned the root of the mean squared error: leave out the square root.",
            "predict_zero": "you computed the error of predicting 0 (the mean of y**2): the "
                            "baseline predicts 1.",
            "variance": "you computed the variance of y (predicting y's own mean): the baseline "
                        "predicts the constant 1, the expected target.",
            "sum": "you summed the squared errors: take their mean.",
        },
    ),
    Exercise(
        "has_learned", target="has_learned", cases=_learned_cases,
        points=2, args=("val_losses", "baseline", "fraction"), outputs=("verdicts",),
        what="a 0/1 verdict per model, shape (models,)",
        mistakes={
            "first_epoch": "your verdict uses the first epoch's loss: use the last one (the "
                           "model as it ends training).",
            "absolute": "your threshold ignores the baseline: compare with fraction * baseline, "
                        "not with fraction alone (or with 0).",
            "best_epoch": "your verdict uses the best epoch: a model that diverged afterwards "
                          "has not learned -- use the last epoch.",
            "any_drop": "your verdict says 'learned' whenever the loss went down: it must end "
                        "below fraction * baseline.",
            "at_most": "a loss exactly at fraction * baseline is not below it: use <, not <=.",
        },
    ),
    Exercise(
        "tanh_vs_irnn", target="tanh_vs_irnn", cases=_t_grows_cases, points=3,
        args=("x", "U", "W", "gain", "lengths"), outputs=("tanh_norms", "irnn_norms"),
        diagnose=_t_grows_diagnose, rtol=1e-3, atol=1e-12,
        what="(tanh_norms, irnn_norms): ||d s_T / d s_0|| for each T in lengths, shape "
             "(len(lengths),) each",
        mistakes={
            "derivative_at_zero": "your relu'(0) is 1: relu'(a) is 1 only for a > 0 (strictly), "
                                  "so a unit with a_t = 0 passes no gradient (as in "
                                  "TensorFlow).",
            "no_derivative": "your Jacobians leave out the activation's derivative: "
                             "J_t = diag(phi'(a_t)) @ W.T, not W.T alone (tanh'(a) = "
                             "1 - tanh(a)**2, relu'(a) = 1 where a > 0).",
            "reversed_order": "your product is in the wrong order: the latest step's Jacobian "
                              "goes on the left, J_T @ ... @ J_1.",
            "no_transpose": "with rows as examples s_t = phi(x_t U + s_{t-1} W), so "
                            "d s_t / d s_{t-1} = diag(phi'(a_t)) @ W.T -- transpose W.",
            "no_reset": "your state and product carry over from one length to the next: for "
                        "each T, start again from s_0 = 0 and J = I (or keep one running "
                        "product and read it off after step T).",
            "tanh_for_both": "your IRNN's norms are those of a tanh network with recurrent "
                             "matrix gain * I: the IRNN's units are ReLU.",
            "one_step_short": "your product stops one step short: d s_T / d s_0 has T factors, "
                              "J_T ... J_1 (for T = 0 it is the identity).",
        },
    ),
    TrainingExercise(
        "solve_adding", target="train_irnn", cases=_adding_train_cases,
        hidden_cases=_adding_train_hidden_cases, points=3, args=("x_train", "y_train", "x_new"),
        outputs=("predictions",), metric=mse_vs_baseline, threshold=ADDING_THRESHOLD,
        metric_text="your predictions' MSE, as a multiple of the baseline's (always predicting "
                    "the mean training target),",
        metric_name="MSE / baseline MSE",
        diagnose=_adding_diagnose, mistakes=ADDING_MISTAKES, time_limit=90, seeds=5,
        margin=0.5,
        what="predictions for the sequences x_new, shape (n, 1), from a model trained on "
             "(x_train, y_train)",
    ),
]
