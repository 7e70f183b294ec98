"""Exercises of chapter 1, the time series problem (``solutions/01_time_series.ipynb``).

Every exercise takes plain NumPy arrays (a series, windows, targets) and returns arrays, so it is
checked on small made-up inputs with the edge cases spelled out: one window, a window of one
step, an empty validation part, a season as long as the window, a training part of one example.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise


def _series(rng, n):
    return rng.normal(scale=2.0, size=n).round(3).astype("float32")


def _windows_cases(rng):
    cases = {}
    for name, (length, window, horizon) in {
        "horizon_1": (12, 4, 1),
        "horizon_3": (15, 5, 3),
        "window_of_1": (8, 1, 2),
        "exactly_one_window": (7, 4, 3),
        "long_series": (40, 10, 4),
    }.items():
        cases[name] = (_series(rng, length), np.int64(window), np.int64(horizon))
    return cases


def _split_cases(rng):
    cases = {}
    for name, (shape, n_train, n_val) in {
        "typical": ((20, 3), 14, 3),
        "no_validation": ((10, 2), 7, 0),
        "one_test_example": ((9, 3), 6, 2),
        "batch_time_features": ((12, 4, 1), 8, 2),
        "train_of_1": ((5, 2), 1, 2),
    }.items():
        X = rng.normal(size=shape).round(3).astype("float32")
        y = rng.normal(size=shape[0]).round(3).astype("float32")
        cases[name] = (X, y, np.int64(n_train), np.int64(n_val))
    return cases


def _baseline_cases(rng):
    cases = {}
    for name, (n, window, season) in {
        "naive": (10, 5, 1),
        "seasonal": (12, 8, 3),
        "season_equals_window": (6, 4, 4),
        "one_example": (1, 3, 1),
        "window_of_1": (7, 1, 1),
    }.items():
        X = (50 + 20 * rng.normal(size=(n, window))).round(2)
        y = (50 + 20 * rng.normal(size=n)).round(2)
        cases[name] = (X, y, np.int64(season))
    return cases


def _standardise_cases(rng):
    cases = {}
    for name, (n_train, n_val, n_test, trend) in {
        "typical": (20, 5, 5, 0.0),
        "val_of_1": (10, 1, 3, 0.0),
        "empty_val": (8, 0, 4, 0.0),
        "rising_series": (15, 4, 4, 3.0),
        "short_train": (3, 2, 2, 0.0),
    }.items():
        n = n_train + n_val + n_test
        series = 50 + 20 * rng.normal(size=n) + trend * np.arange(n)
        cases[name] = (series[:n_train], series[n_train:n_train + n_val], series[n_train + n_val:])
    return cases


def _linear_cases(rng):
    cases = {}
    for name, (n, window, noise, offset) in {
        "typical": (30, 4, 0.3, 0.0),
        "window_of_1": (10, 1, 0.3, 0.0),
        "square_system": (4, 3, 0.3, 0.0),
        "exactly_linear": (12, 3, 0.0, 0.0),
        "sunspot_like_values": (25, 5, 5.0, 60.0),
    }.items():
        X = offset + (30 if offset else 1) * rng.normal(size=(n, window))
        w, b = rng.normal(size=window), rng.normal()
        y = X @ w + b + noise * rng.normal(size=n)
        cases[name] = (X, y)
    return cases


SPLIT_MISTAKES = {
    "shuffled": "your parts are not in time order: the examples were shuffled. Take the first "
                "n_train rows for training, the next n_val for validation and the rest for test, "
                "in their original order.",
    "test_includes_val": "your test part overlaps the validation part: the test part starts after "
                         "the validation part, at row n_train + n_val.",
    "future_for_training": "your training part is the latest data and your test part the "
                           "earliest: train on the past (the first rows), test on the future "
                           "(the last rows).",
    "off_by_one": "a row is lost between the parts: validation starts at row n_train (not "
                  "n_train + 1) and together the three parts must hold every row exactly once.",
}


def _shuffled(args, got, expected):
    """Name a shuffle from the output alone: every row is there, but not in time order."""
    X, y = args[0], args[1]
    if len(got) != 6:
        return None
    try:
        rows_X = np.concatenate([np.asarray(got[i]) for i in (0, 2, 4)])
        rows_y = np.concatenate([np.asarray(got[i]) for i in (1, 3, 5)])
    except ValueError:
        return None
    if rows_X.shape != np.shape(X) or rows_y.shape != np.shape(y):
        return None
    same_rows = np.allclose(np.sort(rows_y), np.sort(y)) and np.allclose(
        np.sort(rows_X.reshape(len(rows_X), -1), axis=0), np.sort(np.reshape(X, (len(X), -1)), axis=0))
    if same_rows and not np.allclose(rows_y, y):
        return SPLIT_MISTAKES["shuffled"]
    return None


EXERCISES = [
    Exercise(
        "windows", target="make_multistep_windows", cases=_windows_cases,
        what="(X, Y): windows of shape (n, window) and the next `horizon` values, (n, horizon)",
        mistakes={
            "target_inside_window": "your targets start one step too early: the first target is "
                                    "the last value of the window. Y[i] starts at "
                                    "series[i + window], right after the window.",
            "one_step_late": "your targets start one step too late, skipping the value right "
                             "after the window: Y[i] = series[i + window : i + window + horizon].",
            "last_target_only": "you returned only the value `horizon` steps ahead; return all "
                                "the next `horizon` values, Y of shape (n, horizon).",
            "horizon_ignored": "your windows ignore the horizon: with horizon h there are "
                               "n = len(series) - window - h + 1 examples, each with h targets.",
            "one_window_short": "you made one window too few: the last window ends `horizon` "
                                "steps before the end, so n = len(series) - window - horizon + 1 "
                                "(check the stop of your range).",
        },
    ),
    Exercise(
        "split", target="split_in_time", cases=_split_cases, diagnose=_shuffled,
        what="(X_train, y_train, X_val, y_val, X_test, y_test), in time order",
        mistakes=SPLIT_MISTAKES,
    ),
    Exercise(
        "baseline_mae", target="baseline_mae", cases=_baseline_cases,
        what="the MAE of the seasonal naive forecast X[:, -season] (a number)",
        mistakes={
            "off_by_one": "your forecast is one step too early in the window: the value `season` "
                          "steps before the target is X[:, -season] (X[:, -1] for season 1).",
            "season_from_start": "you counted the season from the start of the window: the value "
                                 "`season` steps before the target is X[:, -season], counted "
                                 "from the end.",
            "mse": "you computed the mean squared error; the MAE is the mean of the absolute "
                   "errors, np.mean(np.abs(forecast - y)).",
            "no_abs": "you averaged the signed errors, so over- and under-forecasts cancel: take "
                      "the absolute value before the mean.",
            "window_mean": "your forecast is the mean of the window; the naive forecast repeats "
                           "a single past value, X[:, -season].",
        },
    ),
    Exercise(
        "standardise", target="standardise", cases=_standardise_cases,
        what="(train_z, val_z, test_z), each standardised with the training mean and std",
        mistakes={
            "whole_series_stats": "you used the mean and std of all the data: that leaks the "
                                  "validation and test values into training. Use the training "
                                  "part's statistics only.",
            "val_test_unscaled": "your validation and test parts are not transformed: apply the "
                                 "same (x - mean) / std, with the training statistics, to them.",
            "divided_by_variance": "you divided by the variance; divide by the standard "
                                   "deviation, np.std(train).",
            "own_statistics": "each part was standardised with its own mean and std: use the "
                              "training statistics for all three parts.",
            "sample_std": "you used the sample standard deviation (ddof=1); use np.std's default "
                          "(ddof=0), as the chapter and rnnbook.data.Scaler do.",
        },
    ),
    Exercise(
        "linear_forecaster", target="fit_linear_forecaster", cases=_linear_cases,
        what="(w, b): the least-squares weights, shape (window,), and bias (a number)",
        mistakes={
            "no_bias": "your fit has no intercept (b = 0): append a column of ones to X so that "
                       "least squares fits b too.",
            "bias_mixed_up": "your bias and weights are mixed up: the coefficient of the column "
                             "of ones is b, the others are w, in the order of the columns.",
            "centred_no_intercept": "you fitted w on centred data but returned b = 0: the "
                                    "intercept is b = mean(y) - mean(X, axis=0) @ w.",
            "reversed_weights": "your weights come out in reverse order: w[j] multiplies "
                                "X[:, j], the j-th oldest value of the window.",
        },
    ),
]
