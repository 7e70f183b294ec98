"""The checks that the exercise notebooks call.

In a notebook::

    from rnnbook.checks import for_chapter
    check = for_chapter("02_rnn")
    ...
    check("cell_step", rnn_cell_step)

A check runs your function on the visible cases, compares the outputs with the stored reference
outputs, prints one line when all match, and otherwise raises an ``AssertionError`` whose message
says what is probably wrong (a known mistake it recognises, or where the numbers differ).
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from importlib import resources

import numpy as np

from rnnbook.checks.core import Exercise, Verdict, judge, split_variants, unpack

#: chapter stem -> module defining ``EXERCISES``
CHAPTERS = {
    "01_time_series": "rnnbook.checks.ch01",
    "02_rnn": "rnnbook.checks.ch02",
    "03_bidirectional_rnn": "rnnbook.checks.ch03",
    "04_deep_rnn": "rnnbook.checks.ch04",
    "05_gradient_problem": "rnnbook.checks.ch05",
    "06_gates": "rnnbook.checks.ch06",
    "07_lstm": "rnnbook.checks.ch07",
    "08_gru": "rnnbook.checks.ch08",
    "09_irnn": "rnnbook.checks.ch09",
}


def exercises(chapter: str) -> dict[str, Exercise]:
    """The exercises of a chapter, by name."""
    if chapter not in CHAPTERS:
        raise KeyError(f"unknown chapter {chapter!r}; known: {', '.join(CHAPTERS)}")
    module = importlib.import_module(CHAPTERS[chapter])
    return {ex.name: ex for ex in module.EXERCISES}


@lru_cache(maxsize=None)
def visible_expected(chapter: str) -> dict:
    """``{exercise: {case: {variant: outputs}}}`` for the visible cases, from the package."""
    path = resources.files("rnnbook") / "checks" / "expected" / f"{chapter}.npz"
    if not path.is_file():
        raise FileNotFoundError(
            f"No stored reference outputs for chapter {chapter} ({path}). Course authors: run "
            f"`python -m rnnbook.checks.build {chapter}`. Students: reinstall rnnbook."
        )
    with path.open("rb") as f, np.load(f, allow_pickle=False) as npz:
        results, _ = unpack(npz)
    return results


def evaluate(ex: Exercise, fn, cases: dict) -> dict:
    """Run ``fn`` on each case: ``{case: tuple of arrays}`` or ``{case: error message}``."""
    outputs = {}
    for case, args in cases.items():
        try:
            outputs[case] = ex.run(fn, [np.array(a, copy=True) for a in args])
        except NotImplementedError:
            raise
        except Exception as err:  # the student's error, reported as a message
            outputs[case] = f"your function raised {type(err).__name__}: {err}"
    return outputs


def check(chapter: str, name: str, fn) -> None:
    """Check the student's ``fn`` for exercise ``name`` of ``chapter`` on the visible cases."""
    ex = exercises(chapter).get(name)
    if ex is None:
        raise KeyError(f"chapter {chapter} has no exercise {name!r}")
    if not callable(fn):
        raise AssertionError(f"{name}: expected a function `{ex.target}`, got "
                             f"{type(fn).__name__}. Did you overwrite it with a value?")
    cases = ex.make_cases(hidden=False)
    try:
        outputs = evaluate(ex, fn, cases)
    except NotImplementedError:
        raise AssertionError(
            f"{name}: `{ex.target}` is not written yet -- replace the "
            "`raise NotImplementedError(...)` line with your code, run its cell, then this one."
        ) from None
    stored = visible_expected(chapter).get(name)
    if stored is None:
        raise FileNotFoundError(f"no stored reference outputs for {chapter}/{name}")
    expected, mistakes = split_variants(stored)
    verdict: Verdict = judge(ex, cases, outputs, expected, mistakes)
    if not verdict.ok:
        first = verdict.messages[0]
        more = f" ({len(verdict.messages) - 1} more case(s) fail too.)" if len(verdict.messages) > 1 else ""
        raise AssertionError(f"{name}: {verdict.passed} of {verdict.total} cases pass. {first}{more}")
    print(f"✓ {name}: all {verdict.total} cases match the reference.")


def for_chapter(chapter: str):
    """``check = for_chapter("02_rnn")`` then ``check("cell_step", rnn_cell_step)``."""
    exercises(chapter)  # fail early on a wrong chapter name

    def chapter_check(name: str, fn) -> None:
        check(chapter, name, fn)

    chapter_check.__doc__ = f"Check an exercise of chapter {chapter}."
    return chapter_check
