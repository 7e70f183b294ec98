"""Realistic wrong answers to chapter 9's exercises (see rnnbook/checks/ch09.py)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # quiet TensorFlow when the build imports this
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402


def _layer(units, scale, input_std, **changes):
    options = dict(
        activation="relu",
        recurrent_initializer=keras.initializers.Identity(gain=scale),
        kernel_initializer=keras.initializers.RandomNormal(stddev=input_std),
        return_sequences=True,
    )
    options.update(changes)
    return keras.layers.SimpleRNN(units, **options)


def _adding(values, first, second, swap=False, broadcast=False, target_all=False, flat=False):
    n, T = values.shape
    rows = np.arange(n)
    x = np.zeros((n, T, 2), "float32")
    x[:, :, 0] = values
    if broadcast:
        x[:, first, 1] = 1.0
        x[:, second, 1] = 1.0
    else:
        x[rows, first, 1] = 1.0
        x[rows, second, 1] = 1.0
    y = values.sum(axis=1) if target_all else values[rows, first] + values[rows, second]
    y = y.astype("float32") if flat else y[:, None].astype("float32")
    return (x[:, :, ::-1] if swap else x), y


def _verdict(val_losses, baseline, fraction, pick=lambda c: c[:, -1], threshold=None):
    limit = fraction * baseline if threshold is None else threshold
    return (pick(val_losses) < limit).astype("int64")


def _jacobian(a, W, transpose=True, reverse=False, derivative=lambda a: (a > 0) * 1.0):
    J = np.eye(W.shape[0])
    Wt = W.T if transpose else W
    steps = range(a.shape[0] - 1, -1, -1) if reverse else range(a.shape[0])
    for t in steps:
        J = np.diag(derivative(a[t])) @ Wt @ J
    return J


MISTAKES = {
    "irnn_layer": {
        "tanh": lambda u, s, d: _layer(u, s, d, activation="tanh"),
        "orthogonal": lambda u, s, d: _layer(u, s, d, recurrent_initializer="orthogonal"),
        "unscaled": lambda u, s, d: _layer(u, s, d,
                                           recurrent_initializer=keras.initializers.Identity()),
        "glorot_input": lambda u, s, d: _layer(u, s, d, kernel_initializer="glorot_uniform"),
        "uniform_input": lambda u, s, d: _layer(
            u, s, d, kernel_initializer=keras.initializers.RandomUniform(-d, d)),
        "last_only": lambda u, s, d: _layer(u, s, d, return_sequences=False),
    },
    "adding_data": {
        "swapped_channels": lambda v, f, s: _adding(v, f, s, swap=True),
        "broadcast_markers": lambda v, f, s: _adding(v, f, s, broadcast=True),
        "target_all": lambda v, f, s: _adding(v, f, s, target_all=True),
        "flat_target": lambda v, f, s: _adding(v, f, s, flat=True),
        "float64": lambda v, f, s: tuple(a.astype("float64") for a in _adding(v, f, s)),
    },
    "baseline_mse": {
        "rmse": lambda y: np.sqrt(np.mean((y - 1.0) ** 2)),
        "predict_zero": lambda y: np.mean(y ** 2),
        "variance": lambda y: np.var(y),
        "sum": lambda y: np.sum((y - 1.0) ** 2),
    },
    "has_learned": {
        "first_epoch": lambda c, b, f: _verdict(c, b, f, pick=lambda c: c[:, 0]),
        "absolute": lambda c, b, f: _verdict(c, b, f, threshold=f),
        "best_epoch": lambda c, b, f: _verdict(c, b, f, pick=lambda c: c.min(axis=1)),
        "any_drop": lambda c, b, f: (c[:, -1] < c[:, 0]).astype("int64"),
        "at_most": lambda c, b, f: (c[:, -1] <= f * b).astype("int64"),
    },
    "jacobian": {
        "no_transpose": lambda a, W: _jacobian(a, W, transpose=False),
        "reversed_order": lambda a, W: _jacobian(a, W, reverse=True),
        "no_relu_derivative": lambda a, W: _jacobian(a, W, derivative=np.ones_like),
        "relu_of_a": lambda a, W: _jacobian(a, W, derivative=lambda a: np.maximum(a, 0)),
        "derivative_at_zero": lambda a, W: _jacobian(a, W, derivative=lambda a: (a >= 0) * 1.0),
    },
}
