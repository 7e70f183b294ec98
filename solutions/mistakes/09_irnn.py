"""Realistic wrong answers to chapter 9's exercises (see rnnbook/checks/ch09.py)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # quiet TensorFlow when the build imports this
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402


def _layer(units, gain, sigma, **changes):
    options = dict(
        activation="relu",
        recurrent_initializer=keras.initializers.Identity(gain=gain),
        kernel_initializer=keras.initializers.RandomNormal(stddev=sigma),
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


def _relu(a):
    return np.maximum(a, 0.0)


def _tanh_prime(a):
    return 1.0 - np.tanh(a) ** 2


def _relu_prime(a):
    return (a > 0) * 1.0


def _norms(x, U, W, lengths, phi, phi_prime, transpose=True, reverse=False, reset=True,
           short=0):
    """||d s_T / d s_0|| for each T, with s_0 = 0 and J_t = diag(phi'(a_t)) W^T."""
    n = W.shape[0]
    W_back = W.T if transpose else W
    norms = []
    s, J = np.zeros(n), np.eye(n)
    for T in lengths:
        if reset:
            s, J = np.zeros(n), np.eye(n)
        for x_t in x[:max(int(T) - short, 0)]:
            a = x_t @ U + s @ W
            s = phi(a)
            J_t = np.diag(phi_prime(a)) @ W_back
            J = J @ J_t if reverse else J_t @ J
        norms.append(np.linalg.norm(J))
    return np.array(norms)


def _both(x, U, W, gain, lengths, relu_prime=_relu_prime, tanh_prime=_tanh_prime,
          irnn_phi=_relu, **options):
    """(tanh_norms, irnn_norms), each as _norms computes it with the options."""
    identity = gain * np.eye(W.shape[0])
    return (_norms(x, U, W, lengths, np.tanh, tanh_prime, **options),
            _norms(x, U, identity, lengths, irnn_phi, relu_prime, **options))


MISTAKES = {
    "irnn_layer": {
        "tanh": lambda u, s, d: _layer(u, s, d, activation="tanh"),
        "orthogonal": lambda u, s, d: _layer(u, s, d, recurrent_initializer="orthogonal"),
        "unscaled": lambda u, s, d: _layer(u, s, d,
                                           recurrent_initializer=keras.initializers.Identity()),
        "glorot_input": lambda u, s, d: _layer(u, s, d, kernel_initializer="glorot_uniform"),
        "uniform_input": lambda u, s, d: _layer(
            u, s, d, kernel_initializer=keras.initializers.RandomUniform(-d, d)),
        "truncated_input": lambda u, s, d: _layer(
            u, s, d, kernel_initializer=keras.initializers.TruncatedNormal(stddev=d)),
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
    "tanh_vs_irnn": {
        "derivative_at_zero": lambda *a: _both(*a, relu_prime=lambda a: (a >= 0) * 1.0),
        "no_derivative": lambda *a: _both(*a, relu_prime=np.ones_like,
                                          tanh_prime=np.ones_like),
        "reversed_order": lambda *a: _both(*a, reverse=True),
        "no_transpose": lambda *a: _both(*a, transpose=False),
        "no_reset": lambda *a: _both(*a, reset=False),
        "tanh_for_both": lambda *a: _both(*a, relu_prime=_tanh_prime, irnn_phi=np.tanh),
        "one_step_short": lambda *a: _both(*a, short=1),
    },
}


# ---- solve_adding: predictions for x_new (training exercise; cheap NumPy stand-ins) ----------

def _marked_sum(x):
    """The sum of the two marked values: right on the adding problem itself, but written by hand
    (used, flattened, for the shape mistake)."""
    return (x[:, :, 0] * x[:, :, 1]).sum(axis=1)


MISTAKES["solve_adding"] = {
    # a model that learned nothing predicts the mean target, 1: the baseline itself
    "constant": lambda x, y, x_new: np.ones((len(x_new), 1), "float32"),
    # trained on (or computing) the sum of every value of the sequence
    "sum_of_all": lambda x, y, x_new: x_new[:, :, 0].sum(axis=1, keepdims=True),
    # the values channel only: twice the mean value is the best a marker-blind model can do
    "markers_ignored": lambda x, y, x_new: 2 * x_new[:, :, 0].mean(axis=1, keepdims=True),
    # predictions flattened to (n,), e.g. model.predict(x_new)[:, 0] or .ravel()
    "flat_shape": lambda x, y, x_new: _marked_sum(x_new),
}
