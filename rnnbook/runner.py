"""Execute a notebook's code cells and collect the outputs of its exercise functions.

``python -m rnnbook.runner NOTEBOOK --chapter 02_rnn --cases hidden --out outputs.npz``

The code cells run in one IPython shell in this process (magics work; the notebook's own check
cells run too, unless ``--skip-checks``, and their failures are only recorded). Then each
exercise's function is called on the requested cases and the outputs are written, as plain arrays,
to ``--out``. Nothing is judged here: :mod:`rnnbook.checks.build` turns the solutions' outputs into
the stored expected values, and :mod:`rnnbook.grade` judges a student's outputs in its own process,
outside the student's code.

When :mod:`rnnbook.grade` runs this module (inside its bubblewrap sandbox) it also passes
``--memory-mb`` (``RLIMIT_AS``: the address space of this process and all it starts),
``--max-file-mb`` (``RLIMIT_FSIZE``: no file written, the result included, grows past it),
``--call-timeout`` (seconds per exercise case) and ``--progress FILE`` (where the run is, so that a
process that dies can be reported as "died in cell 7"). The limits are set before any notebook
code runs, hard limits included, and the sandbox drops the capabilities needed to raise them.

The result file is a :func:`rnnbook.checks.core.pack` archive; its ``__meta__`` holds
``cell_errors`` (``[{"cell", "error"}]``), ``errors`` (``{exercise: {case: message}}``),
``timeouts`` (``{exercise: [case, ...]}``), ``missing`` (exercises whose function is not defined)
and ``not_implemented`` (exercises whose function still raises ``NotImplementedError``).
Everything in it came from the student's process: the grader treats it as data, never as a verdict.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import resource
import signal
import sys
import time

import nbformat
import numpy as np

from rnnbook.checks import exercises
from rnnbook.checks.core import pack


class CellTimeout(Exception):
    """Raised inside a cell that ran past the per-cell time limit."""


class _BoundedSink(io.TextIOBase):
    """A stdout that keeps only the first ``limit`` characters (a student may print forever)."""

    def __init__(self, limit: int = 20_000):
        self.limit, self.parts, self.size = limit, [], 0

    def write(self, s):
        if self.size < self.limit:
            self.parts.append(s[: self.limit - self.size])
        self.size += len(s)
        return len(s)

    def getvalue(self) -> str:
        return "".join(self.parts)


def code_cells(path: str) -> list[str]:
    """The sources of a notebook's code cells; a clear error when the file is not a notebook."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:
        raise ValueError(f"{path} is not a readable notebook: {err}") from None
    return [c.source for c in nb.cells if c.cell_type == "code"]


