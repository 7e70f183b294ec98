"""Datasets and the windowing code taught in chapter 1 (``book/01_time_series.ipynb``).

Chapter 1 writes each function out and shows that it equals the one here; later chapters import
them from here. Bad input (a series too short for the window, a missing or malformed data file, a
constant training series) raises a ``ValueError`` or ``FileNotFoundError`` that says what to fix.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

SUNSPOTS_SOURCE = (
    "Yearly mean sunspot numbers 1700-2008, public domain, from NOAA's National Geophysical "
    "Data Center (the copy statsmodels ships as `statsmodels.datasets.sunspots`)."
)


def _check_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) and not (
            isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu"):
        raise TypeError(f"{name} must be an integer, got {value!r}")


def load_sunspots(path=None) -> tuple[np.ndarray, np.ndarray]:
    """Years and yearly sunspot numbers, 1700-2008 (309 values), from the CSV the package ships.

    ``path`` reads another CSV with the same two columns, ``year`` and ``sunspots`` (e.g. a
    longer record); by default the shipped file is read (its source: :data:`SUNSPOTS_SOURCE`).
    Returns ``years`` (int) and ``values`` (float32), both of shape ``(time,)``.
    Taught in chapter 1.
    """
    if path is None:
        path = resources.files("rnnbook") / "data" / "sunspots.csv"
        if not path.is_file():
            raise FileNotFoundError(
                f"The sunspot data file is missing from the installed package ({path}); "
                "reinstall rnnbook (pip install -e .)."
            )
    else:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no sunspot CSV at {path}: pass the path of a CSV with "
                                    "the columns 'year' and 'sunspots', or no path for the "
                                    "shipped one")
    with path.open() as f:
        reader = csv.DictReader(f)
        missing = {"year", "sunspots"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: the CSV needs the columns 'year' and 'sunspots'; "
                             f"missing {sorted(missing)}")
        years, values = [], []
        for line, row in enumerate(reader, start=2):
            try:
                years.append(int(row["year"]))
                values.append(float(row["sunspots"]))
            except (TypeError, ValueError):
                raise ValueError(f"{path}, line {line}: expected a year and a number, got "
                                 f"{row['year']!r}, {row['sunspots']!r}") from None
    if not years:
        raise ValueError(f"{path} holds no data rows")
    return np.array(years), np.array(values, dtype="float32")


def make_windows(series, window: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Cut a 1-D series into inputs ``X[i] = series[i : i+window]`` and targets
    ``y[i] = series[i + window + horizon - 1]``.

    Returns ``X`` of shape ``(n, window)`` and ``y`` of shape ``(n,)`` with
    ``n = len(series) - window - horizon + 1``. Taught in chapter 1.
    """
    series = np.asarray(series)
    _check_int("window", window)
    _check_int("horizon", horizon)
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

    Taught in chapter 1. Raises ``ValueError`` when the training or the test part would be empty.
    """
    _check_int("n", n)
    if not (0 < train < 1 and 0 <= val < 1 and train + val < 1):
        raise ValueError(f"need 0 < train, 0 <= val and train + val < 1; got {train}, {val}")
    n_train = int(round(n * train))
    n_val = int(round(n * val))
    if n_train < 1 or n - n_train - n_val < 1:
        raise ValueError(f"{n} examples are too few to split into train={train}, val={val} and a "
                         f"non-empty test part (train gets {n_train}, test {n - n_train - n_val})")
    return slice(0, n_train), slice(n_train, n_train + n_val), slice(n_train + n_val, n)


@dataclass(frozen=True)
class Scaler:
    """Standardise with the mean and standard deviation of the training part only.

    Taught in chapter 1.
    """

    mean: float
    std: float

    @classmethod
    def fit(cls, train_values) -> Scaler:
        """The mean and standard deviation (``ddof=0``) of the training values."""
        train_values = np.asarray(train_values, dtype="float64")
        if train_values.size == 0:
            raise ValueError("Scaler.fit needs at least one training value, got none")
        if not np.all(np.isfinite(train_values)):
            raise ValueError("Scaler.fit: the training values contain NaN or infinity")
        std = float(train_values.std())
        if std == 0.0:
            raise ValueError("Scaler.fit: the training values are constant (std 0), so they "
                             "cannot be standardised")
        return cls(float(train_values.mean()), std)

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
    """A noisy sine with a slow trend: a series whose next value depends on the order of the past.

    ``x_t = sin(2 pi t / period) + 0.002 t + noise * N(0, 1)``, float32 of shape ``(n,)``, the same
    for the same ``seed``. Taught in chapter 1.
    """
    _check_int("n", n)
    if n < 1 or period <= 0 or noise < 0:
        raise ValueError(f"need n >= 1, period > 0 and noise >= 0; got {n}, {period}, {noise}")
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype="float64")
    x = np.sin(2 * np.pi * t / period) + 0.002 * t + noise * rng.normal(size=n)
    return x.astype("float32")


# ---- downloads (the large settings, on Colab) -------------------------------------------------

#: The real datasets the large settings download: URL and SHA-256 of each file.
DOWNLOADS = {
    "mnist": {
        "fname": "mnist.npz",
        "url": "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        "sha256": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    },
    "tiny_shakespeare": {
        "fname": "tinyshakespeare.txt",
        "url": "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
               "tinyshakespeare/input.txt",
        "sha256": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    },
}
#: A JSON file ``{name: {"url": ..., "sha256": ...}}`` that replaces entries of
#: :data:`DOWNLOADS` -- local stand-ins (``file://`` URLs) for tests of the large path.
DOWNLOADS_ENV = "RNNBOOK_DOWNLOADS"


def download_entry(name: str) -> dict:
    """The URL, file name and hash to download ``name`` from (with any local override)."""
    import json
    import os

    if name not in DOWNLOADS:
        raise KeyError(f"unknown download {name!r}; known: {', '.join(DOWNLOADS)}")
    entry = dict(DOWNLOADS[name])
    override = os.environ.get(DOWNLOADS_ENV)
    if override:
        try:
            with open(override, encoding="utf-8") as f:
                entry.update(json.load(f).get(name, {}))
        except (OSError, ValueError) as err:
            raise ValueError(f"{DOWNLOADS_ENV}={override} is not a readable JSON file "
                             f"of download overrides: {err}") from None
    return entry


def download(name: str, cache_dir: str | None = None) -> str:
    """Download a dataset file once (``keras.utils.get_file``), check its SHA-256, return its path.

    Needs the network (or a ``file://`` override, see :data:`DOWNLOADS_ENV`); a file whose hash
    differs raises a ``ValueError`` instead of being used.
    """
    import keras

    entry = download_entry(name)
    return keras.utils.get_file(entry["fname"], entry["url"], file_hash=entry["sha256"],
                                hash_algorithm="sha256", cache_dir=cache_dir)


def load_mnist(cache_dir: str | None = None):
    """MNIST as ``(train_images, train_labels), (test_images, test_labels)`` (uint8 images of
    shape ``(n, 28, 28)``), downloaded and hash-checked like ``keras.datasets.mnist``.
    Used by chapter 9's large settings."""
    with np.load(download("mnist", cache_dir), allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


# ---- local stand-ins for the downloads (tests and dry runs of the large settings) ---------------

#: Sizes of the MNIST stand-in: a chapter's smoke settings must not ask for more examples.
STAND_IN_MNIST_SIZES = (1200, 300)
#: Characters of the corpus stand-in (the start of the shipped excerpt).
STAND_IN_CORPUS_CHARS = 40_000


def mnist_stand_in(n_train: int = STAND_IN_MNIST_SIZES[0], n_test: int = STAND_IN_MNIST_SIZES[1],
                   seed: int = 0) -> dict:
    """Images in MNIST's format (``uint8``, ``(n, 28, 28)``, labels 0-9) that a model can tell
    apart, for tests of the large settings: nothing comes from the real data set.

    Each class is a bright bar at a place of its own (rows for 0-4, columns for 5-9) on noise.
    Returns the arrays of ``mnist.npz``: ``x_train, y_train, x_test, y_test``.
    """
    rng = np.random.default_rng(seed)

    def draw(n):
        labels = rng.integers(0, 10, size=n).astype("uint8")
        images = rng.integers(0, 60, size=(n, 28, 28)).astype("uint8")
        for i, label in enumerate(labels):
            at = 4 + 4 * (int(label) % 5)
            if label < 5:
                images[i, at:at + 3, 4:24] = 255
            else:
                images[i, 4:24, at:at + 3] = 255
        return images, labels

    (x_train, y_train), (x_test, y_test) = draw(n_train), draw(n_test)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def write_stand_ins(folder) -> Path:
    """Write a small MNIST-format archive and a small corpus into ``folder``, and a manifest
    that points :func:`download` at them (``file://`` URLs with their SHA-256). Returns the
    manifest's path: set ``RNNBOOK_DOWNLOADS`` to it (and ``KERAS_HOME`` to an empty folder, so
    that Keras's cache of the real files is neither used nor overwritten).
    """
    import hashlib
    import json

    from rnnbook.text import load_excerpt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mnist = folder / "mnist-stand-in.npz"
    np.savez_compressed(mnist, **mnist_stand_in())
    corpus = folder / "corpus-stand-in.txt"
    corpus.write_text(load_excerpt()[:STAND_IN_CORPUS_CHARS], encoding="utf-8")
    manifest = folder / "downloads.json"
    manifest.write_text(json.dumps({
        name: {"url": path.resolve().as_uri(),
               "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        for name, path in (("mnist", mnist), ("tiny_shakespeare", corpus))}, indent=1))
    return manifest
