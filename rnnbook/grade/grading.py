"""Turn a submission's returned outputs into points, a status and feedback -- in the grader.

The verdict is computed here, in the grader's process, by :func:`rnnbook.checks.judge.judge` --
the function behind the in-notebook checks -- on the **hidden** cases, against the chapter's
answer key (``solutions/keys/<chapter>.npz``, written by :mod:`rnnbook.checks.build`). The key
is all the grader reads: the hidden inputs (sent to the sandbox), the expected outputs and the
known mistakes' outputs (never sent), and the points. The student's process only returned
arrays; nothing it says about passing is read.

Scores: ``points x`` the judge's score -- the share of hidden cases passed, or 0 when a known
mistake explains the outputs (rounded to 0.01). The feedback names the kind of error only: never
a number computed from the hidden reference.

Statuses, per exercise: ``passed`` (every hidden case right), ``failed`` (some case wrong),
``error`` (the function raised on every case it got wrong and none passed, it calls a function
that is not written, or the notebook's process died before returning anything), ``timeout`` (a
call or the whole notebook ran out of time), ``missing`` (the function is not defined, or still
raises ``NotImplementedError``), ``unreadable`` (the file is not a notebook).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rnnbook.checks import exercises, store
from rnnbook.checks.core import KEY_FORMAT, CaseError
from rnnbook.checks.judge import judge
from rnnbook.grade.results import meta_dict, meta_list, short

STATUSES = ("passed", "failed", "error", "timeout", "missing", "unreadable")


class GraderError(RuntimeError):
    """The grader itself cannot run (bad arguments, a missing or stale key...)."""


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
    """What grading a chapter needs, all read from its answer key."""

    chapter: str
    exercises: dict
    points: dict
    cases: dict  # {exercise: {case: args}}: the hidden inputs
    expected: dict  # {exercise: {case: tuple of arrays}}
    mistakes: dict  # {exercise: {case: {key: tuple of arrays}}}
    path: Path | None = None

    def inputs(self) -> dict:
        """What the sandbox gets: the hidden inputs only, as a runner cases mapping."""
        return {"hidden": self.cases}


def default_key_dir() -> Path:
    """``solutions/keys`` of the checkout the ``rnnbook`` package lives in."""
    return store.REPO / store.KEY_DIRNAME


def key_chapters(key_dir: Path) -> list[str]:
    """The chapters that have a key in ``key_dir``."""
    return sorted(p.stem for p in Path(key_dir).glob("[0-9][0-9]_*.npz"))


def load_key(chapter: str, key_dir: Path) -> ChapterKey:
    """Read ``<key_dir>/<chapter>.npz``; raise :class:`GraderError` when it is missing, stale
    for this version of the exercises, or incomplete."""
    path = Path(key_dir) / f"{chapter}.npz"
    build = f"`python -m rnnbook.checks.build {chapter}` (`rnnbook build-key {chapter}`)"
    if not path.is_file():
        raise GraderError(
            f"no answer key for chapter {chapter}: {path} is missing. Build it from the "
            f"solutions with {build} in the repository, or point --key-dir at the folder that "
            "holds it.")
    try:
        results, meta = store.load(path)
    except Exception as err:  # noqa: BLE001 -- a damaged key
        raise GraderError(f"{path} cannot be read ({type(err).__name__}: {err})") from None
    try:
        exs = exercises(chapter)
    except KeyError as err:
        raise GraderError(str(err).strip("'\"")) from None
    if meta.get("format") != KEY_FORMAT or meta.get("spec_hash") != store.spec_hash(chapter):
        raise GraderError(f"{path} was built for another version of chapter {chapter}'s "
                          f"exercises: rebuild it with {build}.")
    points = dict(meta.get("points", {}))
    sets = store.case_sets(results, meta, "hidden")
    cases, expected, mistakes = {}, {}, {}
    for name in exs:
        cs = sets.get(name)
        if cs is None or name not in points or not cs.inputs \
                or set(cs.inputs) != set(cs.expected):
            raise GraderError(f"{path} is incomplete for {chapter}/{name}: rebuild it with "
                              f"{build}.")
        cases[name], expected[name], mistakes[name] = cs.inputs, cs.expected, cs.mistakes
    return ChapterKey(chapter, exs, points, cases, expected, mistakes, path)


def _one_line(summary: str, passed: int, total: int) -> str:
    head = f"{passed} of {total} hidden cases pass."
    return short(f"{head} {summary}".strip(), 400)


def grade_result(key: ChapterKey, results: dict, meta: dict) -> list[ExerciseGrade]:
    """Judge every exercise of the chapter from the runner's returned ``results`` and ``meta``."""
    errors = meta_dict(meta_dict(meta, "errors"), "hidden")
    missing = set(map(str, meta_list(meta, "missing")))
    cell_errors = [e for e in meta_list(meta, "cell_errors") if isinstance(e, dict)]
    cell_note = ""
    if cell_errors:
        first = cell_errors[0]
        cell_note = (f" Cell {first.get('cell', '?')} of the notebook raised "
                     f"{short(str(first.get('error', '')), 200)}")
    outputs_by_ex = results.get("hidden", {}) if isinstance(results, dict) else {}
    grades = []
    for name, ex in key.exercises.items():
        max_points = float(key.points[name])
        cases = key.cases[name]
        if name in missing:
            msg = (f"`{ex.target}` is not defined in the notebook: was its cell deleted, the "
                   "function renamed, or did its cell fail before the `def`?" + cell_note)
            grades.append(ExerciseGrade(name, 0.0, max_points, "missing", short(msg, 400), [msg],
                                        0, len(cases)))
            continue
        ex_errors = meta_dict(errors, name)
        outputs = {}
        for case in cases:
            got = outputs_by_ex.get(name, {}).get(case, {}).get("output")
            if got is not None:
                outputs[case] = got
            elif case in ex_errors:
                outputs[case] = CaseError.from_json(ex_errors[case])
        try:
            verdict = judge(ex, cases, outputs, key.expected[name], key.mistakes.get(name),
                            hidden=True)
        except Exception as err:  # noqa: BLE001 -- outputs of a strange type or shape
            msg = (f"your outputs could not be compared with the reference "
                   f"({type(err).__name__})")
            grades.append(ExerciseGrade(name, 0.0, max_points, "error", msg, [msg], 0,
                                        len(cases)))
            continue
        if verdict.stub:
            msg = (f"`{ex.target}` is not written yet: it still raises NotImplementedError. "
                   "Replace the `raise NotImplementedError(...)` line with your code.")
            grades.append(ExerciseGrade(name, 0.0, max_points, "missing", msg, [msg], 0,
                                        verdict.total))
            continue
        points = round(max_points * verdict.score, 2)
        errored = sum(v for k, v in verdict.kinds.items()
                      if k in ("raised", "output", "mutated", "missing", "not_implemented"))
        wrong = verdict.total - verdict.passed
        if verdict.ok:
            status = "passed"
        elif verdict.kinds.get("timeout"):
            status = "timeout"
        elif verdict.passed == 0 and (errored == wrong or verdict.helper):
            status = "error"
        else:
            status = "failed"
        feedback = ("all hidden cases pass." if verdict.ok else
                    _one_line(verdict.message, verdict.passed, verdict.total))
        details = [verdict.summary] + verdict.details if not verdict.ok else []
        grades.append(ExerciseGrade(name, points, max_points, status, feedback, details,
                                    verdict.passed, verdict.total))
    return grades


def whole_submission(key_exercises: dict, points: dict, status: str,
                     message: str) -> list[ExerciseGrade]:
    """The same status and message for every exercise (the notebook never returned outputs)."""
    return [ExerciseGrade(name, 0.0, float(points.get(name, 0)), status, short(message, 400),
                          [message]) for name in key_exercises]
