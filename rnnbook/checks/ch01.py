"""Exercises of chapter 1, the time series problem (``solutions/01_time_series.ipynb``).

Exercises 1.1-1.5 take plain NumPy arrays (a series, windows, targets, a kernel) and return
arrays, so they are checked on small made-up inputs with the edge cases spelled out: one window,
a window of one step, an empty validation part, a season as long as the window, one feature.

Exercise 1.6 is a *training exercise* (:class:`~rnnbook.checks.core.TrainingExercise`): the
student's function trains a model and forecasts windows it is given; it passes when its MAE is
well below the naive forecast's. The visible case is the real sunspot record (it ships with the
package); the grader's cases are sunspot-like series drawn from the secret seed, so their targets
cannot be looked up anywhere.
"""

from __future__ import annotations

import numpy as np

from rnnbook.checks.core import Exercise, TrainingExercise

CHAPTER = "01_time_series"


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
    for name, (n, window, horizon, season) in {
        "naive": (10, 5, 3, 1),
        "seasonal": (12, 8, 3, 4),
        "season_equals_horizon": (6, 5, 4, 4),
        "horizon_beyond_season": (9, 6, 5, 2),
        "one_example": (1, 4, 2, 3),
        "season_equals_window": (7, 4, 2, 4),
    }.items():
        X = (50 + 20 * rng.normal(size=(n, window))).round(2)
        Y = (50 + 20 * rng.normal(size=(n, horizon))).round(2)
        cases[name] = (X, Y, np.int64(season))
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


def _is_involution(perm) -> bool:
    """A permutation that is its own inverse (the identity, a reversal, swaps of pairs): a
    mistake that inverts it would go unnoticed."""
    return bool(np.array_equal(perm[perm], np.arange(len(perm))))


def _permutation_cases(rng):
    cases = {}
    for name, (n, time, features, units) in {
        "one_feature": (4, 5, 1, 3),
        "two_features": (3, 4, 2, 5),
        "single_window": (1, 5, 3, 2),
        "more_features_than_steps": (3, 3, 4, 2),
        "one_unit": (2, 6, 2, 1),
    }.items():
        X = rng.normal(size=(n, time, features)).round(3).astype("float32")
        kernel = rng.normal(size=(time * features, units)).round(3).astype("float32")
        perm = rng.permutation(time)
        while _is_involution(perm):  # a 3-cycle or longer: its inverse differs from it
            perm = rng.permutation(time)
        cases[name] = (X, kernel, perm.astype("int64"))
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
    flat_got, flat_X = rows_X.reshape(len(rows_X), -1), np.reshape(X, (len(X), -1))
    same_rows = np.allclose(np.sort(rows_y), np.sort(y)) and np.allclose(
        np.sort(flat_got, axis=0), np.sort(flat_X, axis=0))
    if same_rows and not np.allclose(rows_y, y):
        return SPLIT_MISTAKES["shuffled"]
    return None


# ---- 1.6: beat the naive forecast (a training exercise) -----------------------------------------

WINDOW = 20  # years in a window, as in the chapter
TRAIN, VAL = 0.7, 0.15  # the chapter's split: train on the first 70 %, forecast the next 15 %


def sunspot_like(rng: np.random.Generator, years: int = 309) -> np.ndarray:
    """A yearly series that looks like the sunspot record: cycles of 9 to 13.5 years, each with
    its own height, rising faster than they fall, plus noise; never negative."""
    t = np.arange(years, dtype=float)
    series = np.zeros(years)
    start = -rng.uniform(0, 12)
    while start < years:
        period = rng.uniform(9, 13.5)
        peak = rng.uniform(40, 190)
        rise = period * rng.uniform(0.3, 0.45)
        tt = t - start
        up = (tt >= 0) & (tt < rise)
        down = (tt >= rise) & (tt < period)
        series[up] += peak * np.sin(np.pi / 2 * tt[up] / rise) ** 2
        series[down] += peak * np.cos(np.pi / 2 * (tt[down] - rise) / (period - rise)) ** 2
        start += period
    series += rng.normal(scale=rng.uniform(3, 6), size=years)
    return np.clip(series, 0, None).round(1)


def forecast_case(series) -> tuple[tuple, np.ndarray]:
    """``((X_train, y_train, X_new), y_new)``: windows of the first 70 % of a series and their
    next values; the windows of the next 15 % to forecast, and their next values (the truth)."""
    series = np.asarray(series, dtype="float64")
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], WINDOW).copy()
    y = series[WINDOW:]
    n_train, n_val = int(round(len(y) * TRAIN)), int(round(len(y) * VAL))
    new = slice(n_train, n_train + n_val)
    return (X[:n_train], y[:n_train], X[new]), y[new]


def _forecast_cases(rng):
    from rnnbook.data import load_sunspots

    return {"sunspots": forecast_case(load_sunspots()[1])}


def _forecast_hidden_cases(rng):
    return {f"sunspot_like_{k}": forecast_case(sunspot_like(rng)) for k in (1, 2)}


def _mae(a, b) -> float:
    return float(np.mean(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))))


def mae_vs_naive(args, forecasts, targets) -> float:
    """The forecasts' MAE as a multiple of the naive forecast's (the last value of a window)."""
    X_new = np.asarray(args[2])
    return _mae(forecasts, targets[0]) / _mae(X_new[:, -1], targets[0])


