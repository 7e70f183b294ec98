"""The checks that the exercise notebooks call.

In a notebook::

    from rnnbook.checks import for_chapter
    check = for_chapter("02_rnn")
    ...
    check("cell_step", rnn_cell_step)

A check runs your function on the visible cases, judges the outputs against the stored reference
outputs (:func:`rnnbook.checks.judge.judge`, the same judge the grader uses on the hidden cases),
prints one line when every case passes, and otherwise raises an ``AssertionError`` whose message
says what is probably wrong: a known mistake that explains your outputs, or what differs where.

Layout: :mod:`~rnnbook.checks.core` (what an exercise is; running a function on cases),
:mod:`~rnnbook.checks.judge` (verdicts, scores, messages), :mod:`~rnnbook.checks.store` (the
stored cases and the answer key), :mod:`~rnnbook.checks.build` (writes them, authors only), and
one spec module per chapter, ``rnnbook.checks.chNN``.
"""

from __future__ import annotations

import importlib
from functools import cache

from rnnbook.checks import store
from rnnbook.checks.core import CaseError, Exercise, TrainingExercise, run_cases
from rnnbook.checks.judge import Verdict, judge

__all__ = ["Exercise", "TrainingExercise", "CaseError", "Verdict", "chapters", "exercises",
           "check", "for_chapter", "visible", "visible_expected", "judge", "run_cases"]


def chapters() -> list[str]:
    """Every chapter with exercises, in book order (from ``_toc.yml`` in a checkout)."""
    return store.chapters()


def exercises(chapter: str) -> dict[str, Exercise]:
    """The exercises of a chapter, by name, in the notebook's order."""
    try:
        module = importlib.import_module(store.module_name(chapter))
    except ModuleNotFoundError:
        raise KeyError(f"unknown chapter {chapter!r}; known: {', '.join(chapters())}") from None
    if getattr(module, "CHAPTER", None) != chapter:
        raise KeyError(f"unknown chapter {chapter!r}; known: {', '.join(chapters())}")
    return {ex.name: ex for ex in module.EXERCISES}


@cache
def visible(chapter: str) -> dict[str, store.CaseSet]:
    """``{exercise: CaseSet}`` of the visible cases, from the package."""
    path = store.visible_path(chapter)
    if not path.is_file():
        raise FileNotFoundError(
            f"No stored reference outputs for chapter {chapter} ({path}). Course authors: run "
            f"`python -m rnnbook.checks.build {chapter}`. Students: reinstall rnnbook.")
    results, meta = store.load(path)
    return store.case_sets(results, meta, "visible")


def visible_expected(chapter: str) -> dict[str, store.CaseSet]:
    """The visible cases of a chapter by exercise (an alias of :func:`visible`)."""
    return visible(chapter)


def check(chapter: str, name: str, fn) -> None:
    """Check the student's ``fn`` for exercise ``name`` of ``chapter`` on the visible cases."""
    ex = exercises(chapter).get(name)
    if ex is None:
        raise KeyError(f"chapter {chapter} has no exercise {name!r}")
    if not callable(fn):
        raise AssertionError(f"{name}: expected a function `{ex.target}`, got "
                             f"{type(fn).__name__}. Did you overwrite it with a value?")
    cases = visible(chapter).get(name)
    if cases is None:
        raise FileNotFoundError(f"no stored reference outputs for {chapter}/{name}: rebuild "
                                f"with `python -m rnnbook.checks.build {chapter}`")
    outputs = run_cases(ex, fn, cases.inputs)
    verdict = judge(ex, cases.inputs, outputs, cases.expected, cases.mistakes, hidden=False)
    if verdict.stub:
        raise AssertionError(
            f"{name}: `{ex.target}` is not written yet -- replace the "
            "`raise NotImplementedError(...)` line with your code, run its cell, then this one.")
    if not verdict.ok:
        raise AssertionError(f"{name}: {verdict.passed} of {verdict.total} cases pass. "
                             f"{verdict.message}")
    if ex.kind == "training":
        worst = max(verdict.metrics.values())
        print(f"✓ {name}: {ex.metric_name} = {ex.format_metric(worst)} on the visible data "
              f"(< {ex.format_metric(ex.threshold)} passes).")
    else:
        print(f"✓ {name}: all {verdict.total} cases match the reference.")



def for_chapter(chapter: str):
    """``check = for_chapter("02_rnn")`` then ``check("cell_step", rnn_cell_step)``."""
    exercises(chapter)  # fail early on a wrong chapter name

    def chapter_check(name: str, fn) -> None:
        check(chapter, name, fn)

    chapter_check.__doc__ = f"Check an exercise of chapter {chapter}."
    return chapter_check
