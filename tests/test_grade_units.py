"""The grader's parts, without running notebooks: chapter detection, the untrusted-result
loader, the sandbox's view of the file system, the CSV and reports, and its error exits."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT
from rnnbook.checks.core import pack
from rnnbook.grade import report
from rnnbook.grade.grading import GraderError, grade_result, load_key
from rnnbook.grade.results import ResultError, load_result
from rnnbook.grade.sandbox import (Limits, Sandbox, SandboxUnavailable, bwrap_prefix,
                                   check_hidden, read_only_binds)
from rnnbook.grade.submissions import chapter_from_name, find_notebooks, prepare

EXPECTED = ROOT / "solutions" / "expected"


@pytest.mark.parametrize("name, chapter", [
    ("02_rnn.ipynb", "02_rnn"),
    ("Copy of 02_rnn (3).ipynb", "02_rnn"),
    ("Copy of 02-rnn.ipynb", "02_rnn"),
    ("smith_07_lstm_final.ipynb", "07_lstm"),
    ("02_my_answers.ipynb", "02_rnn"),
    ("homework.ipynb", None),
    ("notes 2024.ipynb", None),
    ("02_rnn and 07_lstm.ipynb", None),  # two chapters: do not guess
])
def test_chapter_from_file_name(name, chapter):
    assert chapter_from_name(name) == chapter


def test_prepare_reads_metadata_and_flags_problems(tmp_path):
    nb = (ROOT / "exercises" / "02_rnn.ipynb").read_text()
    good = tmp_path / "anything.ipynb"
    good.write_text(nb)
    sub = prepare(good, "anything.ipynb")
    assert sub.chapter == "02_rnn" and sub.status is None
    other = prepare(good, "anything.ipynb", forced="07_lstm")
    assert other.status == "error" and "from chapter 02_rnn" in other.problem
    empty = tmp_path / "02_rnn.ipynb"
    empty.write_text("")
    sub = prepare(empty, "02_rnn.ipynb")
    assert sub.status == "unreadable" and sub.chapter == "02_rnn" and "empty" in sub.problem
    (tmp_path / "not_nb.ipynb").write_text('{"a": 1}')
    assert "not a Jupyter notebook" in prepare(tmp_path / "not_nb.ipynb", "x").problem
    (tmp_path / "bin.ipynb").write_bytes(b"\xff\xfe\x00PK")
    assert prepare(tmp_path / "bin.ipynb", "x").status == "unreadable"


def test_find_notebooks_in_folders_skips_checkpoints(tmp_path):
    (tmp_path / "a" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "a" / "x.ipynb").write_text("{}")
    (tmp_path / "a" / ".ipynb_checkpoints" / "x-checkpoint.ipynb").write_text("{}")
    (tmp_path / "b.ipynb").write_text("{}")
    found = find_notebooks([str(tmp_path / "a"), str(tmp_path / "b.ipynb"), str(tmp_path / "a")])
    assert [p.name for p in found] == ["x.ipynb", "b.ipynb"]
    with pytest.raises(FileNotFoundError):
        find_notebooks([str(tmp_path / "nope")])


# ---- the result file comes from the student's process: never trust it ------------------------

def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_load_result_round_trip(tmp_path):
    results = {"cell_step": {"hidden_a": {"output": (np.ones((2, 3)),)}}}
    np.savez_compressed(tmp_path / "r.npz", **pack(results, {"missing": []}))
    got, meta = load_result(tmp_path / "r.npz")
    assert meta == {"missing": []}
    np.testing.assert_array_equal(got["cell_step"]["hidden_a"]["output"][0], np.ones((2, 3)))


def test_load_result_rejects_pickles_links_fifos_and_bombs(tmp_path):
    np.savez(tmp_path / "obj.npz", **{"a|b|output|0": np.array([{"x": 1}], dtype=object)})
    with pytest.raises(ResultError, match="not numbers"):
        load_result(tmp_path / "obj.npz")
    secret = tmp_path / "secret.npz"
    np.savez(secret, **{"a|b|output|0": np.ones(3)})
    os.symlink(secret, tmp_path / "link.npz")
    with pytest.raises(ResultError, match="cannot be opened"):
        load_result(tmp_path / "link.npz")
    os.mkfifo(tmp_path / "fifo.npz")
    with pytest.raises(ResultError, match="not a regular file"):
        load_result(tmp_path / "fifo.npz")
    # a small file that unpacks to 800 MB
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.zeros(100_000_000))
        zf.writestr("a|b|output|0.npy", buf.getvalue())
    assert (tmp_path / "bomb.npz").stat().st_size < 2_000_000
    with pytest.raises(ResultError, match="more than the size limit"):
        load_result(tmp_path / "bomb.npz", max_bytes=64 * 2**20)
    # a header that asks for a terabyte
    with zipfile.ZipFile(tmp_path / "liar.npz", "w") as zf:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
        zf.writestr("a|b|output|0.npy", header.getvalue() + b"\0" * 64)
    with pytest.raises(ResultError, match="declares"):
        load_result(tmp_path / "liar.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ResultError):
        load_result(tmp_path / "junk.npz")
    with pytest.raises(ResultError, match="no result file"):
        load_result(tmp_path / "absent.npz")


def test_verdict_comes_from_arrays_not_from_claims():
    key = load_key("02_rnn", EXPECTED, with_mistakes=False)
    # a result that "says" everything passed, with wrong numbers, earns nothing
    results = {name: {case: {"output": (np.zeros((1,)),)} for case in key.cases[name]}
               for name in key.exercises}
    meta = {"passed": True, "score": 9, "verdict": "all ok", "missing": [], "errors": {}}
    grades = grade_result(key, results, meta)
    assert sum(g.points for g in grades) == 0
    assert {g.status for g in grades} == {"failed"}
    # outputs missing altogether: no points either
    assert sum(g.points for g in grade_result(key, {}, {"missing": list(key.exercises)})) == 0


def test_load_key_missing_says_how_to_build(tmp_path):
    with pytest.raises(GraderError, match=r"python -m rnnbook.checks.build 02_rnn"):
        load_key("02_rnn", tmp_path)


# ---- the sandbox ---------------------------------------------------------------------------------

def test_sandbox_binds_nothing_of_the_repository_but_the_package():
    binds = read_only_binds()
    assert ROOT.resolve() not in binds
    for b in binds:
        assert not (ROOT / "solutions").resolve().is_relative_to(b), b
    cmd = bwrap_prefix(Path("/tmp/scratch"), Limits(), [ROOT / "solutions"])
    for flag in ("--unshare-all", "--unshare-user", "--die-with-parent", "--cap-drop", "--clearenv",
                 "--disable-userns", "--new-session"):
        assert flag in cmd
    assert "--share-net" not in cmd
    writable = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--bind"]
    assert writable == ["/tmp/scratch"]
    # a checkout under /tmp (CI's fresh clone may be there) must not be hidden by the new /tmp
    fresh_tmp = next(i for i, a in enumerate(cmd) if a == "--tmpfs" and cmd[i + 1] == "/tmp")
    assert fresh_tmp < cmd.index("--ro-bind")


def test_check_hidden_refuses_a_bind_that_shows_the_solutions():
    with pytest.raises(SandboxUnavailable, match="would see"):
        check_hidden([ROOT], [ROOT / "solutions" / "expected"])
    check_hidden([ROOT / "rnnbook"], [ROOT / "solutions" / "expected"])  # fine


def test_sandbox_probe_sees_no_solutions_and_no_network(tmp_path):
    seen = Sandbox(Limits(), [EXPECTED, ROOT / "solutions"]).probe(tmp_path)
    assert seen == {"uid": 1000, "network": False, "visible": [], "sandboxed": True}


# ---- output files ----------------------------------------------------------------------------------

def test_write_atomic_leaves_no_partial_file(tmp_path):
    out = tmp_path / "g.csv"
    report.write_atomic(out, "a\n")
    with pytest.raises(TypeError):
        report.write_atomic(out, 12345)  # not a string: the write fails half-way
    assert out.read_text() == "a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["g.csv"]


def test_grades_file_of_another_kind_is_not_overwritten(tmp_path):
    other = tmp_path / "grades.csv"
    other.write_text("name,score\nann,3\n")
    with pytest.raises(report.GradesFileError):
        report.read_grades(other)


def test_report_names_are_unique_and_safe():
    taken: set = set()
    names = [report.report_name(s, taken) for s in
             ["a/b.ipynb", "a__b.ipynb", "../x y!.ipynb", "a/b.ipynb"]]
    assert len(set(names)) == 4
    assert all("/" not in n and n.endswith(".md") for n in names)


# ---- the command line ------------------------------------------------------------------------------

def run_cli(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "rnnbook.grade", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_cli_exits_2_when_the_grader_cannot_run(tmp_path):
    nb = ROOT / "exercises" / "02_rnn.ipynb"
    proc = run_cli(nb, "--out", tmp_path / "g.csv", "--expected-dir", tmp_path)
    assert proc.returncode == 2 and "python -m rnnbook.checks.build 02_rnn" in proc.stderr
    proc = run_cli(tmp_path / "missing.ipynb", "--out", tmp_path / "g.csv")
    assert proc.returncode == 2 and "no such file" in proc.stderr
    proc = run_cli(nb, "--out", tmp_path / "g.csv", "--jobs", "0")
    assert proc.returncode == 2 and "--jobs" in proc.stderr
    proc = run_cli(nb, "--out", tmp_path / "g.csv", "--chapter", "99_nothing")
    assert proc.returncode == 2 and "unknown chapter" in proc.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_cli(empty, "--out", tmp_path / "g.csv")
    assert proc.returncode == 2 and "no notebooks" in proc.stderr
    assert not (tmp_path / "g.csv").exists()


def test_cli_without_bwrap_refuses_rather_than_running_unsandboxed(tmp_path):
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    proc = run_cli(ROOT / "exercises" / "02_rnn.ipynb", "--out", tmp_path / "g.csv", env=env)
    assert proc.returncode == 2, proc.stderr
    assert "bubblewrap" in proc.stderr and "--no-sandbox" in proc.stderr
    assert not (tmp_path / "g.csv").exists()


def test_cli_grades_unrunnable_files_without_a_sandbox_run(tmp_path):
    (tmp_path / "02_rnn_broken.ipynb").write_text('{"cells": [')
    proc = run_cli(tmp_path, "--out", tmp_path / "out" / "g.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "out" / "g.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["status"] for r in rows} == {"unreadable"} and len(rows) == 5
    assert (tmp_path / "out" / "g-feedback" / "02_rnn_broken.md").is_file()


def test_csv_cells_never_start_a_formula():
    rows = {"=cmd|' /C calc'!A0.ipynb": [dict(
        submission="=cmd|' /C calc'!A0.ipynb", chapter="02_rnn", exercise="cell_step", points="0",
        max_points="2", status="failed", feedback="@SUM(1+1)")]}
    text = report.grades_csv(rows)
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["submission"].startswith("'=") and row["feedback"].startswith("'@")


def test_scratch_is_removed_even_when_locked(tmp_path):
    locked = tmp_path / "scratch" / "a" / "b"
    locked.mkdir(parents=True)
    (locked / "f").write_text("x")
    os.symlink("/etc", tmp_path / "scratch" / "link")
    os.chmod(tmp_path / "scratch" / "a", 0)
    Sandbox.remove_scratch(tmp_path / "scratch")
    assert not (tmp_path / "scratch").exists()
    assert Path("/etc/passwd").exists()
