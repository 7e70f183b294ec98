"""Realistic wrong answers to chapter 1's exercises.

Each function is a mistake a student makes; `python -m rnnbook.checks.build` stores their outputs
so that a check can name the mistake, and tests/test_checks.py asserts that every check rejects
every one of them with its own message.
"""

import numpy as np


# ---- windows: X (n, window), Y (n, horizon) ---------------------------------------------------

def _windows(series, window, horizon, n=None, first_target=None, single=False):
    window, horizon = int(window), int(horizon)
    n = len(series) - window - horizon + 1 if n is None else n
    start = window if first_target is None else first_target
    X = np.array([series[i : i + window] for i in range(n)]).reshape(n, window)
    if single:
        Y = np.array([series[i + window + horizon - 1] for i in range(n)])
    else:
        Y = np.array([series[i + start : i + start + horizon] for i in range(n)]).reshape(n, horizon)
    return X, Y


def windows_target_inside_window(series, window, horizon):
    return _windows(series, window, horizon, first_target=int(window) - 1)


def windows_one_step_late(series, window, horizon):
    n = len(series) - int(window) - int(horizon)
    return _windows(series, window, horizon, n=n, first_target=int(window) + 1)


def windows_last_target_only(series, window, horizon):
    return _windows(series, window, horizon, single=True)


def windows_horizon_ignored(series, window, horizon):
    return _windows(series, window, 1)


def windows_one_window_short(series, window, horizon):
    return _windows(series, window, horizon, n=len(series) - int(window) - int(horizon))


# ---- split: six arrays in time order ----------------------------------------------------------

def split_shuffled(X, y, n_train, n_val):
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    a, b = int(n_train), int(n_train) + int(n_val)
    return X[:a], y[:a], X[a:b], y[a:b], X[b:], y[b:]


def split_test_includes_val(X, y, n_train, n_val):
    a, b = int(n_train), int(n_train) + int(n_val)
    return X[:a], y[:a], X[a:b], y[a:b], X[a:], y[a:]


def split_future_for_training(X, y, n_train, n_val):
    n_test = len(y) - int(n_train) - int(n_val)
    a, b = n_test, n_test + int(n_val)
    return X[b:], y[b:], X[a:b], y[a:b], X[:a], y[:a]


def split_off_by_one(X, y, n_train, n_val):
    a, b = int(n_train) + 1, int(n_train) + 1 + int(n_val)
    return X[: int(n_train)], y[: int(n_train)], X[a:b], y[a:b], X[b:], y[b:]


# ---- baseline_mae -----------------------------------------------------------------------------

def _mae(forecast, y):
    return np.mean(np.abs(forecast - y))


def _own_statistics(part):
    if len(part) == 0:
        return part
    with np.errstate(divide="ignore", invalid="ignore"):  # a part of one value has std 0
        return (part - part.mean()) / part.std()


MISTAKES = {
    "windows": {
        "target_inside_window": windows_target_inside_window,
        "one_step_late": windows_one_step_late,
        "last_target_only": windows_last_target_only,
        "horizon_ignored": windows_horizon_ignored,
        "one_window_short": windows_one_window_short,
    },
    "split": {
        "shuffled": split_shuffled,
        "test_includes_val": split_test_includes_val,
        "future_for_training": split_future_for_training,
        "off_by_one": split_off_by_one,
    },
    "baseline_mae": {
        # computes the column from the start of the window, one too far back
        "off_by_one": lambda X, y, s: _mae(X[:, X.shape[1] - int(s) - 1], y),
        "season_from_start": lambda X, y, s: _mae(X[:, int(s) - 1], y),
        "mse": lambda X, y, s: np.mean((X[:, -int(s)] - y) ** 2),
        "no_abs": lambda X, y, s: np.mean(X[:, -int(s)] - y),
        "window_mean": lambda X, y, s: _mae(X.mean(axis=1), y),
    },
    "standardise": {
        "whole_series_stats": lambda tr, va, te: tuple(
            (p - np.concatenate([tr, va, te]).mean()) / np.concatenate([tr, va, te]).std()
            for p in (tr, va, te)),
        "val_test_unscaled": lambda tr, va, te: ((tr - tr.mean()) / tr.std(), va, te),
        "divided_by_variance": lambda tr, va, te: tuple((p - tr.mean()) / tr.var() for p in (tr, va, te)),
        "own_statistics": lambda tr, va, te: tuple(_own_statistics(p) for p in (tr, va, te)),
        "sample_std": lambda tr, va, te: tuple((p - tr.mean()) / tr.std(ddof=1) for p in (tr, va, te)),
    },
    "linear_forecaster": {
        "no_bias": lambda X, y: (np.linalg.lstsq(X, y, rcond=None)[0], 0.0),
        "bias_mixed_up": lambda X, y: (
            lambda t: (t[:-1], t[-1]))(np.linalg.lstsq(np.c_[np.ones(len(X)), X], y, rcond=None)[0]),
        "centred_no_intercept": lambda X, y: (
            np.linalg.lstsq(X - X.mean(axis=0), y - y.mean(), rcond=None)[0], 0.0),
        "reversed_weights": lambda X, y: (
            lambda t: (t[:-1][::-1], t[-1]))(np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]),
    },
}


# ---- beat_naive: forecasts for X_new (training exercise; cheap NumPy stand-ins for a model) ----

def _least_squares(X, y, X_new):
    theta = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]
    return np.c_[X_new, np.ones(len(X_new))] @ theta


def forecast_not_unscaled(X, y, X_new):
    """Trained on standardised data; the forecasts are returned standardised."""
    mean, std = X.mean(), X.std()
    return _least_squares((X - mean) / std, (y - mean) / std, (X_new - mean) / std)


MISTAKES["beat_naive"] = {
    "naive_copy": lambda X, y, X_new: X_new[:, -1].copy(),
    "not_unscaled": forecast_not_unscaled,
    "constant": lambda X, y, X_new: np.full(len(X_new), float(np.mean(y))),
    "column": lambda X, y, X_new: _least_squares(X, y, X_new)[:, None],
}
