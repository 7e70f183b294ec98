"""Execute a notebook's code cells, then call its exercise functions on given cases.

    python -m rnnbook.runner (--notebook NB | --sources CELLS.json) --chapter 02_rnn
        --cases CASES.npz (--out OUT.npz | --result-fd N) [limits]

The code cells run in order in one IPython shell in this process, like *Restart & Run All* (a
failing cell is recorded and the next one runs; with ``--skip-checks`` the cells that only call
``check(...)`` are left out). Then each exercise's function is called on the cases of
``--cases`` (a :mod:`rnnbook.checks.store` archive of inputs, written by the grader or the key
build) through :func:`rnnbook.checks.core.run_cases`, and the outputs -- plain numeric arrays --
are written as an archive of the same layout. Nothing is judged here: the grader judges the
outputs in its own process, outside the student's code.

When the grader runs this module inside its sandbox it passes the code cells as JSON
(``--sources``: it has parsed and checked the notebook itself), the result and progress as file
descriptors it opened outside the sandbox (``--result-fd``, ``--progress-fd``: the sandbox's own
disk is a tmpfs that vanishes with it), and the limits: ``--memory-mb`` (``RLIMIT_AS``),
``--max-file-mb`` (``RLIMIT_FSIZE``: no file written, the result included, grows past it),
``--max-procs`` (``RLIMIT_NPROC``), ``--cell-timeout`` and ``--call-timeout`` (alarms; a training
exercise may have its own, capped by ``--max-call-timeout``). The limits are set before any
notebook code runs, hard limits included, and the sandbox drops the capabilities to raise them.

The result's ``__meta__`` holds ``cell_errors`` (``[{"cell", "error"}]``), ``errors``
(``{set: {exercise: {case: CaseError}}}``), ``missing`` (exercises whose function is not
defined), and timings. Everything in it came from the student's process: the grader treats it
as data, never as a verdict.
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

import numpy as np

from rnnbook.checks import exercises, store
from rnnbook.checks.core import CallTimeout, CaseError, run_cases


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
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:
        raise ValueError(f"{path} is not a readable notebook: {err}") from None
    return [c.source for c in nb.cells if c.cell_type == "code"]


def is_check_cell(source: str) -> bool:
    """True for a cell that only calls ``check(...)`` (the notebook's own check cells)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return bool(tree.body) and all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name) and node.value.func.id == "check"
        for node in tree.body)


MAX_CELL_ERRORS = 50  # records kept per run: the meta data stays small whatever the notebook does


def limit_resources(memory_mb: float | None = None, max_file_mb: float | None = None,
                    max_procs: int | None = None) -> None:
    """Cap this process (and what it starts): address space, file size, processes, no cores."""
    limits = [(resource.RLIMIT_CORE, 0)]
    if memory_mb:
        limits.append((resource.RLIMIT_AS, int(memory_mb * 2**20)))
    if max_file_mb:
        limits.append((resource.RLIMIT_FSIZE, int(max_file_mb * 2**20)))
    if max_procs:
        limits.append((resource.RLIMIT_NPROC, int(max_procs)))
    for which, value in limits:
        resource.setrlimit(which, (value, value))


class _Progress:
    """Writes where the run is (``cell 7``, ``exercise forward``) to a file or a descriptor."""

    def __init__(self, path: str | None = None, fd: int | None = None):
        self.path = os.path.abspath(path) if path else None
        self.fd = fd

    def __call__(self, where: str) -> None:
        data = where[:200].encode("utf-8", "replace")
        try:
            if self.fd is not None:
                os.ftruncate(self.fd, 0)
                os.pwrite(self.fd, data, 0)
            elif self.path is not None:
                with open(self.path, "wb") as f:
                    f.write(data)
        except OSError:
            pass


class CellTimeout(CallTimeout):
    """Raised inside a cell that ran past the per-cell time limit."""


def _alarm(seconds: float, what: str, error=CallTimeout):
    def handler(signum, frame):
        raise error(f"{what} ran longer than {seconds:g} s and was stopped (an endless loop, or "
                    "waiting for input?)")

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)


@contextlib.contextmanager
def guarded(seconds: float, what: str = "the call"):
    """A time limit (``CallTimeout``) and bounded output sinks around a call."""
    try:
        _alarm(seconds, what)
        with (contextlib.redirect_stdout(_BoundedSink()),
              contextlib.redirect_stderr(_BoundedSink())):
            yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def execute(sources: list[str], cell_timeout: float = 120.0,
            skip_checks: bool = False, progress=None) -> tuple[dict, list]:
    """Run the cells in order; return the user namespace and one record per failing cell.

    Cells are numbered from 1 among the code cells, as a student counts them.
    """
    progress = progress or _Progress()
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
            _alarm(cell_timeout, "the cell", CellTimeout)
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                result = shell.run_cell(src, store_history=False, silent=True)
        except CallTimeout as err:  # the alarm rang between two statements of IPython's
            if len(errors) < MAX_CELL_ERRORS:
                errors.append({"cell": i + 1, "error": f"CellTimeout: {err}"})
            continue
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        err = result.error_before_exec or result.error_in_exec
        if err is not None and len(errors) < MAX_CELL_ERRORS:
            errors.append({"cell": i + 1, "error": f"{type(err).__name__}: {err}"[:500]})
    return shell.user_ns, errors


