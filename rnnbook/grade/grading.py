"""Turn a submission's returned outputs into points, a status and feedback -- in the grader.

The verdict is computed here, in the grader's process, by :func:`rnnbook.checks.core.judge` --
the function behind the in-notebook checks -- on the **hidden** cases, against the expected
outputs stored in ``solutions/expected/<chapter>.npz``. The student's process only returned
arrays; nothing it says about passing is read.

Partial credit: an exercise worth ``p`` points whose function is right on ``k`` of its ``n``
hidden cases scores ``p * k / n`` (rounded to 0.01).

Statuses, per exercise: ``passed`` (every hidden case right), ``failed`` (some case wrong),
``error`` (the function raised on every case it got wrong and none passed, or the notebook's
process died before returning anything), ``timeout`` (a call or the whole notebook ran out of
time), ``missing`` (the function is not defined, or still raises ``NotImplementedError``),
``unreadable`` (the file is not a notebook).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnbook.checks import exercises
from rnnbook.checks.core import judge, split_variants, unpack
from rnnbook.grade.results import meta_dict, meta_list, short

STATUSES = ("passed", "failed", "error", "timeout", "missing", "unreadable")


class GraderError(RuntimeError):
    """The grader itself cannot run (bad arguments, missing expected outputs...)."""


@dataclass
class ExerciseGrade:
    exercise: str
    points: float
    max_points: float
    status: str
    feedback: str  # one line, for the CSV
    details: list = field(default_factory=list)  # every message, for the report
    passed: int = 0
    total: int = 0


@dataclass
class ChapterKey:
    """What grading a chapter needs: its exercises, hidden cases and expected outputs, points,
    and the outputs of its known mistakes on the hidden cases (to name them in feedback)."""

    chapter: str
    exercises: dict
    points: dict
    cases: dict  # {exercise: {case: args}}
    expected: dict  # {exercise: {case: tuple of arrays}}
    mistakes: dict  # {exercise: {case: {key: tuple of arrays}}}


def default_expected_dir() -> Path:
    """``solutions/expected`` of the repository the (editable) rnnbook package lives in."""
    import rnnbook

    return Path(rnnbook.__file__).resolve().parents[1] / "solutions" / "expected"


def load_key(chapter: str, expected_dir: Path, with_mistakes: bool = True) -> ChapterKey:
    """Read ``<expected_dir>/<chapter>.npz``; raise :class:`GraderError` when it is missing."""
    path = Path(expected_dir) / f"{chapter}.npz"
    if not path.is_file():
        raise GraderError(
            f"no hidden expected outputs for chapter {chapter}: {path} is missing. Build them "
            f"from the solutions with `python -m rnnbook.checks.build {chapter}` (in the "
            "repository), or point --expected-dir at the folder that holds them.")
    exs = exercises(chapter)
    with np.load(path, allow_pickle=False) as npz:
        stored, meta = unpack(npz)
    points = dict(meta.get("points", {}))
    cases, expected = {}, {}
    for name, ex in exs.items():
        cases[name] = ex.make_cases(hidden=True)
        expected[name], _ = split_variants(stored.get(name, {}))
        lacking = [c for c in cases[name] if c not in expected[name]]
        if lacking or name not in points:
            raise GraderError(
                f"{path} is out of date for {chapter}/{name} (missing "
                f"{'points' if name not in points else 'cases ' + ', '.join(lacking[:3])}): "
                f"rebuild it with `python -m rnnbook.checks.build {chapter}`.")
    mistakes = hidden_mistakes(chapter) if with_mistakes else {}
    return ChapterKey(chapter, exs, points, cases, expected, mistakes)


def hidden_mistakes(chapter: str) -> dict:
    """Outputs of the chapter's known mistakes (``tests/mistakes/<chapter>.py``) on the hidden
    cases, computed in a separate trusted process (they may import TensorFlow, which the grader
    keeps out of its own memory). ``{}`` when there are none or they cannot be computed: the
    feedback then says where the numbers differ instead of naming the mistake."""
    with tempfile.TemporaryDirectory(prefix="rnnbook-mistakes-") as tmp:
        out = Path(tmp) / "mistakes.npz"
        try:
            proc = subprocess.run([sys.executable, "-m", "rnnbook.grade.mistakes", chapter, str(out)],
                                  capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            return {}
        if proc.returncode != 0 or not out.is_file():
            return {}
        with np.load(out, allow_pickle=False) as npz:
            stored, _ = unpack(npz)
    result = {}
    for name, by_case in stored.items():
        _, result[name] = split_variants(by_case)
    return result


def _one_line(verdict_messages: list, passed: int, total: int) -> str:
    head = f"{passed} of {total} hidden cases pass."
    if not verdict_messages:
        return head
    more = f" (+{len(verdict_messages) - 1} more)" if len(verdict_messages) > 1 else ""
    return short(f"{head} {verdict_messages[0]}{more}", 400)


def grade_result(key: ChapterKey, results: dict, meta: dict) -> list[ExerciseGrade]:
    """Judge every exercise of the chapter from the runner's returned ``results`` and ``meta``."""
    errors = meta_dict(meta, "errors")
    timeouts = meta_dict(meta, "timeouts")
    missing = set(map(str, meta_list(meta, "missing")))
    not_implemented = set(map(str, meta_list(meta, "not_implemented")))
    cell_errors = [e for e in meta_list(meta, "cell_errors") if isinstance(e, dict)]
    cell_note = ""
    if cell_errors:
        first = cell_errors[0]
        cell_note = (f" Cell {first.get('cell', '?')} of the notebook raised "
                     f"{short(str(first.get('error', '')), 200)}")
    grades = []
    for name, ex in key.exercises.items():
        max_points = float(key.points[name])
        cases = key.cases[name]
        if name in missing:
            msg = (f"`{ex.target}` is not defined in the notebook: was its cell deleted, the "
                   "function renamed, or did its cell fail before the `def`?" + cell_note)
            grades.append(ExerciseGrade(name, 0.0, max_points, "missing", short(msg, 400), [msg]))
            continue
        ex_errors = errors.get(name, {}) if isinstance(errors.get(name, {}), dict) else {}
        if name in not_implemented and not results.get(name):
            msg = (f"`{ex.target}` is not written yet: it still raises NotImplementedError. Replace "
                   "the `raise NotImplementedError(...)` line with your code.")
            grades.append(ExerciseGrade(name, 0.0, max_points, "missing", msg, [msg]))
            continue
        outputs = {}
        for case in cases:
            got = results.get(name, {}).get(case, {}).get("output")
            if got is not None:
                outputs[case] = got
            elif case in ex_errors:
                outputs[case] = short(str(ex_errors[case]), 500)
        try:
            verdict = judge(ex, cases, outputs, key.expected[name], key.mistakes.get(name))
        except Exception as err:  # noqa: BLE001 -- outputs of a strange type or shape
            msg = f"your outputs could not be compared with the reference ({type(err).__name__}: {err})"
            grades.append(ExerciseGrade(name, 0.0, max_points, "error", short(msg, 400), [msg],
                                        0, len(cases)))
            continue
        points = round(max_points * verdict.passed / verdict.total, 2) if verdict.total else 0.0
        failing = [c for c in cases if c not in outputs or isinstance(outputs[c], str)]
        wrong = verdict.total - verdict.passed
        if verdict.ok:
            status = "passed"
        elif timeouts.get(name):
            status = "timeout"
        elif verdict.passed == 0 and len(failing) == wrong:
            status = "error"
        else:
            status = "failed"
        details = list(verdict.messages)
        feedback = "all hidden cases pass." if verdict.ok else _one_line(details, verdict.passed,
                                                                         verdict.total)
        grades.append(ExerciseGrade(name, points, max_points, status, feedback, details,
                                    verdict.passed, verdict.total))
    return grades


def whole_submission(key_exercises: dict, points: dict, status: str, message: str) -> list[ExerciseGrade]:
    """The same status and message for every exercise (the notebook never returned outputs)."""
    return [ExerciseGrade(name, 0.0, float(points.get(name, 0)), status, short(message, 400),
                          [message]) for name in key_exercises]
