"""The grader's parts, without running notebooks: reading submissions (defensively), chapter
detection, the untrusted-result loader, the sandbox's command and watchdog, the CSV and reports,
the command line and its error exits."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT
from rnnbook.checks import store
from rnnbook.grade import report
from rnnbook.grade.cli import option_files, parse_args
from rnnbook.grade.grading import GraderError, grade_result, load_key
from rnnbook.grade.results import ResultError, load_result
from rnnbook.grade.sandbox import (
    INPUT_MOUNT,
    PACKAGE_MOUNT,
    BubblewrapSandbox,
    Limits,
    NoSandbox,
    Sandbox,
    SandboxUnavailable,
    UserSandbox,
    bwrap_prefix,
    check_hidden,
    read_only_binds,
    remove_tree,
    runner_args,
    tree_usage,
)
from rnnbook.grade.submissions import (
    chapter_from_name,
    find_notebooks,
    parse_notebook,
    prepare,
    printable,
)

KEYS = ROOT / "solutions" / "keys"
CHAPTERS = store.chapters(ROOT)
NOTEBOOK = (ROOT / "exercises" / "02_rnn.ipynb").read_text()


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
    assert chapter_from_name(name, CHAPTERS) == chapter


def test_prepare_reads_metadata_and_flags_problems(tmp_path):
    good = tmp_path / "anything.ipynb"
    good.write_text(NOTEBOOK)
    sub = prepare(str(good), "anything.ipynb", CHAPTERS)
    assert sub.chapter == "02_rnn" and sub.status is None and sub.sources
    other = prepare(str(good), "anything.ipynb", CHAPTERS, forced="07_lstm")
    assert other.status == "error" and "from chapter 02_rnn" in other.problem
    empty = tmp_path / "02_rnn.ipynb"
    empty.write_text("")
    sub = prepare(str(empty), "02_rnn.ipynb", CHAPTERS)
    assert sub.status == "unreadable" and sub.chapter == "02_rnn" and "empty" in sub.problem
    (tmp_path / "not_nb.ipynb").write_text('{"a": 1}')
    not_nb = prepare(str(tmp_path / "not_nb.ipynb"), "x", CHAPTERS)
    assert "not a Jupyter notebook" in not_nb.problem
    (tmp_path / "bin.ipynb").write_bytes(b"\xff\xfe\x00PK")
    assert prepare(str(tmp_path / "bin.ipynb"), "x", CHAPTERS).status == "unreadable"


def test_file_name_and_metadata_must_agree_unless_forced(tmp_path):
    nb = json.loads(NOTEBOOK)
    nb["metadata"]["rnnbook"]["chapter"] = "01_time_series"
    path = tmp_path / "jane 02_rnn.ipynb"
    path.write_text(json.dumps(nb))
    sub = prepare(str(path), "jane 02_rnn.ipynb", CHAPTERS)
    assert sub.status == "error" and "file name says chapter 02_rnn" in sub.problem
    assert "--chapter" in sub.problem
    forced = prepare(str(path), "x", CHAPTERS, forced="01_time_series")
    assert forced.status is None and forced.chapter == "01_time_series"


@pytest.mark.parametrize("content, message", [
    (b"\xef\xbb\xbf" + NOTEBOOK.encode(), None),  # a BOM is fine
    (b'{"cells": [{"cell_type": "code", "source": 42}]}', "its source is not text"),
    (b'{"cells": [17]}', "cell 1 of the notebook is malformed"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"cells": [], "x": ' + b"9" * 5000 + b"}", "cannot be read as a notebook"),
    (b'{"cells": [', "not valid notebook JSON"),
])
def test_hostile_notebook_files_get_their_own_message(content, message):
    nb, sources, why = parse_notebook(content)
    if message is None:
        assert nb is not None and sources
    else:
        assert nb is None and message in why


def test_a_symlink_is_unreadable_and_odd_names_are_escaped(tmp_path):
    os.symlink(ROOT / "solutions" / "02_rnn.ipynb", tmp_path / "02_rnn.ipynb")
    sub = prepare(str(tmp_path / "02_rnn.ipynb"), "02_rnn.ipynb", CHAPTERS)
    assert sub.status == "unreadable" and "symbolic link" in sub.problem
    raw = os.fsdecode(b"caf\xe9 02_rnn\n.ipynb")
    (tmp_path / raw).write_text(NOTEBOOK)
    assert printable(raw) == "caf\\xe9 02_rnn\\x0a.ipynb"
    long = "x" * 220 + "_02_rnn.ipynb"
    (tmp_path / long).write_text(NOTEBOOK)
    found, refused = find_notebooks([str(tmp_path)])
    names = {printable(os.path.basename(p)) for p in found}
    assert "caf\\xe9 02_rnn\\x0a.ipynb" in names and long in names and not refused


def test_find_notebooks_refuses_options_walks_deep_trees_and_skips_links(tmp_path):
    (tmp_path / "a" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "a" / "x.ipynb").write_text("{}")
    (tmp_path / "a" / ".ipynb_checkpoints" / "x-checkpoint.ipynb").write_text("{}")
    (tmp_path / "b.ipynb").write_text("{}")
    os.symlink(ROOT / "solutions", tmp_path / "a" / "linked")
    deep = tmp_path / "deep"
    deep.mkdir()
    os.chdir(deep)
    try:
        for _ in range(1500):
            os.mkdir("d")
            os.chdir("d")
        Path("deep.ipynb").write_text("{}")
    finally:
        os.chdir(tmp_path)
    found, refused = find_notebooks([str(tmp_path / "a"), str(tmp_path / "b.ipynb"),
                                     str(tmp_path / "a"), "--key-dir=k.ipynb", str(deep)])
    assert [Path(p).name for p in found] == ["x.ipynb", "b.ipynb", "deep.ipynb"]
    assert refused == ["--key-dir=k.ipynb"]
    with pytest.raises(FileNotFoundError):
        find_notebooks([str(tmp_path / "nope")])
    remove_tree(deep)
    assert not deep.exists()


# ---- the result file comes from the student's process: never trust it ------------------------

def test_load_result_round_trip(tmp_path):
    results = {"hidden": {"cell_step": {"a": {"output": (np.ones((2, 3)),)}}}}
    np.savez_compressed(tmp_path / "r.npz", **store.pack(results, {"missing": []}))
    got, meta = load_result(tmp_path / "r.npz")
    assert meta == {"missing": []}
    np.testing.assert_array_equal(got["hidden"]["cell_step"]["a"]["output"][0], np.ones((2, 3)))


def test_load_result_rejects_pickles_links_fifos_text_and_bombs(tmp_path):
    key = "hidden|a|b|output|0"
    np.savez(tmp_path / "obj.npz", **{key: np.array([{"x": 1}], dtype=object)})
    with pytest.raises(ResultError, match="not numbers"):
        load_result(tmp_path / "obj.npz")
    np.savez(tmp_path / "str.npz", **{key: np.array(["a"])})
    with pytest.raises(ResultError, match="not numbers"):
        load_result(tmp_path / "str.npz")
    secret = tmp_path / "secret.npz"
    np.savez(secret, **{key: np.ones(3)})
    os.symlink(secret, tmp_path / "link.npz")
    with pytest.raises(ResultError, match="cannot be opened"):
        load_result(tmp_path / "link.npz")
    os.mkfifo(tmp_path / "fifo.npz")
    with pytest.raises(ResultError, match="not a regular file"):
        load_result(tmp_path / "fifo.npz")
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.zeros(100_000_000))
        zf.writestr(key + ".npy", buf.getvalue())
    assert (tmp_path / "bomb.npz").stat().st_size < 2_000_000
    with pytest.raises(ResultError, match="more than the size limit"):
        load_result(tmp_path / "bomb.npz", max_bytes=64 * 2**20)
    with zipfile.ZipFile(tmp_path / "liar.npz", "w") as zf:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
        zf.writestr(key + ".npy", header.getvalue() + b"\0" * 64)
    with pytest.raises(ResultError, match="declares"):
        load_result(tmp_path / "liar.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ResultError):
        load_result(tmp_path / "junk.npz")
    with pytest.raises(ResultError, match="no result file"):
        load_result(tmp_path / "absent.npz")


def test_verdict_comes_from_arrays_not_from_claims():
    key = load_key("02_rnn", KEYS)
    # a result that "says" everything passed, with wrong numbers, earns nothing
    results = {"hidden": {name: {case: {"output": (np.zeros((1,)),)} for case in key.cases[name]}
                          for name in key.exercises}}
    meta = {"passed": True, "score": 9, "verdict": "all ok", "missing": [], "errors": {}}
    grades = grade_result(key, results, meta)
    assert sum(g.points for g in grades) == 0
    assert {g.status for g in grades} == {"failed"}
    assert sum(g.points for g in grade_result(key, {}, {"missing": list(key.exercises)})) == 0


def test_the_key_is_all_the_grader_reads(tmp_path):
    with pytest.raises(GraderError, match=r"python -m rnnbook.checks.build 02_rnn"):
        load_key("02_rnn", tmp_path)
    results, meta = store.load(KEYS / "02_rnn.npz")
    store.save(tmp_path / "02_rnn.npz", results, {**meta, "spec_hash": "old"})
    with pytest.raises(GraderError, match="another version"):
        load_key("02_rnn", tmp_path)
    key = load_key("02_rnn", KEYS)
    assert key.points == {"cell_step": 2, "forward": 2, "param_count": 1, "readout": 2,
                          "keras_forward": 2, "bptt": 3}
    import rnnbook.grade.grading as grading
    source = Path(grading.__file__).read_text()
    assert "tests" not in source.replace("tests/", "") or "mistakes" not in source
    assert "subprocess" not in source


# ---- the sandbox ------------------------------------------------------------------------------

def test_sandbox_binds_nothing_of_the_repository_but_the_package():
    binds = read_only_binds()
    assert ROOT.resolve() not in binds
    for b in binds:
        assert not KEYS.resolve().is_relative_to(b), b
    cmd = bwrap_prefix(Path("/tmp/inputs"), Limits(), [KEYS])
    for flag in ("--unshare-all", "--unshare-user", "--die-with-parent", "--cap-drop",
                 "--clearenv", "--disable-userns", "--new-session"):
        assert flag in cmd
    assert "--share-net" not in cmd and "--bind" not in cmd  # nothing of the host is writable
    ro = [(cmd[i + 1], cmd[i + 2]) for i, a in enumerate(cmd) if a == "--ro-bind"]
    assert (str(Path(__import__("rnnbook").__file__).resolve().parent),
            f"{PACKAGE_MOUNT}/rnnbook") in ro
    assert ("/tmp/inputs", INPUT_MOUNT) in ro
    tmpfs = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--tmpfs"]
    assert set(tmpfs) == {"/tmp", "/dev/shm", "/home/student"}
    sizes = [int(cmd[i + 1]) for i, a in enumerate(cmd) if a == "--size"]
    assert len(sizes) == 3 and max(sizes) == Limits().disk_mb * 2**20
    fresh_tmp = next(i for i, a in enumerate(cmd) if a == "--tmpfs" and cmd[i + 1] == "/tmp")
    assert fresh_tmp < cmd.index("--ro-bind")


def test_runner_limits_and_timeouts():
    limits = Limits(timeout=20, call_timeout=30, cell_timeout=50)
    args = runner_args(limits, "02_rnn", INPUT_MOUNT, (3, 4))
    value = lambda flag: args[args.index(flag) + 1]  # noqa: E731
    assert float(value("--call-timeout")) == 20  # capped by the submission's timeout
    assert float(value("--cell-timeout")) == 20
    assert float(value("--max-call-timeout")) == 20
    assert int(value("--max-procs")) > limits.max_procs  # the watchdog acts first
    assert value("--result-fd") == "3" and "-I" in args


def test_one_sandbox_interface_three_implementations(tmp_path):
    from rnnbook.grade.sandbox import SANDBOXES, make_sandbox

    assert SANDBOXES == {"bubblewrap": BubblewrapSandbox, "user": UserSandbox, "none": NoSandbox}
    for kind, cls in SANDBOXES.items():
        box = make_sandbox(kind, Limits(), [KEYS])
        assert isinstance(box, Sandbox) and type(box) is cls and box.kind == kind
        assert box.isolated == (kind != "none")
    with pytest.raises(SandboxUnavailable, match="unknown sandbox"):
        make_sandbox("docker", Limits(), [KEYS])
    assert parse_args(["--out", "g.csv", "--no-sandbox", "a.ipynb"]).sandbox == "none"
    assert parse_args(["--out", "g.csv", "a.ipynb"]).sandbox == "bubblewrap"
    with pytest.raises(SystemExit):
        parse_args(["--out", "g.csv", "--no-sandbox", "--sandbox", "user", "a.ipynb"])


def test_a_warm_worker_refuses_to_run_outside_its_sandbox():
    from rnnbook.grade import warm

    assert not warm.in_sandbox()
    with pytest.raises(RuntimeError, match="only inside"):
        warm.kill_others()
    with pytest.raises(SystemExit):
        warm.worker_main(["--control-fd", "99"])


def test_warm_worker_sandbox_has_the_cold_view_plus_message_queues():
    cold = bwrap_prefix(Path("/tmp/inputs"), Limits(), [KEYS])
    warm = bwrap_prefix(Path("/tmp/inputs"), Limits(), [KEYS], mqueue=True)
    i = warm.index("--mqueue")
    assert warm[:i] + warm[i + 2:] == cold and warm[i + 1] == "/dev/mqueue"
    assert i < warm.index("--remount-ro")


def test_check_hidden_refuses_a_bind_that_shows_the_key():
    with pytest.raises(SandboxUnavailable, match="would see"):
        check_hidden([ROOT], [KEYS])
    check_hidden([ROOT / "rnnbook"], [KEYS])  # fine


def test_sandbox_probe_sees_no_key_and_no_network(tmp_path):
    seen = BubblewrapSandbox(Limits(), [KEYS, ROOT / "solutions"]).probe(tmp_path)
    assert seen == {"uid": 1000, "network": False, "visible": [], "sandboxed": True}


def test_a_sandbox_that_cannot_import_rnnbook_says_so(tmp_path, monkeypatch):
    import rnnbook.grade.sandbox as sandbox

    empty = tmp_path / "pkg"
    empty.mkdir()
    monkeypatch.setattr(sandbox, "package_dir", lambda: empty)
    with pytest.raises(SandboxUnavailable) as err:
        BubblewrapSandbox(Limits(), [KEYS]).probe(tmp_path)
    text = str(err.value)
    assert "Python inside it failed" in text and "not a namespace problem" in text
    assert "user namespaces" not in text


def test_the_watchdog_counts_a_process_tree():
    child = subprocess.Popen([sys.executable, "-c", "import time, numpy; a = numpy.ones(2**24); "
                              "time.sleep(30)"])
    try:
        for _ in range(100):
            tasks, rss = tree_usage(os.getpid())
            if rss > 2**27 + 2**20:
                break
            __import__("time").sleep(0.1)
        assert tasks >= 2 and rss > 2**27  # this process and the child's 128 MB array
    finally:
        child.kill()
        child.wait()


def test_remove_tree_deletes_deep_locked_trees_without_following_links(tmp_path):
    top = tmp_path / "scratch"
    top.mkdir()
    os.symlink("/etc", top / "link")
    os.chdir(top)
    try:
        for _ in range(3000):
            os.mkdir("d")
            os.chdir("d")
        Path("f").write_text("x")
        os.chmod(".", 0o500)
    finally:
        os.chdir(tmp_path)
    locked = top / "a" / "b"
    locked.mkdir(parents=True)
    os.chmod(top / "a", 0)
    remove_tree(top)
    assert not top.exists()
    assert Path("/etc/passwd").exists()


# ---- output files -----------------------------------------------------------------------------

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


def test_report_names_are_stable_unique_short_and_safe():
    names = [report.report_name(s) for s in
             ["a/b.ipynb", "a__b.ipynb", "../x y!.ipynb", "jane doe.ipynb", "jane_doe.ipynb",
              "x" * 230 + ".ipynb", "caf\\xe9.ipynb"]]
    assert len(set(names)) == len(names)
    assert names == [report.report_name(s) for s in
                     ["a/b.ipynb", "a__b.ipynb", "../x y!.ipynb", "jane doe.ipynb",
                      "jane_doe.ipynb", "x" * 230 + ".ipynb", "caf\\xe9.ipynb"]]
    assert all("/" not in n and n.endswith(".md") and len(n.encode()) < 100 for n in names)


def test_csv_cells_never_start_a_formula_and_read_back_exactly(tmp_path):
    names = ["=cmd|' /C calc'!A0.ipynb", "+1.ipynb", "-x.ipynb", "@SUM.ipynb", "'quoted.ipynb",
             "plain.ipynb"]
    rows = {n: [dict(submission=n, chapter="02_rnn", exercise="cell_step", points="0",
                     max_points="2", status="failed", feedback="@SUM(1+1)")] for n in names}
    text = report.grades_csv(rows)
    for row in csv.DictReader(io.StringIO(text)):
        assert row["submission"][0] not in "=+-@" and row["feedback"].startswith("'@")
    path = tmp_path / "g.csv"
    path.write_text(text)
    assert list(report.read_grades(path)) == names


def test_markdown_escapes_file_names():
    text = report.md_escape("a_b*c [x](y) <img src=x> # | `")
    assert "<img" not in text and "\\_" in text and "\\*" in text and "\\[" in text
    assert "\\|" in text and "\\`" in text


# ---- the command line -------------------------------------------------------------------------

def run_cli(*args, env=None, cwd=None, module="rnnbook.grade"):
    return subprocess.run([sys.executable, "-m", module, *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_cli_exits_2_when_the_grader_cannot_run(tmp_path):
    nb = ROOT / "exercises" / "02_rnn.ipynb"
    proc = run_cli(nb, "--out", tmp_path / "g.csv", "--key-dir", tmp_path)
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


def test_a_file_named_like_an_option_is_refused(tmp_path):
    forged = tmp_path / "--key-dir=k.ipynb"
    forged.write_text(NOTEBOOK)
    (tmp_path / "--no-sandbox").write_text("")
    assert option_files(["--key-dir=k.ipynb", "--out", "g.csv", "--", "-x.ipynb"]) == []
    os.chdir(tmp_path)
    assert option_files(["--key-dir=k.ipynb", "--out", "g.csv"]) == ["--key-dir=k.ipynb"]
    assert option_files(["--out", "g.csv", "--", "--key-dir=k.ipynb"]) == []
    proc = run_cli("--key-dir=k.ipynb", "--no-sandbox", "--out", "g.csv", cwd=tmp_path)
    assert proc.returncode == 2 and "both an option and a file" in proc.stderr
    assert "--" in proc.stderr and not (tmp_path / "g.csv").exists()
    args = parse_args(["--out", "g.csv", "--", "--no-sandbox", "a.ipynb"])
    assert args.submissions == ["--no-sandbox", "a.ipynb"] and not args.no_sandbox
    with pytest.raises(SystemExit):
        parse_args(["--out", "g.csv", "--no-sand", "a.ipynb"])  # no abbreviations


def test_cli_without_bwrap_refuses_rather_than_running_unsandboxed(tmp_path):
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path),
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
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
    assert {r["status"] for r in rows} == {"unreadable"} and len(rows) == 6
    assert (tmp_path / "out" / "g-feedback" / report.report_name("02_rnn_broken.ipynb")).is_file()


CSV_TRAP = """import pathlib
pathlib.Path({marker!r}).write_text("the grader imported me")
"""


@pytest.mark.parametrize("how", ["module", "cli module", "console script"])
def test_a_module_beside_the_submissions_is_never_imported(tmp_path, how):
    marker = tmp_path / "IMPORTED"
    for name in ("csv", "json", "argparse", "numpy"):
        (tmp_path / f"{name}.py").write_text(CSV_TRAP.format(marker=str(marker)))
    (tmp_path / "02_rnn_broken.ipynb").write_text('{"cells": [')
    if how == "console script":  # what pip writes for [project.scripts] rnnbook = rnnbook.cli:main
        script = tmp_path / "bin" / "rnnbook"
        script.parent.mkdir()
        script.write_text(f"#!{sys.executable}\nimport sys\nfrom rnnbook.cli import main\n"
                          "sys.exit(main())\n")
        script.chmod(0o755)
        cmd = [str(script), "grade"]
    elif how == "cli module":
        cmd = [sys.executable, "-m", "rnnbook.cli", "grade"]
    else:
        cmd = [sys.executable, "-m", "rnnbook.grade"]
    proc = subprocess.run(cmd + ["--out", "g.csv", "02_rnn_broken.ipynb"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists(), "a module in the current folder ran inside the grader"


def test_the_rnnbook_command_maps_verbs_and_log_levels(monkeypatch):
    import logging

    from rnnbook import cli

    seen = {}

    def fake_main(argv):
        seen["argv"] = argv
        seen["level"] = logging.getLogger().level
        return 0

    monkeypatch.setattr("rnnbook.exercises.main", fake_main)
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    assert cli.main(["-q", "exercises", "--check", "02_rnn"]) == 0
    assert seen == {"argv": ["--check", "02_rnn"], "level": logging.WARNING}
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    assert cli.main(["-v", "exercises"]) == 0 and seen["level"] == logging.DEBUG
    assert set(cli.VERBS) == {"exercises", "build-key", "execute", "grade", "gradescope",
                              "bench"}
    for module, _ in cli.VERBS.values():
        assert callable(__import__(module, fromlist=["main"]).main)
    proc = subprocess.run([sys.executable, "-m", "rnnbook.cli"], capture_output=True, text=True)
    assert proc.returncode == 2 and "build-key" in proc.stderr
