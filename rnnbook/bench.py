"""The course benchmark: how long everything a reader, a student or CI waits for takes.

``python -m rnnbook.bench`` prints a table of:

- the execution time of every notebook in ``book/`` and ``solutions/`` (fresh kernel each);
- the speed ratios the chapters measure (values a chapter glues under a name starting with
  ``speed_``, e.g. ``speed_lstm_fused_vs_scratch``), read from the executed notebooks;
- the book build from cold (empty build folder) and from cache (a second build);
- the whole test suite (the README's test command, ``./run-tests``), unless ``--skip-tests``.

Floors on the 2-core CI machine: each notebook <= 90 s, the whole suite <= 10 min, a cached build
<= 30 s. Progress goes to stderr; the table to stdout (``--json`` for a machine-readable copy).

It also holds the pieces of ``scripts/gpu_check.sh`` (the large settings on a GPU):
:func:`execute_timed` runs one notebook and keeps its executed copy, :func:`lstm_kernel_speed`
times Keras's cuDNN LSTM against the generic one, and :func:`gpu_results` reads the results file
the script writes (``rnnbook/data/gpu_results.json``), for a chapter to glue.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

# jupyter-book 1.x has no `python -m jupyter_book`; call its CLI through this interpreter.
JUPYTER_BOOK = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]
ROOT = Path(__file__).resolve().parents[1]
#: Written by scripts/gpu_check.sh on a GPU machine; shipped with the package, read by chapters.
GPU_RESULTS = Path(__file__).resolve().parent / "data" / "gpu_results.json"
FLOORS = {"notebook": 90.0, "tests": 600.0, "build_cached": 30.0}


def progress(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def glued_speeds(nb) -> dict:
    """Values glued by a notebook under names starting with ``speed_``."""
    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            scrapbook = out.get("metadata", {}).get("scrapbook", {})
            name = scrapbook.get("name", "")
            if name.startswith("speed_"):
                prefix = scrapbook.get("mime_prefix", "")
                text = out.get("data", {}).get(f"{prefix}text/plain", "")
                try:
                    found[name] = float(text)
                except ValueError:
                    found[name] = text
    return found


def time_notebooks(paths: list[Path]) -> tuple[list[dict], dict]:
    from nbclient import NotebookClient

    rows, speeds = [], {}
    for i, path in enumerate(paths, 1):
        progress(f"notebook {i}/{len(paths)}: {path.relative_to(ROOT)}")
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        status = "ok"
        try:
            client.execute()
        except Exception as err:  # report, go on
            status = f"FAILED: {type(err).__name__}"
        seconds = time.perf_counter() - start
        rows.append({"notebook": str(path.relative_to(ROOT)), "seconds": round(seconds, 1),
                     "status": status})
        speeds.update({f"{path.stem}:{k}": v for k, v in glued_speeds(nb).items()})
    return rows, speeds


def time_build() -> dict:
    out = Path(tempfile.mkdtemp(prefix="rnnbook-bench-build-"))
    cmd = JUPYTER_BOOK + ["build", str(ROOT), "-W", "-n", "--keep-going",
           "--path-output", str(out)]
    result = {}
    try:
        for label in ("build_cold", "build_cached"):
            progress(f"book build ({label.split('_')[1]})")
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            result[label] = round(time.perf_counter() - start, 1)
            if proc.returncode != 0:
                result[f"{label}_status"] = "FAILED"
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return result


def time_tests() -> dict:
    """The README's test command, ``./run-tests`` (its installs skipped: already done)."""
    import os

    progress("the whole test suite (./run-tests) -- several minutes")
    start = time.perf_counter()
    env = {**os.environ, "RNNBOOK_NO_INSTALL": "1", "PYTHON": sys.executable}
    proc = subprocess.run([str(ROOT / "run-tests"), "-q"], cwd=ROOT, capture_output=True,
                          text=True, env=env)
    tail = [l for l in proc.stdout.splitlines() if l.strip()][-1:] or ["(no output)"]
    return {"tests": round(time.perf_counter() - start, 1), "tests_summary": tail[0],
            "tests_status": "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"}


def report(rows, speeds, build, tests) -> str:
    lines = [f"Course benchmark on {platform.node() or 'this machine'} "
             f"({platform.processor() or platform.machine()}, Python {platform.python_version()})",
             "", "| notebook | seconds | floor | status |", "| --- | ---: | ---: | --- |"]
    for r in rows:
        flag = "ok" if r["seconds"] <= FLOORS["notebook"] else "OVER"
        lines.append(f"| {r['notebook']} | {r['seconds']:.1f} | {FLOORS['notebook']:g} "
                     f"| {r['status']}, {flag} |")
    total = sum(r["seconds"] for r in rows)
    lines.append(f"| **all notebooks** | {total:.1f} | | |")
    if speeds:
        lines += ["", "| speed ratio (glued by the chapter) | value |", "| --- | ---: |"]
        lines += [f"| {k} | {v:.2f} |" if isinstance(v, float) else f"| {k} | {v} |"
                  for k, v in sorted(speeds.items())]
    if build:
        lines += ["", "| book build | seconds | floor |", "| --- | ---: | ---: |",
                  f"| from cold | {build['build_cold']:.1f} | |",
                  f"| from cache | {build['build_cached']:.1f} | 30 |"]
    if tests:
        lines += ["", f"Whole test suite: {tests['tests']:.1f} s (floor 600 s), "
                      f"{tests['tests_status']}: {tests['tests_summary']}"]
    return "\n".join(lines)