FORECAST_THRESHOLD = 0.85
FORECAST_MISTAKES = {
    "naive_copy": "your forecasts are the last value of each window: the naive forecast itself. "
                  "Train a model on (X_train, y_train) and return its forecasts for X_new.",
    "not_unscaled": "your forecasts are on another scale than the series (a straight-line map of "
                    "them would pass): did you standardise the data for training and forget to "
                    "turn the forecasts back, forecast * std + mean with the training statistics?",
    "constant": "your forecasts hardly change from one window to the next: the model has not "
                "learned. Standardise the inputs, train longer or with a larger learning rate, "
                "and watch the training loss go down.",
    "column": "your forecasts have shape (n, 1): return one number per window, shape (n,) (e.g. "
              "`model.predict(X, verbose=0)[:, 0]`).",
}


def _forecast_diagnose(args, got, expected):
    """Name a known mistake from the forecasts (no numbers: this runs on hidden cases too)."""
    (pred,), (y,) = got, expected
    pred = np.asarray(pred, "float64")
    if pred.shape == y.shape + (1,):
        return FORECAST_MISTAKES["column"]
    if pred.shape != y.shape or not np.all(np.isfinite(pred)):
        return None
    X_new = np.asarray(args[2], "float64")
    if np.allclose(pred, X_new[:, -1]):
        return FORECAST_MISTAKES["naive_copy"]
    A = np.c_[pred, np.ones_like(pred)]
    fitted = A @ np.linalg.lstsq(A, y, rcond=None)[0]
    off_scale = (abs(np.mean(pred) - np.mean(y)) > 0.5 * np.std(y)
                 or abs(np.std(pred) / np.std(y) - 1) > 0.5)
    if off_scale and mae_vs_naive(args, fitted, (y,)) < FORECAST_THRESHOLD:
        return FORECAST_MISTAKES["not_unscaled"]
    if np.std(pred) < 0.05 * np.std(y):
        return FORECAST_MISTAKES["constant"]
    return None


EXERCISES = [
    Exercise(
        "windows", target="make_multistep_windows", cases=_windows_cases, points=2,
        args=("series", "window", "horizon"), outputs=("X", "Y"),
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
        "split", target="split_in_time", cases=_split_cases, diagnose=_shuffled, points=2,
        args=("X", "y", "n_train", "n_val"),
        outputs=("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"),
        what="(X_train, y_train, X_val, y_val, X_test, y_test), in time order",
        mistakes=SPLIT_MISTAKES,
    ),
    Exercise(
        "baseline_mae", target="baseline_mae", cases=_baseline_cases, points=1,
        args=("X", "Y", "season"), outputs=("mae",),
        what="the MAE of the seasonal naive forecast at each horizon, shape (horizon,)",
        mistakes={
            "same_value_every_horizon": "your forecast is the same column, X[:, -season], at "
                                        "every horizon: the value one season before the target "
                                        "moves one column on with each step of h.",
            "naive_every_horizon": "you used the last value of the window at every horizon, "
                                   "the naive forecast: the seasonal one repeats the value a "
                                   "whole number of seasons before each target.",
            "off_by_one": "your forecast is one step too early: the target h steps after the "
                          "window sits at column window + h - 1, and the forecast k * season "
                          "columns before it.",
            "mse": "you computed the mean squared error; the MAE is the mean of the absolute "
                   "errors, np.mean(np.abs(forecast - target)).",
            "no_abs": "you averaged the signed errors, so over- and under-forecasts cancel: take "
                      "the absolute value before the mean.",
        },
    ),
    Exercise(
        "standardise", target="standardise", cases=_standardise_cases, points=2,
        args=("train", "val", "test"), outputs=("train_z", "val_z", "test_z"),
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
        "permutation", target="scramble_time", cases=_permutation_cases, points=2,
        args=("X", "kernel", "perm"), outputs=("X_scrambled", "kernel_scrambled"),
        what="(X_scrambled, kernel_scrambled): windows with permuted time steps, shape (n, time, "
             "features), and the flat kernel that gives the same outputs",
        mistakes={
            "inputs_only": "you scrambled the windows but returned the kernel unchanged: the flat "
                           "model then reads each value with another value's weights. Move the "
                           "kernel's rows along with the time steps.",
            "inverse": "your kernel's blocks are moved with the inverse permutation: block j of "
                       "the new kernel must be block perm[j] of the old one, the same indexing "
                       "as X[:, perm].",
            "feature_major": "your kernel's rows are grouped feature by feature, but Flatten "
                             "goes step by step: row t * features + f belongs to feature f of "
                             "step t. Reshape the kernel to (time, features, units) before you "
                             "permute.",
            "per_window": "your windows are not all scrambled the same way: use the one "
                          "permutation `perm` for every window (X[:, perm]), or the kernel "
                          "cannot undo it.",
        },
    ),
    TrainingExercise(
        "beat_naive", target="train_and_forecast", cases=_forecast_cases,
        hidden_cases=_forecast_hidden_cases, points=2, args=("X_train", "y_train", "X_new"),
        outputs=("forecasts",), metric=mae_vs_naive, threshold=FORECAST_THRESHOLD,
        metric_text="your forecasts' MAE, as a multiple of the naive forecast's,",
        metric_name="MAE / naive MAE",
        diagnose=_forecast_diagnose, mistakes=FORECAST_MISTAKES, time_limit=60, seeds=5,
        margin=0.1,
        what="forecasts for the windows X_new, shape (n,), from a model trained on X_train",
    ),
]
