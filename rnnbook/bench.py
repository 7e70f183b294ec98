"""The course benchmark: how long everything a reader, a student or CI waits for takes.

``python -m rnnbook.bench`` prints a table of:

- the execution time of every notebook in ``book/`` and ``solutions/`` (fresh kernel each);
- the speed ratios the chapters measure (values a chapter glues under a name starting with
  ``speed_``, e.g. ``speed_lstm_fused_vs_scratch``), read from the executed notebooks;
- the book build from cold (empty build folder) and from cache (a second build);
- the whole test suite (the README's test command), unless ``--skip-tests``.

Floors on the 2-core CI machine: each notebook <= 60 s, the whole suite <= 10 min, a cached build
<= 30 s. Progress goes to stderr; the table to stdout (``--json`` for a machine-readable copy).
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
FLOORS = {"notebook": 60.0, "tests": 600.0, "build_cached": 30.0}


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
    progress("the whole test suite (python -m pytest) -- several minutes")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=ROOT, capture_output=True,
                          text=True)
    tail = [l for l in proc.stdout.splitlines() if l.strip()][-1:] or ["(no output)"]
    return {"tests": round(time.perf_counter() - start, 1), "tests_summary": tail[0],
            "tests_status": "ok" if proc.returncode == 0 else f"FAILED (exit {proc.returncode})"}


def report(rows, speeds, build, tests) -> str:
    lines = [f"Course benchmark on {platform.node() or 'this machine'} "
             f"({platform.processor() or platform.machine()}, Python {platform.python_version()})",
             "", "| notebook | seconds | floor | status |", "| --- | ---: | ---: | --- |"]
    for r in rows:
        flag = "ok" if r["seconds"] <= FLOORS["notebook"] else "OVER"
        lines.append(f"| {r['notebook']} | {r['seconds']:.1f} | 60 | {r['status']}, {flag} |")
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