def execute_timed(notebook, executed=None, timeout: int | None = None) -> dict:
    """Execute a notebook in a fresh kernel (in its own folder); return its time and status.

    The executed copy goes to ``executed`` (the notebook itself is never rewritten: its stored
    outputs are the CPU runs that nbval compares). ``timeout`` limits each cell (seconds).
    Returns ``{"notebook", "seconds", "status", "speeds", "settings"}``: ``speeds`` are the values
    the notebook glued under ``speed_...``; ``settings`` is the ``Settings(...)`` line it showed.
    """
    from nbclient import NotebookClient

    path = Path(notebook).resolve()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    status = "ok"
    try:
        client.execute()
    except Exception as err:  # report, go on
        failed = [i for i, c in enumerate(nb.cells)
                  if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
        where = f" in cell {failed[0]}" if failed else ""
        status = f"FAILED{where}: {type(err).__name__}: {str(err).strip().splitlines()[-1:]}"
    seconds = time.perf_counter() - start
    if executed:
        Path(executed).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, executed)
    shown = [line for c in nb.cells for o in c.get("outputs", [])
             for line in str(o.get("data", {}).get("text/plain", "")).splitlines()
             if line.startswith("Settings(")]
    try:
        name = str(path.relative_to(ROOT))
    except ValueError:
        name = str(path)
    return {"notebook": name, "seconds": round(seconds, 1), "status": status,
            "speeds": glued_speeds(nb), "settings": shown[0] if shown else None}


def lstm_kernel_speed(batch: int = 256, steps: int = 200, features: int = 64, units: int = 256,
                      repeats: int = 5) -> dict:
    """Milliseconds per batch of Keras's LSTM with the cuDNN kernel and with the generic one.

    Both layers have the same weights; each is timed on the forward pass and on a training step
    (forward and backward) inside ``tf.function``. On a machine without a GPU there is no cuDNN
    kernel: both runs use the generic one (``"cudnn": False``) and the ratio is about 1.
    """
    import keras
    import tensorflow as tf

    from rnnbook.speed import time_call

    gpu = bool(tf.config.list_physical_devices("GPU"))
    x = tf.random.normal((batch, steps, features))  # (batch, time, features)
    fast = keras.layers.LSTM(units, use_cudnn=True if gpu else "auto")
    generic = keras.layers.LSTM(units, use_cudnn=False)
    fast.build(x.shape)
    generic.build(x.shape)
    generic.set_weights(fast.get_weights())

    def train_step(layer):
        @tf.function
        def step(inputs):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(layer(inputs) ** 2)
            return tape.gradient(loss, layer.trainable_weights)
        return step

    ms = {}
    for name, layer in (("cudnn", fast), ("generic", generic)):
        ms[f"{name}_forward_ms"] = 1000 * time_call(tf.function(layer), x, repeats=repeats)
        ms[f"{name}_train_step_ms"] = 1000 * time_call(train_step(layer), x, repeats=repeats)
    shape = {"batch": batch, "time": steps, "features": features, "units": units}
    ratios = {f"generic_vs_cudnn_{what}":
              round(ms[f"generic_{what}_ms"] / ms[f"cudnn_{what}_ms"], 2)
              for what in ("forward", "train_step")}
    return {"cudnn": gpu, "tensorflow": tf.__version__, "shape": shape,
            **{k: round(v, 2) for k, v in ms.items()}, **ratios}


def gpu_results(path=None) -> dict | None:
    """The results of the last ``scripts/gpu_check.sh`` run, or ``None`` when there are none.

    A chapter glues what it quotes, e.g. ``glue("gpu_name", results["gpu"]["name"])`` and
    ``glue("gpu_lstm_speedup", results["lstm"]["generic_vs_cudnn_train_step"])``, and says which
    GPU the numbers come from. A dry run's file (``"dry_run": true``) is never returned.
    """
    path = Path(path) if path else GPU_RESULTS
    if not path.is_file():
        return None
    results = json.loads(path.read_text())
    return None if results.get("dry_run") else results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Time every notebook, the book build and the tests.")
    p.add_argument("--skip-tests", action="store_true", help="do not run the test suite")
    p.add_argument("--skip-build", action="store_true", help="do not build the book")
    p.add_argument("--notebooks", nargs="*", type=Path, help="only these notebooks")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = p.parse_args(argv)
    paths = [Path(n).resolve() for n in args.notebooks] if args.notebooks else (
        sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb")))
    rows, speeds = time_notebooks(paths)
    build = {} if args.skip_build else time_build()
    tests = {} if args.skip_tests else time_tests()
    print(report(rows, speeds, build, tests))
    if args.json:
        args.json.write_text(json.dumps({"notebooks": rows, "speeds": speeds, **build, **tests},
                                        indent=1))
    failed = any(r["status"] != "ok" for r in rows) or "FAILED" in json.dumps([build, tests])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
