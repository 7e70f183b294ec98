"""Datasets and the windowing code taught in chapter 1 (``book/01_time_series.ipynb``).

Chapter 1 writes each function out; later chapters import them from here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np

SUNSPOTS_SOURCE = (
    "Yearly mean sunspot numbers 1700-2008, public domain, from NOAA's National Geophysical "
    "Data Center (the copy statsmodels ships as `statsmodels.datasets.sunspots`)."
)


def load_sunspots() -> tuple[np.ndarray, np.ndarray]:
    """Years and yearly sunspot numbers, 1700-2008 (309 values), from the CSV the package ships.

    Taught in chapter 1.
    """
    path = resources.files("rnnbook") / "data" / "sunspots.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"The sunspot data file is missing from the installed package ({path}); "
            "reinstall rnnbook (pip install -e .)."
        )
    with path.open() as f:
        rows = list(csv.DictReader(f))
    years = np.array([int(r["year"]) for r in rows])
    values = np.array([float(r["sunspots"]) for r in rows], dtype="float32")
    return years, values


def make_windows(series, window: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Cut a 1-D series into inputs ``X[i] = series[i : i+window]`` and targets
    ``y[i] = series[i + window + horizon - 1]``.

    Returns ``X`` of shape ``(n, window)`` and ``y`` of shape ``(n,)`` with
    ``n = len(series) - window - horizon + 1``. Taught in chapter 1.
    """
    series = np.asarray(series)
    if series.ndim != 1:
        raise ValueError(f"make_windows wants a 1-D series, got shape {series.shape}")
    if window < 1 or horizon < 1:
        raise ValueError(f"window and horizon must be >= 1, got {window} and {horizon}")
    n = len(series) - window - horizon + 1
    if n < 1:
        raise ValueError(
            f"a series of length {len(series)} is too short for window={window}, horizon={horizon}"
        )
    X = np.stack([series[i : i + window] for i in range(n)])
    y = series[window + horizon - 1 : window + horizon - 1 + n]
    return X, y


def split_by_time(n: int, train: float = 0.7, val: float = 0.15) -> tuple[slice, slice, slice]:
    """Slices of ``range(n)`` for train, validation and test, in time order (never shuffled).

    Taught in chapter 1.
    """
    if not (0 < train < 1 and 0 <= val < 1 and train + val < 1):
        raise ValueError(f"need 0 < train, 0 <= val and train + val < 1; got {train}, {val}")
    n_train = int(round(n * train))
    n_val = int(round(n * val))
    return slice(0, n_train), slice(n_train, n_train + n_val), slice(n_train + n_val, n)


@dataclass(frozen=True)
class Scaler:
    """Standardise with the mean and standard deviation of the training part only.

    Taught in chapter 1.
    """

    mean: float
    std: float

    @classmethod
    def fit(cls, train_values) -> "Scaler":
        train_values = np.asarray(train_values, dtype="float64")
        return cls(float(train_values.mean()), float(train_values.std()))

    def transform(self, values) -> np.ndarray:
        return ((np.asarray(values) - self.mean) / self.std).astype("float32")

    def inverse(self, values) -> np.ndarray:
        return (np.asarray(values) * self.std + self.mean).astype("float32")


def sunspot_windows(window: int = 20, horizon: int = 1, train: float = 0.7, val: float = 0.15):
    """The sunspot series, standardised on its training years and cut into windows.

    Returns a dict with ``X_train, y_train, X_val, y_val, X_test, y_test`` (inputs shaped
    ``(batch, time, 1)``, batch-major), the ``scaler`` and the ``years`` of each target.
    The split is made on the target years, so no target of a later split is seen earlier.
    Taught in chapter 1; chapters 2-4 train on it.
    """
    years, values = load_sunspots()
    X, y = make_windows(values, window, horizon)
    target_years = years[window + horizon - 1 :]
    tr, va, te = split_by_time(len(y), train, val)
    scaler = Scaler.fit(values[: tr.stop + window + horizon - 1])
    X, y = scaler.transform(X)[..., None], scaler.transform(y)
    out = {"scaler": scaler}
    for name, part in (("train", tr), ("val", va), ("test", te)):
        out[f"X_{name}"], out[f"y_{name}"] = X[part], y[part]
        out[f"years_{name}"] = target_years[part]
    return out


def synthetic_signal(n: int = 400, period: float = 25.0, noise: float = 0.1,
                     seed: int = 0) -> np.ndarray:
    """A noisy sine with a slow trend: a series whose next value depends on the order of the past."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype="float64")
    x = np.sin(2 * np.pi * t / period) + 0.002 * t + noise * rng.normal(size=n)
    return x.astype("float32")
