"""Build a chapter's answer key and visible store from ``solutions/`` -- the only writer of both.

    python -m rnnbook.checks.build 02_rnn [more chapters]      (or --all)
    rnnbook build-key 02_rnn

For each exercise of the chapter's spec (``rnnbook/checks/chNN.py``):

1. draws the visible cases from the public seed and the hidden cases from the secret seed in
   ``solutions/hidden_seed.txt`` (a hidden case that equals a visible one is drawn again; the
   build fails if that does not help);
2. runs ``solutions/<chapter>.ipynb`` once (:mod:`rnnbook.runner`) and collects the solution's
   outputs on both sets -- for a training exercise, with several seeds, to prove its threshold;
3. runs the known mistakes of ``solutions/mistakes/<chapter>.py`` (``MISTAKES = {exercise:
   {key: function}}``; they live outside the package because a mistake is a near-copy of the
   answer) on both sets;
4. checks what a key must guarantee, and refuses to write one that fails: the solution runs
   cleanly (and passes its own threshold with the margin, on every seed); no hidden input
   equals a visible one; every known mistake has a message, is told apart from the answer on a
   visible case and on at least three quarters of the hidden cases, is *named* by the judge and
   scores 0; an all-zero answer passes at most a quarter of the hidden cases;
5. writes ``solutions/keys/<chapter>.npz`` (the key: both sets, the mistakes' outputs, the
   points, the hashes) and ``rnnbook/checks/expected/<chapter>.npz`` (the visible set only,
   shipped with the package for the in-notebook checks).

``python -m rnnbook.exercises --check`` fails when a key is older than its spec, its solution
notebook's exercise code or its mistakes.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from rnnbook.checks import exercises, store
from rnnbook.checks.core import (
    KEY_FORMAT,
    VISIBLE_SEED,
    CaseError,
    Exercise,
    agrees,
    close,
    run_cases,
)
from rnnbook.checks.judge import as_sentence, judge
from rnnbook.runner import write_cases

log = logging.getLogger("rnnbook.build")

REDRAWS = 40  # attempts to draw a hidden case that differs from every visible one


class BuildError(SystemExit):
    """The key cannot be built: the message says what to fix."""


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


def hidden_seed(root: Path) -> int:
    path = root / "solutions" / "hidden_seed.txt"
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        raise BuildError(f"{path} must hold the secret seed of the hidden cases (an integer); "
                         "write one, e.g. `python -c 'import secrets; "
                         f"print(secrets.randbits(63))' > {path}`") from None


def _same_args(a: tuple, b: tuple) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        x, y = np.asarray(x), np.asarray(y)
        if x.shape != y.shape or x.dtype.kind != y.dtype.kind:
            return False
        if not np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"):
            return False
    return True


def draw_cases(chapter: str, ex: Exercise, seed: int) -> tuple[dict, dict, dict, dict]:
    """``(visible inputs, visible truth, hidden inputs, hidden truth)`` of one exercise."""
    vis_in, vis_truth = ex.draw(np.random.default_rng([VISIBLE_SEED, _crc(chapter),
                                                       _crc(ex.name)]), hidden=False)
    rng = np.random.default_rng([seed, _crc(chapter), _crc(ex.name)])
    hid_in: dict = {}
    hid_truth: dict = {}
    for _ in range(REDRAWS):
        inputs, truth = ex.draw(rng, hidden=True)
        for case, args in inputs.items():
            if case in hid_in:
                continue
            if not any(_same_args(args, v) for v in vis_in.values()):
                hid_in[case] = args
                if truth is not None:
                    hid_truth[case] = truth[case]
        if len(hid_in) == len(inputs):
            break
    missing = [c for c in inputs if c not in hid_in]
    if missing:
        raise BuildError(f"{chapter}/{ex.name}: hidden cases {missing} always equal a visible "
                         "case: draw more of their values from the rng")
    hid_in = {c: hid_in[c] for c in inputs}  # the spec's order
    return vis_in, vis_truth, hid_in, (hid_truth if truth is not None else None)


def run_solution(chapter: str, root: Path, cases: dict, seeds: dict) -> dict:
    """The solution notebook's outputs on ``cases`` ({set: {exercise: {case: args}}})."""
    notebook = root / "solutions" / f"{chapter}.ipynb"
    with tempfile.TemporaryDirectory(prefix="rnnbook-build-") as tmp:
        cases_file, out = Path(tmp) / "cases.npz", Path(tmp) / "out.npz"
        write_cases(cases_file, cases, seeds)
        proc = subprocess.run(
            [sys.executable, "-m", "rnnbook.runner", "--notebook", str(notebook), "--chapter",
             chapter, "--cases", str(cases_file), "--out", str(out), "--skip-checks",
             "--call-timeout", "600", "--cell-timeout", "900"],
            cwd=notebook.parent, capture_output=True, text=True)
        if proc.returncode != 0 or not out.is_file():
            raise BuildError(f"{notebook} could not be run:\n{proc.stderr[-3000:]}")
        results, meta = store.load(out)
    problems = [f"cell {e['cell']}: {e['error']}" for e in meta["cell_errors"]]
    for group, by_ex in meta["errors"].items():
        for ex, by_case in by_ex.items():
            problems += [f"{ex}/{case} ({group}): {err['message']}"
                         for case, err in by_case.items()]
    if problems or meta["missing"]:
        raise BuildError(f"{notebook} does not run cleanly: {problems[:5]} "
                         f"missing={meta['missing']}")
    return {g: {ex: {c: v["output"] for c, v in by_case.items()} for ex, by_case in by_ex.items()}
            for g, by_ex in results.items()}


