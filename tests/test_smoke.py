"""The large (GPU) settings, tested on a CPU: every book notebook runs in smoke mode.

``RNNBOOK_SMOKE=1`` makes ``start()`` choose the large settings -- the branches, loaders and
shapes a GPU run takes -- with the chapter's ``smoke=`` sizes (a handful of steps, tiny data), see
``rnnbook.setup``. Outputs are not compared; any cell error fails, and the message names the
cell. The downloads are served by local stand-ins that this test writes: a small MNIST-format
archive (``x_train, y_train, x_test, y_test``) and a small corpus, each listed with its SHA-256 in
an ``RNNBOOK_DOWNLOADS`` manifest as a ``file://`` URL; Keras caches them in a temporary
``KERAS_HOME``, and proxies that lead nowhere make any other download fail instead of reaching
the network.

The notebooks share one kernel, which saves each of them a kernel start, the TensorFlow import
and TensorFlow's first-use costs (together about half of a smoke run). Before each notebook, a
first cell clears what the one before left: every name (``%reset -f``), Keras's session, the
open figures, and the downloads cache, so that each notebook must define what it uses and fetch
its own data. After a failure the kernel is replaced by a fresh one.

One chapter: ``python -m pytest tests/test_smoke.py -p no:nbval -o addopts="" -k 07_lstm``.
"""

from __future__ import annotations

import os
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


class SharedKernel:
    """One kernel for the smoke runs, started with the smoke environment."""

    def __init__(self, env: dict):
        self.env, self.km = env, None

    def manager(self):
        """The running kernel's manager; a fresh kernel if there is none or it died."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        if self.km is not None and not run_sync(self.km.is_alive)():
            self.close()
        if self.km is None:
            self.km = AsyncKernelManager(kernel_name="python3")
            run_sync(self.km.start_kernel)(cwd=str(ROOT / "book"), env=self.env)
        return self.km

    def close(self) -> None:
        from jupyter_core.utils import run_sync

        if self.km is not None:
            km, self.km = self.km, None
            try:
                run_sync(km.shutdown_kernel)(now=True)
            except RuntimeError:  # already gone
                pass


@pytest.fixture(scope="module")
def kernel(stand_ins, tmp_path_factory):
    """The shared kernel and its (emptied before each notebook) ``KERAS_HOME``."""
    keras_home = tmp_path_factory.mktemp("keras")  # nothing cached or real is used
    env = {**os.environ, "RNNBOOK_SMOKE": "1", "RNNBOOK_DOWNLOADS": str(stand_ins),
           "KERAS_HOME": str(keras_home)}
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[proxy] = "http://127.0.0.1:9"  # any other download fails at once
    for var in ("no_proxy", "NO_PROXY"):
        env.pop(var, None)
    shared = SharedKernel(env)
    yield shared, keras_home
    shared.close()


def clean_slate(keras_home) -> str:
    """The first cell of every smoke run: nothing left from the notebook before."""
    return ("%reset -f\n"
            "import shutil\n"
            "import keras\n"
            "import matplotlib.pyplot as plt\n"
            "keras.backend.clear_session()\n"
            "plt.close('all')\n"
            f"shutil.rmtree({str(keras_home / 'datasets')!r}, ignore_errors=True)\n"
            "%reset -f")


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


def run_in(kernel, nb):
    """Run ``nb`` in the shared kernel after the clean-slate cell. Returns the executed copy, the
    error (or None) and the index of the notebook's own cell that was running."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    shared, keras_home = kernel
    run = nbformat.from_dict(nb)
    run.cells.insert(0, nbformat.v4.new_code_cell(clean_slate(keras_home)))
    client = NotebookClient(run, km=shared.manager(), timeout=CELL_TIMEOUT,
                            kernel_name="python3", record_timing=False)
    running = []
    client.on_cell_start = lambda cell, cell_index: running.append(cell_index)
    error = None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        error = err
        shared.close()  # the next notebook gets a fresh kernel
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
    return run, error, (running[-1] - 1 if running else None)


def test_a_notebook_sees_nothing_of_the_one_before(kernel):
    first = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nleftover = np.ones(3)")])
    second = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("leftover")])
    assert run_in(kernel, first)[1] is None
    run, error, index = run_in(kernel, second)
    assert index == 0 and "NameError" in str(error), error


@pytest.mark.parametrize("path", BOOK, ids=[str(p.relative_to(ROOT)) for p in BOOK])
def test_notebook_runs_its_large_path_in_smoke_mode(path, kernel):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    run, error, index = run_in(kernel, nb)
    if error is not None:
        if index is not None and index < 0:
            pytest.fail(f"{path.name}: the clean-slate cell failed: {error}", pytrace=False)
        if index is not None:
            nb.cells[index] = run.cells[index + 1]  # with its outputs
        pytest.fail(explain_failure(path, nb, index, error), pytrace=False)
    _, keras_home = kernel
    nb = run
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
        assert (keras_home / "datasets" / fname).exists(), (
            f"{path.name} did not fetch {fname} through rnnbook.data.download in smoke mode")
    print(f"{path.name}: smoke run {seconds:.1f} s")
