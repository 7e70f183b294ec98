"""The text data of chapter 7: the shipped Shakespeare excerpt, the download, the vocabulary."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from rnnbook import text as T


def test_the_excerpt_is_the_start_of_tiny_shakespeare():
    corpus = T.load_shakespeare()
    assert corpus.source == T.EXCERPT_SOURCE
    assert len(corpus.text) == T.EXCERPT_CHARS
    assert corpus.text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert corpus.text.endswith("And pass'd him unelected.\n")
    assert "63,889 characters" in repr(corpus)


def test_the_excerpt_is_plain_ascii_with_a_small_vocabulary():
    text = T.load_excerpt()
    assert text.isascii()
    assert 50 <= len(set(text)) <= 65
    assert "\r" not in text


def _serve(tmp_path, content: str):
    src = tmp_path / "input.txt"
    src.write_text(content, encoding="utf-8")
    return src.as_uri(), hashlib.sha256(content.encode()).hexdigest()


def _override(tmp_path, monkeypatch, url, sha):
    manifest = tmp_path / "downloads.json"
    manifest.write_text(json.dumps({"tiny_shakespeare": {"url": url, "sha256": sha}}))
    monkeypatch.setenv("RNNBOOK_DOWNLOADS", str(manifest))


def test_download_checks_the_hash_and_names_a_stand_in(tmp_path, monkeypatch):
    content = "To be, or not to be\n" * 5
    url, sha = _serve(tmp_path, content)
    _override(tmp_path, monkeypatch, url, sha)
    corpus = T.download_tiny_shakespeare(cache_dir=str(tmp_path / "cache"))
    assert corpus.text == content
    assert "stand-in" in corpus.source and corpus.source != T.FULL_SOURCE


def test_download_rejects_a_file_whose_hash_differs(tmp_path, monkeypatch):
    url, _ = _serve(tmp_path, "not the corpus\n")
    _override(tmp_path, monkeypatch, url, "0" * 64)
    with pytest.raises(ValueError):
        T.download_tiny_shakespeare(cache_dir=str(tmp_path / "cache"))


def test_a_broken_override_file_is_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "downloads.json"
    bad.write_text("{not json")
    monkeypatch.setenv("RNNBOOK_DOWNLOADS", str(bad))
    with pytest.raises(ValueError, match="RNNBOOK_DOWNLOADS"):
        T.download_tiny_shakespeare(cache_dir=str(tmp_path / "cache"))


def test_the_published_hash_is_a_sha256():
    assert len(T.TINY_SHAKESPEARE_SHA256) == 64
    int(T.TINY_SHAKESPEARE_SHA256, 16)
    assert T.TINY_SHAKESPEARE_URL.startswith("https://")


def test_vocab_round_trips_and_is_sorted():
    vocab = T.CharVocab("hello, world")
    assert vocab.chars == sorted(set("hello, world"))
    assert vocab.size == 9
    ids = vocab.encode("low")
    assert ids.dtype == np.int32 and ids.shape == (3,)
    assert vocab.decode(ids) == "low"
    assert vocab.decode(vocab.encode("")) == ""


def test_vocab_gives_clear_errors():
    vocab = T.CharVocab("abc")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("abz")
    with pytest.raises(ValueError, match="ids must lie"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match="empty"):
        T.CharVocab("")


def test_char_sequences_targets_are_the_next_characters():
    ids = np.arange(11)
    X, Y = T.char_sequences(ids, 4)
    assert X.shape == Y.shape == (2, 4)
    np.testing.assert_array_equal(X, [[0, 1, 2, 3], [4, 5, 6, 7]])
    np.testing.assert_array_equal(Y, X + 1)
    X, Y = T.char_sequences(ids, 4, stride=1)
    assert X.shape == (7, 4) and Y[-1, -1] == 10


def test_char_sequences_edge_cases():
    X, Y = T.char_sequences(np.arange(5), 4)
    assert X.shape == (1, 4) and Y[0, -1] == 4
    with pytest.raises(ValueError, match="too short"):
        T.char_sequences(np.arange(4), 4)
    with pytest.raises(ValueError, match="1-D"):
        T.char_sequences(np.zeros((2, 3)), 2)
    with pytest.raises(ValueError, match=">= 1"):
        T.char_sequences(np.arange(10), 0)
