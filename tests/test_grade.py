"""``python -m rnnbook.grade`` on a corpus of good and bad chapter 2 submissions, plus every
chapter's solution (full marks) and student copy (zero), all in ONE sandboxed batch (--jobs 2).

The corpus (tests/grading_corpus/corpus.py) is built from exercises/02_rnn.ipynb; each case
declares the points and status of every exercise, asserted here. The cheating cases are built so
that they would score full marks if the sandbox or the verdict leaked.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from helpers import ROOT, chapters_with_exercises

sys.path.insert(0, str(ROOT / "tests" / "grading_corpus"))
import corpus  # noqa: E402
from rnnbook.grade.report import fmt_points  # noqa: E402

CHAPTERS = chapters_with_exercises()
EXPECTED = ROOT / "solutions" / "expected"
# the chapters that can be graded (a chapter without hidden expected outputs would stop the whole
# batch with exit status 2; test_every_chapter_has_hidden_expected_outputs names it instead)
BUILT = [c for c in CHAPTERS if (EXPECTED / f"{c}.npz").is_file()]
# generous wall-clock limits: other work may share the 2 cores; the hang cases use the cell and
# call limits, and only "unstoppable" (its own batch) waits for the whole-notebook timeout
LIMITS = ["--timeout", "240", "--cell-timeout", "45", "--call-timeout", "8"]


def grade(args, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": ""}
    return subprocess.run([sys.executable, "-m", "rnnbook.grade", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=1200)


def read_rows(path) -> dict:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    by_sub: dict = {}
    for row in rows:
        by_sub.setdefault(row["submission"], {})[row["exercise"]] = row
    return by_sub


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
    token = f"rnnbook-corpus-{uuid.uuid4().hex}"
    listener = Listener()
    try:
        cases = corpus.build(tmp / "corpus", grades_path=str(out), token=token, port=listener.port)
        chapter_files = [ROOT / d / f"{c}.ipynb" for c in BUILT for d in ("solutions", "exercises")]
        start = time.monotonic()
        proc = grade([tmp / "corpus", *chapter_files, "--out", out, "--jobs", "2", *LIMITS], cwd=tmp)
        seconds = time.monotonic() - start
        time.sleep(2)  # give a leftover process, were there one, time to strike
        leftovers = processes_with(token)
    finally:
        listener.close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(cases) == sorted(corpus.CASE_FILES)
    return {"cases": cases, "proc": proc, "out": out, "rows": read_rows(out), "tmp": tmp,
            "feedback": tmp / "results" / "grades-feedback", "leftovers": leftovers,
            "connections": listener.accepted, "seconds": seconds}


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
        if exercise in corpus.POINTS:
            assert float(row["max_points"]) == corpus.POINTS[exercise]
        if exercise in case.feedback:
            assert case.feedback[exercise] in row["feedback"], (name, exercise, row["feedback"])
    total = sum(float(r["points"]) for r in rows.values())
    assert total == pytest.approx(case.total, abs=0.02)
    reports = [p for p in batch["feedback"].glob("*.md") if p.read_text().startswith(
        f"# Feedback: corpus/{name}\n")]
    assert len(reports) == 1, f"one feedback report per submission, got {reports}"
    text = reports[0].read_text()
    max_total = sum(float(r["max_points"]) for r in rows.values())
    assert f"score **{fmt_points(total)} / {fmt_points(max_total)}**" in text
    for needle in case.report:
        assert needle in text, f"{name}: the report lacks {needle!r}:\n{text}"


def test_every_chapter_has_hidden_expected_outputs():
    missing = [c for c in CHAPTERS if c not in BUILT]
    assert not missing, ("the grader cannot grade these chapters: build their hidden expected "
                         "outputs with " + "; ".join(f"`python -m rnnbook.checks.build {c}`"
                                                     for c in missing))


def test_every_chapter_solution_full_marks_and_student_copy_zero(batch):
    assert BUILT, "no gradable solution notebooks found"
    for chapter in BUILT:
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
    report = next(p for p in batch["feedback"].glob("*mistakes_a*.md")).read_text()
    assert "hidden_" in report  # messages are about the hidden cases
    assert "did you forget it?" in report and "0 of 5 hidden cases pass" in report


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
    assert f"[{len(batch['rows'])}/{len(batch['rows'])} " in err  # progress, one line each (no tty)
    summary = err[err.index("Summary:"):]
    for exercise in corpus.POINTS:
        assert exercise in summary
    assert "passed" in summary.splitlines()[1] and "mean score" in summary.splitlines()[1]


def test_rerun_replaces_only_its_own_rows(batch, tmp_path):
    out = tmp_path / "grades.csv"
    shutil.copy(batch["out"], out)
    before = read_rows(out)
    proc = grade([batch["tmp"] / "corpus" / "homework.ipynb", "--out", out], cwd=batch["tmp"])
    assert proc.returncode == 0, proc.stderr
    after = read_rows(out)
    assert after == before  # same input, same rows; everything else kept
    proc = grade([batch["tmp"] / "corpus" / "homework.ipynb", "--chapter", "02_rnn", "--out", out,
                  "--timeout", "240"], cwd=batch["tmp"])
    assert proc.returncode == 0, proc.stderr
    again = read_rows(out)
    assert set(again) == set(before)
    assert set(again["corpus/homework.ipynb"]) == set(corpus.POINTS)  # now graded as chapter 2
    assert all(r["status"] == "passed" for r in again["corpus/homework.ipynb"].values())
    assert again["corpus/solved.ipynb"] == before["corpus/solved.ipynb"]


def test_forced_chapter_other_chapter_and_unstoppable_loop(tmp_path):
    cases = corpus.build_forced(tmp_path / "forced")
    out = tmp_path / "grades.csv"
    start = time.monotonic()
    proc = grade([tmp_path / "forced", "--chapter", "02_rnn", "--out", out, "--timeout", "20"],
                 cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - start < 120
    rows = read_rows(out)
    for name, case in cases.items():
        got = rows[f"forced/{name}"]
        for exercise, want in case.points.items():
            assert float(got[exercise]["points"]) == want
            assert got[exercise]["status"] == case.status[exercise], got[exercise]
            assert case.feedback[exercise] in got[exercise]["feedback"]