def read_cases(path: str) -> tuple[dict, dict]:
    """``({set: {exercise: {case: args}}}, {set: {exercise: {case: seed}}})`` from a cases file."""
    results, meta = store.load(path)
    cases: dict = {}
    for group in results:
        for ex, cs in store.case_sets(results, meta, group).items():
            cases.setdefault(group, {})[ex] = cs.inputs
    return cases, meta.get("seeds", {})


def write_cases(path, cases: dict, seeds: dict | None = None) -> None:
    """Write ``{set: {exercise: {case: args}}}`` (and seeds) as a cases file for the runner."""
    results = {g: {ex: {c: {"input": args} for c, args in by_case.items()}
                   for ex, by_case in by_ex.items()} for g, by_ex in cases.items()}
    order = {g: {ex: list(by_case) for ex, by_case in by_ex.items()} for g, by_ex in cases.items()}
    store.save(path, results, {"order": order, "seeds": seeds or {}})


def collect(chapter: str, namespace: dict, cases: dict, seeds: dict | None = None,
            call_timeout: float = 60.0, max_call_timeout: float | None = None,
            progress=None) -> tuple[dict, dict, list]:
    """Call each exercise's function on its cases: ``(outputs, errors, missing)`` with
    ``outputs[set][exercise][case] = {"output": arrays}`` and ``errors[set][exercise][case]``
    the :class:`CaseError` as JSON."""
    progress = progress or _Progress()
    seeds = seeds or {}
    outputs: dict = {}
    errors: dict = {}
    missing: list = []
    for name, ex in exercises(chapter).items():
        fn = namespace.get(ex.target)
        if not callable(fn):
            missing.append(name)
            continue
        limit = ex.time_limit or call_timeout
        if max_call_timeout:
            limit = min(limit, max_call_timeout)
        for group, by_ex in cases.items():
            if name not in by_ex:
                continue
            got = run_cases(ex, fn, by_ex[name],
                            guard=lambda limit=limit: guarded(limit),
                            seeds=seeds.get(group, {}).get(name),
                            on_case=lambda case, name=name: progress(f"exercise {name}"))
            for case, out in got.items():
                if isinstance(out, CaseError):
                    errors.setdefault(group, {}).setdefault(name, {})[case] = out.to_json()
                else:
                    outputs.setdefault(group, {}).setdefault(name, {})[case] = {"output": out}
    return outputs, errors, missing


def write_result(outputs: dict, meta: dict, out: str | None = None,
                 fd: int | None = None) -> None:
    """Write the archive to ``out`` (through a temporary file) or to the descriptor ``fd``."""
    arrays = store.pack(outputs, meta)
    if fd is not None:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        with os.fdopen(os.dup(fd), "wb") as f:
            np.savez_compressed(f, **arrays)
        return
    tmp = out + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--notebook", help="the notebook whose code cells to run")
    src.add_argument("--sources", help="a JSON list of code-cell sources (the grader's)")
    p.add_argument("--chapter", required=True)
    p.add_argument("--cases", required=True, help="the cases file (inputs only)")
    dest = p.add_mutually_exclusive_group(required=True)
    dest.add_argument("--out", help="where to write the outputs")
    dest.add_argument("--result-fd", type=int, help="a file descriptor to write the outputs to")
    p.add_argument("--cell-timeout", type=float, default=120.0)
    p.add_argument("--call-timeout", type=float, default=60.0,
                   help="seconds per call of an exercise function on one case")
    p.add_argument("--max-call-timeout", type=float, default=None,
                   help="cap on any exercise's own time limit (the submission's timeout)")
    p.add_argument("--skip-checks", action="store_true",
                   help="do not run the cells that only call check(...)")
    p.add_argument("--memory-mb", type=float, default=None, help="RLIMIT_AS of this process")
    p.add_argument("--max-file-mb", type=float, default=None, help="RLIMIT_FSIZE")
    p.add_argument("--max-procs", type=int, default=None, help="RLIMIT_NPROC")
    p.add_argument("--progress", default=None, help="file to write the current cell/exercise to")
    p.add_argument("--progress-fd", type=int, default=None)
    args = p.parse_args(argv)
    limit_resources(args.memory_mb, args.max_file_mb, args.max_procs)
    out = os.path.abspath(args.out) if args.out else None  # the student's code may chdir
    progress = _Progress(args.progress, args.progress_fd)
    start = time.perf_counter()
    progress("reading the notebook")
    cases, seeds = read_cases(args.cases)
    if args.sources:
        with open(args.sources, encoding="utf-8") as f:
            sources = json.load(f)
    else:
        sources = code_cells(args.notebook)
    namespace, cell_errors = execute(sources, args.cell_timeout, args.skip_checks, progress)
    outputs, errors, missing = collect(args.chapter, namespace, cases, seeds, args.call_timeout,
                                       args.max_call_timeout, progress)
    progress("writing the result")
    meta = {"cell_errors": cell_errors, "errors": errors, "missing": missing,
            "chapter": args.chapter, "cells": len(sources),
            "seconds": round(time.perf_counter() - start, 3)}
    write_result(outputs, meta, out, args.result_fd)
    progress("done")
    try:
        print(json.dumps({"cells": len(sources), "cell_errors": len(cell_errors),
                          "missing": missing}), file=sys.__stdout__, flush=True)
    except (OSError, ValueError):  # the student's code closed stdout: the result is written
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
