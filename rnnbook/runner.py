"""Execute a notebook's code cells and collect the outputs of its exercise functions.

``python -m rnnbook.runner NOTEBOOK --chapter 02_rnn --cases hidden --out outputs.npz``

The code cells run in one IPython shell in this process (magics work; the notebook's own check
cells run too, and their failures are only recorded). Then each exercise's function is called on
the requested cases and the outputs are written, as plain arrays, to ``--out``. Nothing is judged
here: :mod:`rnnbook.checks.build` turns the solutions' outputs into the stored expected values, and
:mod:`rnnbook.grade` judges a student's outputs in its own process, outside the student's code.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import signal
import sys

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


def _alarm(seconds: float):
    def handler(signum, frame):
        raise CellTimeout(f"cell ran longer than {seconds:g} s")

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def execute(sources: list[str], cell_timeout: float = 120.0,
            skip_checks: bool = False) -> tuple[dict, list]:
    """Run the cells in order; return the user namespace and one record per failing cell.

    ``skip_checks`` leaves out the cells that only call ``check(...)``: their verdicts are not
    wanted here (and while expected outputs are being built they have nothing to compare with).
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    errors = []
    for i, src in enumerate(sources):
        if skip_checks and is_check_cell(src):
            continue
        sink = _BoundedSink()
        try:
            _alarm(cell_timeout)
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                result = shell.run_cell(src, store_history=False, silent=True)
        except CellTimeout as err:
            errors.append({"cell": i, "error": f"CellTimeout: {err}"})
            continue
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        err = result.error_before_exec or result.error_in_exec
        if err is not None:
            errors.append({"cell": i, "error": f"{type(err).__name__}: {err}"[:500]})
    return shell.user_ns, errors


def collect(chapter: str, namespace: dict, hidden: bool, call_timeout: float = 60.0):
    """``({exercise: {case: {"output": arrays}}}, {exercise: {case: error}}, [missing])``."""
    outputs, errors, missing = {}, {}, []
    for name, ex in exercises(chapter).items():
        fn = namespace.get(ex.target)
        if not callable(fn):
            missing.append(name)
            continue
        for case, args in ex.make_cases(hidden=hidden).items():
            try:
                _alarm(call_timeout)
                with contextlib.redirect_stdout(_BoundedSink()):
                    got = ex.run(fn, [np.array(a, copy=True) for a in args])
                outputs.setdefault(name, {})[case] = {"output": got}
            except NotImplementedError:
                errors.setdefault(name, {})[case] = "not implemented (still raises NotImplementedError)"
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
    p.add_argument("--skip-checks", action="store_true",
                   help="do not run the cells that only call check(...)")
    args = p.parse_args(argv)
    sources = code_cells(args.notebook)
    namespace, cell_errors = execute(sources, args.cell_timeout, args.skip_checks)
    outputs, errors, missing = collect(args.chapter, namespace, args.cases == "hidden")
    meta = {"cell_errors": cell_errors, "errors": errors, "missing": missing,
            "chapter": args.chapter, "cases": args.cases}
    tmp = args.out + ".tmp.npz"
    np.savez_compressed(tmp, **pack(outputs, meta))
    os.replace(tmp, args.out)
    print(json.dumps({"cells": len(sources), "cell_errors": len(cell_errors),
                      "missing": missing}), file=sys.__stdout__)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
