"""Text data for the character-level models (taught in chapter 7, ``book/07_lstm.ipynb``).

- :func:`load_shakespeare` returns the tiny-Shakespeare corpus: the full public file (1,115,394
  characters, downloaded with ``keras.utils.get_file`` and checked against its SHA-256) when
  ``online=True``, or by default the excerpt this package ships (its first 63,889 characters), so
  that every notebook and test runs with no network.
- :class:`CharVocab` maps characters to integer ids and back.
- :func:`char_sequences` cuts a sequence of ids into inputs and next-character targets.

Chapter 7 writes each of these out; later chapters import them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from rnnbook.data import DOWNLOADS, download, download_entry

#: URL and SHA-256 of the full corpus (also in :data:`rnnbook.data.DOWNLOADS`), as published in
#: TensorFlow Datasets' checksum list (``tensorflow_datasets/url_checksums/tiny_shakespeare.txt``).
TINY_SHAKESPEARE_URL = DOWNLOADS["tiny_shakespeare"]["url"]
TINY_SHAKESPEARE_SHA256 = DOWNLOADS["tiny_shakespeare"]["sha256"]
TINY_SHAKESPEARE_CHARS = 1_115_394
EXCERPT_FILE = "shakespeare_excerpt.txt"
EXCERPT_CHARS = 63_889
EXCERPT_SOURCE = (
    "the first 63,889 characters of tiny Shakespeare (Coriolanus, acts 1-2 and the start of 3; "
    "public domain), shipped with rnnbook"
)
FULL_SOURCE = ("the full tiny-Shakespeare corpus (1,115,394 characters), downloaded and "
               "hash-checked")


@dataclass(frozen=True)
class Corpus:
    """A text and a one-line description of where it came from (print it: say which ran)."""

    text: str
    source: str

    def __repr__(self) -> str:
        return f"Corpus({len(self.text):,} characters: {self.source})"


def load_excerpt() -> str:
    """The offline excerpt shipped in ``rnnbook/data/``. Taught in chapter 7."""
    path = resources.files("rnnbook") / "data" / EXCERPT_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"The Shakespeare excerpt is missing from the installed package ({path}); "
            "reinstall rnnbook (pip install -e .)."
        )
    text = path.read_text(encoding="utf-8")
    if len(text) != EXCERPT_CHARS:
        raise ValueError(f"{path} has {len(text):,} characters, expected {EXCERPT_CHARS:,}: "
                         "the file is damaged; reinstall rnnbook.")
    return text


def download_tiny_shakespeare(cache_dir: str | None = None) -> Corpus:
    """Download the full corpus (needs the network) and check its SHA-256.

    ``keras.utils.get_file`` caches the file (in ``~/.keras/datasets`` by default) and raises a
    ``ValueError`` when the downloaded file's hash differs from :data:`TINY_SHAKESPEARE_SHA256`.
    A local stand-in (``RNNBOOK_DOWNLOADS``, for tests of the large settings) is named as such
    in the corpus's ``source``. Taught in chapter 7.
    """
    path = download("tiny_shakespeare", cache_dir)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    entry = download_entry("tiny_shakespeare")
    if entry["sha256"] == TINY_SHAKESPEARE_SHA256:
        return Corpus(text, FULL_SOURCE)
    return Corpus(text, f"a local stand-in for tiny Shakespeare ({len(text):,} characters, "
                        "hash-checked), not the real corpus")


def load_shakespeare(online: bool = False) -> Corpus:
    """The full corpus when ``online`` (Colab with a GPU), else the shipped excerpt.

    Taught in chapter 7. ``online=True`` needs the network; there is no silent fallback, so a
    notebook never claims to have used the full corpus when it did not.
    """
    if online:
        return download_tiny_shakespeare()
    return Corpus(load_excerpt(), EXCERPT_SOURCE)


class CharVocab:
    """A character vocabulary: ids ``0 .. size-1`` for the sorted distinct characters of a text.

    Taught in chapter 7.
    """

    def __init__(self, text: str):
        if not text:
            raise ValueError("cannot build a vocabulary from an empty text")
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Ids of ``text``, shape ``(len(text),)``, dtype int32."""
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {unknown!r}")
        return np.array([self.index[c] for c in text], dtype="int32")

    def decode(self, ids) -> str:
        """The text of a sequence of ids."""
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(f"ids must lie in [0, {self.size}), got {ids.min()}..{ids.max()}")
        return "".join(self.chars[int(i)] for i in ids.ravel())

    def __repr__(self) -> str:
        return f"CharVocab({self.size} characters)"


def char_sequences(ids, length: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``X[k] = ids[s : s+length]`` and targets ``Y[k] = ids[s+1 : s+length+1]``.

    ``s = k * stride`` (default ``stride = length``: windows that do not overlap). Shapes
    ``(n, length)`` each; the target at every position is the next character. Taught in chapter 7.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"char_sequences wants a 1-D sequence of ids, got shape {ids.shape}")
    stride = length if stride is None else stride
    if length < 1 or stride < 1:
        raise ValueError(f"length and stride must be >= 1, got {length} and {stride}")
    n = (len(ids) - length - 1) // stride + 1
    if len(ids) < length + 1:
        raise ValueError(f"a text of {len(ids)} ids is too short for sequences of length {length}")
    starts = np.arange(n) * stride
    X = np.stack([ids[s : s + length] for s in starts])
    Y = np.stack([ids[s + 1 : s + length + 1] for s in starts])
    return X, Y