def is_check_cell(source: str) -> bool:
    """True for a cell that only calls ``check(...)`` (the notebook's own check cells)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return bool(tree.body) and all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name) and node.value.func.id == "check"
        for node in tree.body)


MAX_CELL_ERRORS = 50  # records kept per run: the meta data stays small whatever the notebook does


def limit_resources(memory_mb: float | None = None, max_file_mb: float | None = None) -> None:
    """Cap this process (and what it starts): address space, file size, no core dumps."""
    limits = [(resource.RLIMIT_CORE, 0)]
    if memory_mb:
        limits.append((resource.RLIMIT_AS, int(memory_mb * 2**20)))
    if max_file_mb:
        limits.append((resource.RLIMIT_FSIZE, int(max_file_mb * 2**20)))
    for which, value in limits:
        resource.setrlimit(which, (value, value))


class _Progress:
    """Writes where the run is to a small file (``cell 7``, ``collect forward``), if asked to."""

    def __init__(self, path: str | None):
        self.path = os.path.abspath(path) if path else None

    def __call__(self, where: str) -> None:
        if self.path is None:
            return
        try:
            with open(self.path, "w") as f:
                f.write(where[:200])
        except OSError:
            pass


def _alarm(seconds: float):
    def handler(signum, frame):
        raise CellTimeout(f"ran longer than {seconds:g} s and was stopped (an endless loop, or "
                          "waiting for input?)")

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def execute(sources: list[str], cell_timeout: float = 120.0,
            skip_checks: bool = False, progress=None) -> tuple[dict, list]:
    """Run the cells in order; return the user namespace and one record per failing cell.

    ``skip_checks`` leaves out the cells that only call ``check(...)``: their verdicts are not
    wanted here (and while expected outputs are being built they have nothing to compare with).
    Cells are numbered from 1 among the code cells, as a student counts them.
    """
    progress = progress or _Progress(None)
    os.environ.setdefault("MPLBACKEND", "Agg")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    errors = []
    for i, src in enumerate(sources):
        if skip_checks and is_check_cell(src):
            continue
        sink = _BoundedSink()
        progress(f"cell {i + 1}")
        try:
            _alarm(cell_timeout)
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                result = shell.run_cell(src, store_history=False, silent=True)
        except CellTimeout as err:
            if len(errors) < MAX_CELL_ERRORS:
                errors.append({"cell": i + 1, "error": f"CellTimeout: {err}"})
            continue
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        err = result.error_before_exec or result.error_in_exec
        if err is not None and len(errors) < MAX_CELL_ERRORS:
            errors.append({"cell": i + 1, "error": f"{type(err).__name__}: {err}"[:500]})
    return shell.user_ns, errors


def collect(chapter: str, namespace: dict, hidden: bool, call_timeout: float = 60.0,
            progress=None, report: dict | None = None):
    """``({exercise: {case: {"output": arrays}}}, {exercise: {case: error}}, [missing])``.

    ``report``, when given, also receives ``timeouts`` (``{exercise: [case, ...]}``: after the
    first case that runs past ``call_timeout`` the exercise's remaining cases are not run) and
    ``not_implemented`` (exercises whose function still raises ``NotImplementedError``).
    """
    progress = progress or _Progress(None)
    report = {} if report is None else report
    timeouts = report.setdefault("timeouts", {})
    not_implemented = report.setdefault("not_implemented", [])
    outputs, errors, missing = {}, {}, []
    for name, ex in exercises(chapter).items():
        fn = namespace.get(ex.target)
        if not callable(fn):
            missing.append(name)
            continue
        progress(f"exercise {name}")
        timed_out = False
        for case, args in ex.make_cases(hidden=hidden).items():
            if timed_out:
                timeouts[name].append(case)
                errors.setdefault(name, {})[case] = "not run: an earlier case ran out of time"
                continue
            try:
                _alarm(call_timeout)
                with contextlib.redirect_stdout(_BoundedSink()), \
                        contextlib.redirect_stderr(_BoundedSink()):
                    got = ex.run(fn, [np.array(a, copy=True) for a in args])
                outputs.setdefault(name, {})[case] = {"output": got}
            except NotImplementedError:
                errors.setdefault(name, {})[case] = "not implemented (still raises NotImplementedError)"
                if name not in not_implemented:
                    not_implemented.append(name)
            except CellTimeout:
                timed_out = True
                timeouts.setdefault(name, []).append(case)
                errors.setdefault(name, {})[case] = (
                    f"your function ran longer than {call_timeout:g} s on this case "
                    "(an endless loop?)")
            except BaseException as err:  # noqa: BLE001 -- anything a student's code raises
                if isinstance(err, KeyboardInterrupt):
                    raise
                errors.setdefault(name, {})[case] = f"your function raised {type(err).__name__}: {err}"[:500]
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    return outputs, errors, missing


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebook")
    p.add_argument("--chapter", required=True)
    p.add_argument("--cases", choices=["visible", "hidden"], default="hidden")
    p.add_argument("--out", required=True)
    p.add_argument("--cell-timeout", type=float, default=120.0)
    p.add_argument("--call-timeout", type=float, default=60.0,
                   help="seconds per call of an exercise function on one case")
    p.add_argument("--skip-checks", action="store_true",
                   help="do not run the cells that only call check(...)")
    p.add_argument("--memory-mb", type=float, default=None,
                   help="cap the address space (RLIMIT_AS) of this process and its children")
    p.add_argument("--max-file-mb", type=float, default=None,
                   help="cap the size of any file written (RLIMIT_FSIZE), the result included")
    p.add_argument("--progress", default=None, help="file to write the current cell/exercise to")
    args = p.parse_args(argv)
    limit_resources(args.memory_mb, args.max_file_mb)
    out = os.path.abspath(args.out)  # the student's code may chdir
    progress = _Progress(args.progress)
    start = time.perf_counter()
    progress("reading the notebook")
    sources = code_cells(args.notebook)
    namespace, cell_errors = execute(sources, args.cell_timeout, args.skip_checks, progress)
    report: dict = {}
    outputs, errors, missing = collect(args.chapter, namespace, args.cases == "hidden",
                                       args.call_timeout, progress, report)
    progress("writing the result")
    meta = {"cell_errors": cell_errors, "errors": errors, "missing": missing,
            "timeouts": report["timeouts"], "not_implemented": report["not_implemented"],
            "chapter": args.chapter, "cases": args.cases, "cells": len(sources),
            "seconds": round(time.perf_counter() - start, 3)}
    tmp = out + ".tmp.npz"
    np.savez_compressed(tmp, **pack(outputs, meta))
    os.replace(tmp, out)
    progress("done")
    try:
        print(json.dumps({"cells": len(sources), "cell_errors": len(cell_errors),
                          "missing": missing}), file=sys.__stdout__, flush=True)
    except (OSError, ValueError):  # the student's code closed stdout: the result file is written
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
