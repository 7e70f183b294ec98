"""``rnnbook grade`` on a corpus of good and bad submissions -- at least one for every known
attack on a grader and every way it has gone wrong -- plus every chapter's solution (full
marks) and student copy (zero), all in ONE sandboxed batch (--jobs 2).

The corpus (tests/grading_corpus/corpus.py) declares the points and status of every exercise of
every case, asserted here. The cheating cases are built so that they would score full marks if
the sandbox, the verdict or the hidden cases leaked. No test here asserts on wall-clock time:
``scripts/bench_grade.py`` measures the grader's speed.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT, chapters_with_exercises
from rnnbook.checks import store

sys.path.insert(0, str(ROOT / "tests" / "grading_corpus"))
import corpus  # noqa: E402

from rnnbook.grade.report import fmt_points, report_name  # noqa: E402

CHAPTERS = chapters_with_exercises()
KEYS = ROOT / "solutions" / "keys"
# generous limits: other work may share the 2 cores; the hang cases use the cell and call
# limits, and only "unstoppable" (its own batch) waits for the whole-notebook timeout
LIMITS = ["--timeout", "300", "--cell-timeout", "60", "--call-timeout", "8"]
REFUSED = "-refused_02_rnn.ipynb"


def grade(args, cwd, env=None) -> subprocess.CompletedProcess:
    """The documented command, ``rnnbook grade`` (run as ``python -m rnnbook.cli grade``)."""
    env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "rnnbook.cli", "grade", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, env=env, timeout=3000)


def read_rows(path) -> dict:
    """``{submission: {exercise: row}}``, as the grader reads its CSV back (a cell that would
    start a spreadsheet formula is written with a leading quote)."""
    from rnnbook.grade.report import read_grades

    return {sub: {row["exercise"]: row for row in rows}
            for sub, rows in read_grades(Path(path)).items()}


class Listener:
    """A TCP server on the host's loopback: the "network" notebook must never reach it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.accepted += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def processes_with(token: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade the corpus and every chapter's solution and student copy in one batch."""
    tmp = tmp_path_factory.mktemp("grade")
    out = tmp / "results" / "grades.csv"
    scratch = tmp / "host-tmp"  # the grader's temporary folder: must be empty afterwards
    scratch.mkdir()
    token = f"rnnbook-corpus-{uuid.uuid4().hex}"
    listener = Listener()
    try:
        cases = corpus.build(tmp / "corpus", grades_path=str(out), token=token, port=listener.port)
        (tmp / REFUSED).write_text("{}")
        chapter_files = [ROOT / d / f"{c}.ipynb" for c in CHAPTERS
                         for d in ("solutions", "exercises")]
        # three at a time: the endless loop sleeps out its cell limit while two others run
        proc = grade(["--out", out, "--jobs", "3", *LIMITS, "--", tmp / "corpus", *chapter_files,
                      REFUSED], cwd=tmp, env={"TMPDIR": str(scratch)})
        time.sleep(2)  # give a leftover process, were there one, time to strike
        leftovers = processes_with(token)
    finally:
        listener.close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(cases) == sorted(corpus.CASE_FILES)
    return {"cases": cases, "proc": proc, "out": out, "rows": read_rows(out), "tmp": tmp,
            "feedback": tmp / "results" / "grades-feedback", "leftovers": leftovers,
            "connections": listener.accepted, "scratch": scratch}


def report_of(batch, submission: str) -> str:
    return (batch["feedback"] / report_name(submission)).read_text()


@pytest.mark.parametrize("name", corpus.CASE_FILES)
def test_corpus_case_scores_as_declared(batch, name):
    case = batch["cases"][name]
    rows = batch["rows"].get(f"corpus/{name}")
    assert rows is not None, f"{name} has no rows in grades.csv: {sorted(batch['rows'])}"
    assert set(rows) == set(case.points), f"{name}: exercises graded {sorted(rows)}"
    for exercise, want in case.points.items():
        row = rows[exercise]
        assert row["chapter"] == case.chapter
        assert float(row["points"]) == pytest.approx(want, abs=0.006), (name, exercise, row)
        assert row["status"] == case.status[exercise], (name, exercise, row)
        if exercise in corpus.POINTS and case.chapter == "02_rnn":
            assert float(row["max_points"]) == corpus.POINTS[exercise]
        if exercise in case.feedback:
            assert case.feedback[exercise] in row["feedback"], (name, exercise, row["feedback"])
    total = sum(float(r["points"]) for r in rows.values())
    assert total == pytest.approx(case.total, abs=0.02)
    text = report_of(batch, f"corpus/{name}")
    assert text.startswith("# Feedback: corpus/"), text[:200]
    max_total = sum(float(r["max_points"]) for r in rows.values())
    assert f"score **{fmt_points(total)} / {fmt_points(max_total)}**" in text
    for needle in case.report:
        assert needle in text, f"{name}: the report lacks {needle!r}:\n{text}"
    for needle in case.absent:
        assert needle not in text, f"{name}: the report has {needle!r}:\n{text}"


def test_the_corpus_points_are_the_specs():
    from rnnbook.checks import exercises

    assert corpus.POINTS == {n: ex.points for n, ex in exercises("02_rnn").items()}


def test_every_chapter_solution_full_marks_and_student_copy_zero(batch):
    for chapter in CHAPTERS:
        for folder, full in (("solutions", True), ("exercises", False)):
            name = str(ROOT / folder / f"{chapter}.ipynb")
            rows = batch["rows"].get(name)
            assert rows, f"{name} was not graded"
            for exercise, row in rows.items():
                assert row["chapter"] == chapter and exercise, row
                if full:
                    assert row["status"] == "passed", row
                    assert float(row["points"]) == float(row["max_points"]) > 0, row
                else:
                    assert float(row["points"]) == 0, row
                    assert row["status"] == "missing", row


def test_the_feedback_names_the_mistake_on_hidden_cases(batch):
    text = report_of(batch, "corpus/mistakes_a.ipynb")
    assert "Hidden case 'batch_of_1'" in text
    assert "did you forget it?" in text and "0 of 8 hidden cases pass" in text


def _distinctive(values) -> set[str]:
    """How a hidden expected number could appear in a report: non-trivial values, formatted
    the ways messages format numbers."""
    found = set()
    for v in np.asarray(values, dtype="float64").ravel():
        if not np.isfinite(v):
            continue
        if float(v).is_integer():
            if abs(v) >= 1000:
                found.add(str(int(v)))
            continue
        if abs(v) < 1e-3:
            continue
        for fmt in ("{:.6g}", "{:.5g}", "{:.4g}"):
            text = fmt.format(v)
            if len(text.lstrip("-").replace(".", "").lstrip("0")) >= 4:
                found.add(text)
    return found


def test_no_feedback_holds_a_hidden_expected_value(batch):
    texts = [p.read_text() for p in batch["feedback"].glob("*.md")]
    texts.append(batch["out"].read_text())
    words = set()
    for text in texts:
        words.update(re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text))
    header = batch["proc"].stderr.splitlines()[0]  # the limits: "... 300 s, 4096 MB, ..."
    words -= set(re.findall(r"\d+", header))
    leaked = {}
    for path in KEYS.glob("*.npz"):
        results, meta = store.load(path)
        for name, cs in store.case_sets(results, meta, "hidden").items():
            for case, out in cs.expected.items():
                for arr in out:
                    hit = _distinctive(arr) & words
                    if hit:
                        leaked[f"{path.stem}/{name}/{case}"] = sorted(hit)[:5]
    assert not leaked, f"hidden expected values in the feedback: {leaked}"


def test_looking_up_the_visible_answers_passes_the_notebook_but_not_the_grader(batch):
    from helpers import define, exercise_namespace
    from rnnbook import checks

    ns = define(exercise_namespace(ROOT / "exercises" / "02_rnn.ipynb"), corpus.LOOKUP)
    for name, source in corpus.LOOKED_UP.items():
        ns = define(ns, source)
        target = checks.exercises("02_rnn")[name].target
        checks.check("02_rnn", name, ns[target])  # every visible case passes...
        row = batch["rows"]["corpus/lookup_and_bad_returns.ipynb"][name]
        assert float(row["points"]) == 0  # ...and no hidden one


def test_one_submission_never_stops_the_batch(batch):
    rows = batch["rows"]
    assert rows[REFUSED][""]["status"] == "error" and "refused" in rows[REFUSED][""]["feedback"]
    err = batch["proc"].stderr
    assert "homework caf\\xe9 xxx" in err  # escaped in the progress lines
    assert "\udce9" not in err and "\xe9 xxx" not in err
    assert list(batch["scratch"].iterdir()) == [], "the grader left files in its temporary folder"


def test_no_process_outlives_its_sandbox_and_the_grades_are_intact(batch):
    assert batch["leftovers"] == [], "a student's background process survived grading"
    text = batch["out"].read_text()
    assert "HACKED" not in text
    assert text.startswith("submission,chapter,exercise,points,max_points,status,feedback\n")
    assert not list(batch["tmp"].rglob("grades.csv.tmp*")), "temporary files were left behind"


def test_the_sandbox_has_no_network(batch):
    assert batch["connections"] == 0


def test_progress_and_summary_on_stderr(batch):
    err = batch["proc"].stderr
    assert "sandboxed (bubblewrap)" in err
    # progress, one line each (no tty)
    assert f"[{len(batch['rows'])}/{len(batch['rows'])} " in err
    summary = err[err.index("Summary:"):]
    for exercise in corpus.POINTS:
        assert exercise in summary
    assert "passed" in summary.splitlines()[1] and "mean score" in summary.splitlines()[1]


def test_rerun_replaces_only_its_own_rows_and_keeps_report_names(batch, tmp_path):
    out = tmp_path / "grades.csv"
    shutil.copy(batch["out"], out)
    before = read_rows(out)
    corpus_dir = batch["tmp"] / "corpus"
    again_files = [corpus_dir / "homework.ipynb", corpus_dir / "=broken 02_rnn.ipynb",
                   corpus_dir / "@broken 02_rnn.ipynb"]
    proc = grade(["--out", out, "--feedback-dir", tmp_path / "fb", "--", *again_files],
                 cwd=batch["tmp"])
    assert proc.returncode == 0, proc.stderr
    after = read_rows(out)
    assert after == before  # same input, same rows, no duplicates; everything else kept
    with open(out, newline="", encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == sum(len(r) for r in before.values())
    names = sorted(p.name for p in (tmp_path / "fb").iterdir())
    assert names == sorted(report_name(f"corpus/{n}") for n in
                           ("homework.ipynb", "=broken 02_rnn.ipynb", "@broken 02_rnn.ipynb"))
    proc = grade(["--out", out, "--chapter", "02_rnn", "--", corpus_dir / "homework.ipynb"],
                 cwd=batch["tmp"])
    assert proc.returncode == 0, proc.stderr
    again = read_rows(out)
    assert set(again) == set(before)
    assert set(again["corpus/homework.ipynb"]) == set(corpus.POINTS)  # now graded as chapter 2
    assert all(r["status"] == "passed" for r in again["corpus/homework.ipynb"].values())
    assert again["corpus/solved.ipynb"] == before["corpus/solved.ipynb"]


def test_warm_children_leave_nothing_for_the_next_one(tmp_path):
    """One warm worker (--jobs 1) grades, in order: a child that leaves files, IPC objects, a
    key, a background process and changed modules; a child that looks for them (and would
    define the right answers if it found any); a child that kills its worker; and a child that
    looks again."""
    token = f"rnnbook-warm-{uuid.uuid4().hex}"
    cases = corpus.build_warm(tmp_path / "warm", token)
    out = tmp_path / "grades.csv"
    proc = grade(["--out", out, "--jobs", "1", *LIMITS, "--", tmp_path / "warm"], cwd=tmp_path)
    time.sleep(1)
    assert proc.returncode == 0, proc.stderr
    assert "warm workers" in proc.stderr
    assert "1 submission(s) stopped their warm worker and were graded again" in proc.stderr
    assert [line.split("] ", 1)[1].split(":")[0] for line in proc.stderr.splitlines()
            if line.startswith("[")] == [f"warm/{n}" for n in sorted(cases)]  # in this order
    rows = read_rows(out)
    for name, case in cases.items():
        got = rows[f"warm/{name}"]
        for exercise, want in case.points.items():
            assert float(got[exercise]["points"]) == want, (name, got[exercise])
            assert got[exercise]["status"] == case.status[exercise], (name, got[exercise])
    assert processes_with(token) == [], "a child's background process outlived the batch"


def test_cold_mode_grades_as_warm_mode(batch, tmp_path):
    """The same submissions, one sandbox each (--cold): the same rows as the warm batch."""
    # what differs between the modes is the sandbox's lifecycle: a normal run, a kill over a
    # limit, a process left behind (the namespaces are the same: the warm batch covers them)
    names = ["solved.ipynb", "fork_bomb.ipynb", "background_writer.ipynb"]
    out = tmp_path / "cold.csv"
    proc = grade(["--out", out, "--jobs", "2", "--cold", *LIMITS, "--",
                  *(Path("corpus") / n for n in names)], cwd=batch["tmp"])
    assert proc.returncode == 0, proc.stderr
    assert "one sandbox each (cold)" in proc.stderr
    cold = read_rows(out)

    def same(rows):  # where the watchdog caught a process bomb depends on when it looked
        return {ex: {**row, "feedback": re.sub(r" (in cell \d+|while running exercise \w+)",
                                               "", row["feedback"])}
                for ex, row in rows.items()}

    for name in names:
        assert same(cold[f"corpus/{name}"]) == same(batch["rows"][f"corpus/{name}"]), name
    assert "HACKED" not in batch["out"].read_text()


def test_forced_chapter_other_chapter_memory_and_unstoppable_loop(tmp_path):
    cases = corpus.build_forced(tmp_path / "forced")
    out = tmp_path / "grades.csv"
    proc = grade(["--chapter", "02_rnn", "--out", out, "--timeout", "20", "--memory-mb", "1024",
                  "--", tmp_path / "forced"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = read_rows(out)
    for name, case in cases.items():
        got = rows[f"forced/{name}"]
        for exercise, want in case.points.items():
            assert float(got[exercise]["points"]) == want
            assert got[exercise]["status"] == case.status[exercise], got[exercise]
            assert case.feedback[exercise] in got[exercise]["feedback"], got[exercise]
