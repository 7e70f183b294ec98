"""The large (GPU) settings, tested on a CPU: every book notebook runs in smoke mode.

``RNNBOOK_SMOKE=1`` makes ``start()`` choose the large settings -- the branches, loaders and
shapes a GPU run takes -- with the chapter's ``smoke=`` sizes (a handful of steps, tiny data), see
``rnnbook.setup``. Outputs are not compared; any cell error fails, and the message names the
cell. The downloads are served by local stand-ins that this test writes: a small MNIST-format
archive (``x_train, y_train, x_test, y_test``) and a small corpus, each listed with its SHA-256 in
an ``RNNBOOK_DOWNLOADS`` manifest as a ``file://`` URL; Keras caches them in a temporary
``KERAS_HOME``, and proxies that lead nowhere make any other download fail instead of reaching
the network.

One chapter: ``python -m pytest tests/test_smoke.py -p no:nbval -o addopts="" -k 07_lstm``.
"""

from __future__ import annotations

import re
import time

import nbformat
import numpy as np
import pytest

from helpers import ROOT
from rnnbook.data import STAND_IN_CORPUS_CHARS, STAND_IN_MNIST_SIZES, write_stand_ins

BOOK = sorted((ROOT / "book").glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds; a smoke run is meant to take about 30 s of CPU in all
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory):
    """The stand-in files and the manifest that points rnnbook.data.download at them."""
    return write_stand_ins(tmp_path_factory.mktemp("downloads"))


def test_the_stand_ins_load_through_the_course_loaders(stand_ins, tmp_path, monkeypatch):
    monkeypatch.setenv("RNNBOOK_DOWNLOADS", str(stand_ins))
    from rnnbook.data import load_mnist
    from rnnbook.text import load_shakespeare

    (x_train, y_train), (x_test, y_test) = load_mnist(cache_dir=str(tmp_path))
    n_train, n_test = STAND_IN_MNIST_SIZES
    assert x_train.shape == (n_train, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (n_test, 28, 28) and y_test.shape == (n_test,)
    assert set(np.unique(y_train)) == set(range(10))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    corpus = load_shakespeare(online=True)
    assert len(corpus.text) == STAND_IN_CORPUS_CHARS and "stand-in" in corpus.source


def explain_failure(path, nb, index, err) -> str:
    """Which cell failed, its source, and the end of its traceback."""
    if index is None:
        return f"{path.name} failed in smoke mode before its first cell: {err}"[:4000]
    cell = nb.cells[index]
    number = sum(1 for c in nb.cells[:index + 1] if c.cell_type == "code")
    errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    if errors:
        what = f"{errors[0].get('ename')}: {errors[0].get('evalue')}"
        detail = ANSI.sub("", "\n".join(errors[0].get("traceback", [])))[-2500:]
    else:  # a timeout or a dead kernel leaves no error output
        what, detail = f"{type(err).__name__}: {str(err)[:500]}", ""
    return (f"{path.relative_to(ROOT)}, cell {index} (code cell {number}) failed in smoke mode "
            f"(RNNBOOK_SMOKE=1: the large settings with the chapter's smoke= sizes):\n{what}\n"
            f"--- the cell ---\n{cell.source[:1500]}\n"
            + (f"--- end of the traceback ---\n{detail}" if detail else
               f"(cell limit {CELL_TIMEOUT} s: pass smoke= for the sizes that cost time)"))


@pytest.mark.parametrize("path", BOOK, ids=[str(p.relative_to(ROOT)) for p in BOOK])
def test_notebook_runs_its_large_path_in_smoke_mode(path, stand_ins, tmp_path, monkeypatch):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    monkeypatch.setenv("RNNBOOK_SMOKE", "1")
    monkeypatch.setenv("RNNBOOK_DOWNLOADS", str(stand_ins))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # nothing cached or real is used
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")  # any other download fails at once
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    running = []
    client.on_cell_start = lambda cell, cell_index: running.append(cell_index)
    start, failure = time.perf_counter(), None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        failure = explain_failure(path, nb, running[-1] if running else None, err)
    if failure:
        pytest.fail(failure, pytrace=False)
    seconds = time.perf_counter() - start

    shown = "\n".join(out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
                      for cell in nb.cells for out in cell.get("outputs", []))
    assert "smoke=True" in shown and "settings='large'" in shown, (
        f"{path.name}: no output shows the large settings in smoke mode (display `settings` "
        "from start(...) in the imports cell)")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    downloads = [name for name, call in (("mnist.npz", r"load_mnist\("),
                                         ("tinyshakespeare.txt", r"online=(?!False)"))
                 if re.search(call, code)]
    for fname in downloads:
        assert (tmp_path / "keras" / "datasets" / fname).exists(), (
            f"{path.name} did not fetch {fname} through rnnbook.data.download in smoke mode")
    print(f"{path.name}: smoke run {seconds:.1f} s")