def load_mistakes(chapter: str, root: Path) -> dict:
    """``{exercise: {key: function}}`` from ``solutions/mistakes/<chapter>.py``."""
    path = root / "solutions" / "mistakes" / f"{chapter}.py"
    if not path.exists():
        raise BuildError(f"{path} is missing: write the chapter's known mistakes there")
    spec = importlib.util.spec_from_file_location(f"rnnbook_mistakes_{chapter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MISTAKES


def _zeros_like(out: tuple) -> tuple:
    return tuple(np.zeros_like(np.asarray(a)) for a in out)


def _check_function_exercise(chapter, ex, known, vis, hid) -> list[str]:
    """What a function exercise's key must guarantee; ``vis``/``hid`` are store.CaseSet."""
    where = f"{chapter}/{ex.name}"
    problems = []
    if set(known) != set(ex.mistakes):
        problems.append(f"{where}: mistakes with code {sorted(known)} must match the messages "
                        f"of the spec {sorted(ex.mistakes)}")
    if len(known) < 3:
        problems.append(f"{where}: write at least three realistic mistakes")
    for key in known:
        if key not in ex.mistakes:
            continue
        if not any(key in vis.mistakes.get(c, {}) for c in vis.inputs):
            problems.append(f"{where}: mistake {key!r} is right on every visible case: add a "
                            "visible case that tells it apart")
            continue
        equal = sum(1 for c in hid.inputs if key not in hid.mistakes.get(c, {}))
        if equal > ex.max_mistake_share * len(hid.inputs):
            problems.append(f"{where}: mistake {key!r} is not told apart from the answer on "
                            f"{equal} of {len(hid.inputs)} hidden cases (at most "
                            f"{ex.max_mistake_share:.0%} allowed): add cases that separate it")
        for group, cs in (("visible", vis), ("hidden", hid)):
            outs = {c: cs.mistakes[c][key] if key in cs.mistakes.get(c, {}) else cs.expected[c]
                    for c in cs.inputs}
            v = judge(ex, cs.inputs, outs, cs.expected, cs.mistakes, hidden=group == "hidden")
            if v.named != key or v.score != 0:
                problems.append(f"{where}: on the {group} cases mistake {key!r} is named "
                                f"{v.named!r} and scores {v.score:.2f} (want itself, 0): "
                                "two mistakes with the same outputs? make a case tell them apart")
    zeros = sum(1 for c in hid.inputs
                if close(_zeros_like(hid.expected[c]), hid.expected[c], ex.rtol, ex.atol))
    if zeros > ex.max_mistake_share * len(hid.inputs):
        problems.append(f"{where}: an all-zero answer passes {zeros} of {len(hid.inputs)} hidden "
                        "cases: make fewer expected outputs zero")
    return problems


def build(chapter: str, root: Path = store.REPO) -> dict:
    """Build and write the key and the visible store of one chapter; return a summary."""
    start = time.monotonic()
    exs = exercises(chapter)
    seed = hidden_seed(root)
    mistakes = load_mistakes(chapter, root)
    unknown = set(mistakes) - set(exs)
    if unknown:
        raise BuildError(f"{chapter}: mistakes for unknown exercises {sorted(unknown)}")
    drawn = {name: draw_cases(chapter, ex, seed) for name, ex in exs.items()}

    # the solution: once on both sets; a training exercise once per seed
    cases: dict = {"visible": {}, "hidden": {}}
    seeds: dict = {"visible": {}, "hidden": {}}
    for name, ex in exs.items():
        vis_in, _, hid_in, _ = drawn[name]
        for group, inputs in (("visible", vis_in), ("hidden", hid_in)):
            if ex.kind == "training":
                cases[group][name] = {f"{c}@{s}": a for s in range(ex.seeds)
                                      for c, a in inputs.items()}
                seeds[group][name] = {f"{c}@{s}": s for s in range(ex.seeds) for c in inputs}
            else:
                cases[group][name] = inputs
    log.info("%s: running solutions/%s.ipynb on %d cases", chapter, chapter,
             sum(len(v) for g in cases.values() for v in g.values()))
    solution = run_solution(chapter, root, cases, seeds)

    problems: list[str] = []
    results: dict = {"visible": {}, "hidden": {}}
    sets: dict = {}
    training: dict = {}
    for name, ex in exs.items():
        vis_in, vis_truth, hid_in, hid_truth = drawn[name]
        known = mistakes.get(name, {})
        sets[name] = {}
        groups = (("visible", vis_in, vis_truth), ("hidden", hid_in, hid_truth))
        for group, inputs, truth in groups:
            cs = store.CaseSet(inputs=dict(inputs))
            if ex.kind == "training":
                cs.expected = dict(truth)
            else:
                cs.expected = {c: solution[group][name][c] for c in inputs}
                for key, fn in known.items():
                    outs = run_cases(ex, fn, inputs)
                    for c, out in outs.items():
                        if not isinstance(out, CaseError) and not agrees(
                                ex, out, cs.expected[c]):
                            cs.mistakes.setdefault(c, {})[key] = out
            sets[name][group] = cs
            results[group][name] = {c: {"input": inputs[c], "expected": cs.expected[c],
                                        **{f"mistake:{k}": v for k, v in cs.mistakes.get(c, {})
                                           .items()}} for c in inputs}
        if ex.kind == "training":
            summary, more = _check_training(chapter, ex, known, sets[name], solution)
            training[name] = summary
            problems += more
        else:
            problems += _check_function_exercise(chapter, ex, known, sets[name]["visible"],
                                                 sets[name]["hidden"])
    if problems:
        raise BuildError(f"{chapter}: the key was not written:\n  " + "\n  ".join(problems))

    order = {g: {name: list(sets[name][g].inputs) for name in exs} for g in ("visible", "hidden")}
    meta = {"chapter": chapter, "format": KEY_FORMAT, "spec_hash": store.spec_hash(chapter),
            "solution_hash": store.solution_hash(chapter, root),
            "points": {name: ex.points for name, ex in exs.items()},
            "kinds": {name: ex.kind for name, ex in exs.items()}, "training": training}
    store.save(root / store.KEY_DIRNAME / f"{chapter}.npz", results, {**meta, "order": order})
    public = {k: v for k, v in meta.items() if k != "training"}
    store.save(store.visible_path(chapter), {"visible": results["visible"]},
               {**public, "order": {"visible": order["visible"]}})
    seconds = time.monotonic() - start
    log.info("%s: key written (%d exercises, points %s) in %.0f s", chapter, len(exs),
             meta["points"], seconds)
    for name, summary in training.items():
        log.info("%s/%s: threshold %s; solution's worst %s over %d seeds x %d cases",
                 chapter, name, summary["threshold"], summary["worst"], summary["seeds"],
                 summary["cases"])
    return {"chapter": chapter, "seconds": seconds, "training": training}


def _check_training(chapter, ex, known, sets, solution) -> tuple[dict, list]:
    """A training exercise's threshold must hold for the solution on every seed with a margin;
    each known mistake must miss it on every case and be named by the judge."""
    where = f"{chapter}/{ex.name}"
    problems = []
    metrics = []
    for group, cs in sets.items():
        for case in cs.inputs:
            for s in range(ex.seeds):
                got = solution[group][ex.name][f"{case}@{s}"]
                v = judge(ex, {case: cs.inputs[case]}, {case: got}, {case: cs.expected[case]})
                if not v.metrics:
                    problems.append(f"{where}: the solution fails {group} case {case} with seed "
                                    f"{s}: {v.message}")
                    continue
                metrics.append(v.metrics[case])
    worst = max(metrics) if metrics else float("nan")
    if metrics and worst > ex.threshold * (1 - ex.margin):
        problems.append(f"{where}: the solution's worst metric {worst:.3f} over {ex.seeds} seeds "
                        f"is within {ex.margin:.0%} of the threshold {ex.threshold}: a flaky "
                        "threshold -- raise it or make the solution sturdier")
    if set(known) != set(ex.mistakes) or len(known) < 3:
        problems.append(f"{where}: needs at least three known mistakes, one per message of the "
                        f"spec ({sorted(ex.mistakes)}); has {sorted(known)}")
    for key, fn in known.items():
        for group, cs in sets.items():
            outs = run_cases(ex, fn, cs.inputs)
            v = judge(ex, cs.inputs, outs, cs.expected, hidden=group == "hidden")
            if v.passed or as_sentence(ex.mistakes.get(key, "?")) not in v.summary:
                problems.append(f"{where}: mistake {key!r} passes {v.passed} {group} case(s) or "
                                f"is not named (the judge says: {v.summary[:200]})")
    summary = {"threshold": ex.threshold, "worst": round(worst, 4), "seeds": ex.seeds,
               "cases": sum(len(cs.inputs) for cs in sets.values()),
               "metrics": [round(m, 4) for m in metrics]}
    return summary, problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="rnnbook build-key",
                                description="Build the answer key and the visible store of "
                                            "chapters from solutions/ (authors only).")
    p.add_argument("chapters", nargs="*", help="chapter stems, e.g. 02_rnn")
    p.add_argument("--all", action="store_true", help="every chapter of _toc.yml")
    p.add_argument("--root", type=Path, default=store.REPO, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    known = store.chapters(args.root)
    chapters = known if args.all else args.chapters
    if not chapters:
        p.error("name chapters, or --all")
    for chapter in chapters:
        if chapter not in known:
            p.error(f"unknown chapter {chapter!r}; _toc.yml lists {', '.join(known)}")
    for chapter in chapters:
        try:
            build(chapter, args.root)
        except BuildError as err:
            print(f"error: {err.code}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
