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
        Y = np.array([series[i + start : i + start + horizon] for i in range(n)])
        Y = Y.reshape(n, horizon)
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


# ---- baseline_mae: the seasonal naive forecast at each horizon ----------------------------------

def _seasonal(X, Y, season, column=None, error=np.abs):
    window, maes = X.shape[1], []
    for h in range(1, Y.shape[1] + 1):
        back = season * -(-h // season)
        col = window + h - 1 - back if column is None else column(window, h, back)
        maes.append(np.mean(error(X[:, col] - Y[:, h - 1])))
    return np.array(maes)


def _own_statistics(part):
    if len(part) == 0:
        return part
    with np.errstate(divide="ignore", invalid="ignore"):  # a part of one value has std 0
        return (part - part.mean()) / part.std()


# ---- permutation: windows with permuted time steps, and the flat kernel ------------------------

def _blocks(kernel, X):
    return kernel.reshape(X.shape[1], X.shape[2], -1)  # (time, features, units)


def permutation_per_window(X, kernel, perm):
    """Shuffles each window on its own (np.random.shuffle in a loop), the kernel with perm."""
    rng = np.random.default_rng(0)
    X_scrambled = X.copy()
    for window in X_scrambled:
        rng.shuffle(window)  # along time, a new order for every window
    return X_scrambled, _blocks(kernel, X)[perm].reshape(kernel.shape)


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
        "same_value_every_horizon": lambda X, Y, s: _seasonal(X, Y, s, column=lambda w, h, b: -s),
        "naive_every_horizon": lambda X, Y, s: _seasonal(X, Y, s, column=lambda w, h, b: -1),
        "off_by_one": lambda X, Y, s: _seasonal(X, Y, s, column=lambda w, h, b: w + h - 2 - b),
        "mse": lambda X, Y, s: _seasonal(X, Y, s, error=np.square),
        "no_abs": lambda X, Y, s: _seasonal(X, Y, s, error=lambda e: e),
    },
    "standardise": {
        "whole_series_stats": lambda tr, va, te: tuple(
            (p - np.concatenate([tr, va, te]).mean()) / np.concatenate([tr, va, te]).std()
            for p in (tr, va, te)),
        "val_test_unscaled": lambda tr, va, te: ((tr - tr.mean()) / tr.std(), va, te),
        "divided_by_variance": lambda tr, va, te: tuple(
            (p - tr.mean()) / tr.var() for p in (tr, va, te)),
        "own_statistics": lambda tr, va, te: tuple(_own_statistics(p) for p in (tr, va, te)),
        "sample_std": lambda tr, va, te: tuple(
            (p - tr.mean()) / tr.std(ddof=1) for p in (tr, va, te)),
    },
    "permutation": {
        "inputs_only": lambda X, kernel, perm: (X[:, perm], kernel.copy()),
        "inverse": lambda X, kernel, perm: (X[:, perm], _blocks(kernel, X)[np.argsort(perm)]
                                            .reshape(kernel.shape)),
        "feature_major": lambda X, kernel, perm: (
            X[:, perm], kernel.reshape(X.shape[2], X.shape[1], -1)[:, perm].reshape(kernel.shape)),
        "per_window": permutation_per_window,
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
