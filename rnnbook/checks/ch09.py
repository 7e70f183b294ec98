"""Exercises of chapter 9, the IRNN (``solutions/09_irnn.ipynb``)."""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise

CHAPTER = "09_irnn"


# ---- 9.1: the IRNN layer from Keras initialisers ---------------------------------------------

def _irnn_layer_cases(rng):
    cases = {}
    for name, (units, scale, std, batch, time, features) in {
        "batch_of_1": (3, 1.0, 0.001, 1, 5, 2),
        "one_time_step": (4, 0.01, 0.01, 3, 1, 2),
        "scaled_identity": (5, 0.5, 0.5, 2, 6, 3),
        "one_unit": (1, 1.0, 0.2, 2, 4, 2),
    }.items():
        scale = float(np.round(scale * rng.uniform(0.5, 1.0), 3))
        x = rng.normal(size=(batch, time, features)).astype("float32")
        U = rng.normal(scale=0.5, size=(features, units)).astype("float32")
        cases[name] = (np.int64(units), np.float64(scale), np.float64(std), x, U)
    return cases


def _call_irnn_layer(fn, args):
    """Build the student's layer; return its recurrent kernel, bias, output and kernel spread.

    The output is computed after replacing the (random) input kernel by the case's ``U``, so that
    it is deterministic; the spread of a freshly initialised kernel is returned as
    ``round(std / input_std, 1)`` of a large kernel (1.0 for ``RandomNormal(stddev=input_std)``).
    """
    import keras

    units, scale, std, x, U = int(args[0]), float(args[1]), float(args[2]), args[3], args[4]
    keras.utils.set_random_seed(0)
    layer = fn(units, scale, std)
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
    wide = fn(units, scale, std)
    wide.build((None, None, max(400, 40_000 // units)))
    spread = np.round(float(np.std(wide.get_weights()[0])) / std, 1)
    return recurrent, bias, output, spread


def _diagnose_irnn_layer(args, got, expected):
    """Name the part of the layer that is off when no stored mistake explains the output."""
    if len(got) != 4:
        return None
    recurrent, bias, output, spread = got
    if recurrent.shape == expected[0].shape and not np.allclose(recurrent, expected[0], atol=1e-6):
        return ("your recurrent kernel is not scale * I: use "
                "keras.initializers.Identity(gain=scale) as the recurrent_initializer.")
    if bias.shape == expected[1].shape and np.abs(bias).max() > 0:
        return "your bias does not start at zero: keep the default bias_initializer=\"zeros\"."
    if output.ndim != 3:
        return "your layer does not return every step: set return_sequences=True."
    if output.shape == expected[2].shape and output.min() < 0:
        return "your layer outputs negative values, which ReLU units cannot: activation=\"relu\"."
    if spread.shape == () and float(spread) != float(expected[3]):
        return ("the spread of your input kernel is not input_std: draw it with "
                "keras.initializers.RandomNormal(stddev=input_std) (not truncated, not "
                "uniform).")
    return None


# ---- 9.2: adding-problem data ------------------------------------------------------------------

def _adding_cases(rng):
    cases = {}
    for name, (n, T) in {"batch_of_1": (1, 6), "three_steps": (4, 3), "markers_at_the_ends": (4, 8),
                         "typical": (5, 20), "adjacent_markers": (4, 10), "long": (3, 50),
                         "many_rows": (12, 6), "random": (int(rng.integers(2, 8)), 15)}.items():
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


# ---- 9.5: the Jacobian of a ReLU RNN over many steps ----------------------------------------

def _jacobian_cases(rng):
    cases = {}
    for name, (T, units, kind) in {
        "one_step": (1, 3, "random"),
        "identity_all_active": (6, 3, "identity"),
        "one_unit": (5, 1, "random"),
        "typical": (5, 3, "random"),
        "near_identity": (20, 4, "near"),
        "two_units": (4, 2, "random"),
        "longer": (8, 4, "random"),
        "wide": (3, 6, "random"),
        "tall": (6, 5, "random"),
        "random": (int(rng.integers(2, 10)), int(rng.integers(2, 6)), "random"),
        "three_steps": (3, 3, "random"),
    }.items():
        a = rng.normal(size=(T, units)) + 1.5  # mostly active units: a Jacobian far from 0
        if kind == "identity":
            a, W = np.abs(a) + 0.1, np.eye(units)
        else:
            if kind == "near":
                W = np.eye(units) + rng.normal(scale=0.1, size=(units, units))
            else:
                W = rng.normal(scale=1.0, size=(units, units))
            a[0, rng.integers(0, units)] = 0.0  # relu'(0) = 0: a unit at 0 at the first step
        cases[name] = (a, W)
    return cases


EXERCISES = [
    Exercise(
        "irnn_layer", target="irnn_layer", cases=_irnn_layer_cases, call=_call_irnn_layer,
        points=2, args=("units", "scale", "input_std"), outputs=("recurrent_kernel", "bias", "output", "kernel_spread"),
        diagnose=_diagnose_irnn_layer,
        what="(recurrent kernel, bias, output on x with kernel U, spread of the input kernel)",
        mistakes={
            "tanh": "your layer uses tanh (SimpleRNN's default activation): an IRNN has ReLU "
                    "units -- pass activation=\"relu\".",
            "orthogonal": "your recurrent kernel is not the identity (it is Keras's default "
                          "orthogonal initialiser): pass recurrent_initializer="
                          "keras.initializers.Identity(gain=scale).",
            "unscaled": "your recurrent kernel is I, not scale * I: pass the scale as the gain "
                        "of keras.initializers.Identity.",
            "glorot_input": "your input kernel has Keras's default Glorot spread, not the small "
                            "input_std: pass kernel_initializer="
                            "keras.initializers.RandomNormal(stddev=input_std).",
            "uniform_input": "your input kernel is uniform on [-input_std, input_std], whose "
                             "standard deviation is input_std / sqrt(3): use "
                             "keras.initializers.RandomNormal(stddev=input_std).",
            "last_only": "your layer returns only the last state: set return_sequences=True.",
        },
    ),
    Exercise(
        "adding_data", target="adding_data", cases=_adding_cases,
        points=2, args=("values", "first", "second"), outputs=("x", "y"), dtypes=("float32", "float32"),
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
        "jacobian", target="relu_rnn_jacobian", cases=_jacobian_cases,
        points=2, args=("a", "W"), outputs=("jacobian",),
        # the order of the factors cannot matter for one step or one unit, nor the transpose
        # for W = I (the IRNN at initialisation): 3 of the 11 cases
        max_mistake_share=0.3,
        what="the Jacobian d s_T / d s_0, shape (units, units)",
        mistakes={
            "no_transpose": "with rows as examples s_t = relu(s_{t-1} W + ...), so "
                            "d s_t / d s_{t-1} = diag(relu'(a_t)) @ W.T -- transpose W.",
            "reversed_order": "your product is in the wrong order: the latest step's Jacobian "
                              "goes on the left, J_T @ ... @ J_1.",
            "no_relu_derivative": "you left out relu'(a_t): units with a_t <= 0 pass no "
                                  "gradient (multiply by diag(a_t > 0)).",
            "relu_of_a": "you multiplied by relu(a_t), the activation; the derivative relu'(a_t) "
                         "is 1 where a_t > 0 and 0 elsewhere.",
            "derivative_at_zero": "your relu'(0) is 1: the exercise takes relu'(a) = 1 only for "
                                  "a > 0 (strictly), so a unit with a_t = 0 passes no gradient.",
        },
    ),
]
