"""Build the stored expected outputs of a chapter's exercises from ``solutions/`` (authors only).

``python -m rnnbook.checks.build 02_rnn [more chapters]`` (or ``--all``):

1. runs ``solutions/<chapter>.ipynb`` with :mod:`rnnbook.runner` and collects each exercise's
   outputs on the visible and on the hidden cases;
2. runs the known mistakes in ``tests/mistakes/<chapter>.py`` (``MISTAKES = {exercise: {key:
   function}}``) on the visible cases, so that a check can name the mistake it sees;
3. writes ``rnnbook/checks/expected/<chapter>.npz`` (visible outputs and mistakes, shipped with
   the package) and ``solutions/expected/<chapter>.npz`` (hidden outputs and the points of each
   exercise, read from the solution notebook's ``metadata.rnnbook.points``; for the grader only).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np

from rnnbook.checks import CHAPTERS, exercises
from rnnbook.checks.core import close, pack, unpack

ROOT = Path(__file__).resolve().parents[2]


def run_solution(chapter: str, cases: str) -> dict:
    path = ROOT / "solutions" / f"{chapter}.ipynb"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.npz"
        subprocess.run([sys.executable, "-m", "rnnbook.runner", str(path), "--chapter", chapter,
                        "--cases", cases, "--out", str(out), "--skip-checks"], check=True, cwd=ROOT / "solutions")
        with np.load(out, allow_pickle=False) as npz:
            results, meta = unpack(npz)
    problems = meta["cell_errors"] + [f"{e}: {m}" for e, c in meta["errors"].items() for m in c.values()]
    if problems or meta["missing"]:
        raise SystemExit(f"solutions/{chapter}.ipynb does not run cleanly: {problems[:3]} "
                         f"missing={meta['missing']}")
    return results


def load_mistakes(chapter: str) -> dict:
    path = ROOT / "tests" / "mistakes" / f"{chapter}.py"
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location(f"mistakes_{chapter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MISTAKES


def points_of(chapter: str) -> dict:
    nb = nbformat.read(ROOT / "solutions" / f"{chapter}.ipynb", as_version=4)
    points = nb.metadata.get("rnnbook", {}).get("points", {})
    names = set(exercises(chapter))
    if set(points) != names:
        raise SystemExit(f"solutions/{chapter}.ipynb metadata.rnnbook.points must name exactly "
                         f"the exercises {sorted(names)}; it names {sorted(points)}")
    return dict(points)


def build(chapter: str) -> None:
    exs = exercises(chapter)
    points = points_of(chapter)
    visible = run_solution(chapter, "visible")
    hidden = run_solution(chapter, "hidden")
    mistakes = load_mistakes(chapter)
    stored = {}
    for name, ex in exs.items():
        by_case = {}
        for case, args in ex.make_cases(hidden=False).items():
            expected = visible[name][case]["output"]
            variants = {"expected": expected}
            for key, fn in mistakes.get(name, {}).items():
                if key not in ex.mistakes:
                    raise SystemExit(f"{chapter}/{name}: mistake {key!r} has no message in the spec")
                got = ex.run(fn, [np.array(a, copy=True) for a in args])
                if not close(got, expected, ex.rtol, ex.atol):  # else indistinguishable here
                    variants[f"mistake:{key}"] = got
            by_case[case] = variants
        stored[name] = by_case
    out_dir = ROOT / "rnnbook" / "checks" / "expected"
    np.savez_compressed(out_dir / f"{chapter}.npz", **pack(stored, {"chapter": chapter}))
    hidden_stored = {name: {case: {"expected": v["output"]} for case, v in by_case.items()}
                     for name, by_case in hidden.items()}
    np.savez_compressed(ROOT / "solutions" / "expected" / f"{chapter}.npz",
                        **pack(hidden_stored, {"chapter": chapter, "points": points}))
    print(f"{chapter}: {len(exs)} exercises, points {points}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Build stored expected outputs from solutions/.")
    p.add_argument("chapters", nargs="*")
    p.add_argument("--all", action="store_true")
    args = p.parse_args(argv)
    chapters = list(CHAPTERS) if args.all else args.chapters
    for chapter in chapters:
        build(chapter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
