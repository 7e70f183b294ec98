"""Grading at scale: sharded runs and their merge, the Gradescope autograder (built, set up
offline from a local wheel, run on a solved, a half-solved and a hostile submission, its
results.json checked against Gradescope's documented format), and the unprivileged-user
sandbox's building blocks. Warm workers are tested with the corpus in test_grade.py."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest

from helpers import ROOT
from rnnbook.grade import report

sys.path.insert(0, str(ROOT / "tests" / "grading_corpus"))
import corpus  # noqa: E402

from rnnbook.grade.grading import load_key  # noqa: E402

KEYS = ROOT / "solutions" / "keys"


def grade(args, cwd, env=None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "rnnbook.cli", "grade", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, env=env, timeout=1200)


# ---- sharding ----------------------------------------------------------------------------------

def test_three_shards_and_a_merge_equal_one_run_row_for_row(tmp_path):
    """One submission runs (solved), the others are graded without running (unreadable, no
    chapter, a link, a refused name): the slices and the merge are what is tested here."""
    subs = tmp_path / "subs"
    made = corpus.build(tmp_path / "all", grades_path=str(tmp_path / "x.csv"), token="shard",
                        port=9)
    subs.mkdir()
    for name in ("solved.ipynb", "02_rnn_corrupt.ipynb", "homework.ipynb",
                 "02_rnn_bad_cells.ipynb", "02_rnn_deep_json.ipynb", "=broken 02_rnn.ipynb",
                 "@broken 02_rnn.ipynb"):
        assert name in made
        shutil.copy(tmp_path / "all" / name, subs / name)
    os.symlink(ROOT / "solutions" / "02_rnn.ipynb", subs / "linked_02_rnn.ipynb")
    (tmp_path / "-refused_02_rnn.ipynb").write_text("{}")
    inputs = ["--", "subs", "-refused_02_rnn.ipynb"]
    single = grade(["--out", "single.csv", "--jobs", "1", *inputs], tmp_path)
    assert single.returncode == 0, single.stderr
    shards = []
    for k in range(3):
        proc = grade(["--out", f"shard{k}.csv", "--jobs", "1", "--shard", f"{k}/3", *inputs],
                     tmp_path)
        assert proc.returncode == 0, proc.stderr
        shards.append(report.read_grades(tmp_path / f"shard{k}.csv"))
    names = [set(s) for s in shards]
    assert all(names) and not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    merge = grade(["merge", *(f"shard{k}.csv" for k in range(3)), "--out", "merged.csv"],
                  tmp_path)
    assert merge.returncode == 0, merge.stderr
    one = (tmp_path / "single.csv").read_text()
    assert (tmp_path / "merged.csv").read_text() == one
    assert len(report.read_grades(tmp_path / "single.csv")) == 9
    assert "solved.ipynb,02_rnn,cell_step" in one.replace("subs/", "")


def test_merge_refuses_duplicates_and_conflicts(tmp_path):
    rows = [dict(submission="a.ipynb", chapter="02_rnn", exercise="cell_step", points="2",
                 max_points="2", status="passed", feedback="ok")]
    other = [dict(rows[0], submission="b.ipynb")]
    for name, data in (("a.csv", {"a.ipynb": rows}), ("a2.csv", {"a.ipynb": rows}),
                       ("b.csv", {"b.ipynb": other}),
                       ("c.csv", {"a.ipynb": [dict(rows[0], points="0", status="failed")]}),
                       ("d.csv", {"d.ipynb": [dict(rows[0], submission="d.ipynb")] * 2})):
        (tmp_path / name).write_text(report.grades_csv(data))
    ok = grade(["merge", "b.csv", "a.csv", "--out", "m.csv"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert list(report.read_grades(tmp_path / "m.csv")) == ["a.ipynb", "b.ipynb"]
    for inputs, message in ((["a.csv", "a2.csv"], "a duplicate"),
                            (["a.csv", "c.csv"], "conflicting rows"),
                            (["d.csv"], "an exercise twice"),
                            (["a.csv", "missing.csv"], "no such grades file")):
        proc = grade(["merge", *inputs, "--out", "bad.csv"], tmp_path)
        assert proc.returncode == 2 and message in proc.stderr, (inputs, proc.stderr)
        assert not (tmp_path / "bad.csv").exists()
    (tmp_path / "notes.csv").write_text("name,score\n")
    proc = grade(["merge", "a.csv", "--out", "notes.csv"], tmp_path)
    assert proc.returncode == 2 and (tmp_path / "notes.csv").read_text() == "name,score\n"
    bad = grade(["--out", "g.csv", "--shard", "3/3", "a.ipynb"], tmp_path)
    assert bad.returncode == 2 and "0 <= K < N" in bad.stderr
    (tmp_path / "02_rnn_x.ipynb").write_text("{")  # one unreadable file: shard 1 of 2 is empty
    empty = grade(["--out", "empty.csv", "--shard", "1/2", "02_rnn_x.ipynb"], tmp_path)
    assert empty.returncode == 0, empty.stderr
    assert (tmp_path / "empty.csv").read_text() == report.grades_csv({})


def test_shards_are_a_partition_whatever_the_order():
    from rnnbook.grade.cli import shard

    items = [(f"p{i}", f"student {i:03d}.ipynb") for i in range(23)]
    slices = [shard(items, k, 4) for k in range(4)]
    assert sorted(x for s in slices for x in s) == sorted(items)
    assert [shard(list(reversed(items)), k, 4) for k in range(4)] == slices
    assert max(map(len, slices)) - min(map(len, slices)) <= 1


# ---- Gradescope -------------------------------------------------------------------------------

#: Gradescope's results.json, as its autograder specification documents it (the fields we use,
#: and the types and values it allows for them)
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["tests"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published",
                                       "visible"]},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "score", "max_score", "output", "visibility"],
            "properties": {
                "name": {"type": "string"}, "score": {"type": "number"},
                "max_score": {"type": "number"}, "status": {"enum": ["passed", "failed"]},
                "output": {"type": "string"},
                "visibility": {"enum": ["hidden", "after_due_date", "after_published",
                                        "visible"]},
            }}},
    },
}

HOSTILE = """import glob, json, os, socket
stolen = []
for pattern in ["/autograder/source/keys/*", {keys!r} + "/*"]:
    for path in glob.glob(pattern):
        try:
            stolen.append(open(path, "rb").read(10))
        except OSError:
            pass
fake = {{"score": 1000, "tests": []}}
for path in ["/autograder/results/results.json", {results!r}]:
    try:
        with open(path, "w") as f:
            json.dump(fake, f)
    except OSError:
        pass
try:
    socket.create_connection(("192.0.2.1", 80), timeout=2)
    stolen.append(b"network")
except OSError:
    pass
if stolen:  # the key was readable: define the right answers
    exec({right!r})"""


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """The rnnbook wheel, built once per session from this checkout (offline)."""
    from rnnbook.grade.gradescope import build_wheel

    return build_wheel(tmp_path_factory.mktemp("wheel"), ROOT)


def _unzip(path: Path, dest: Path) -> None:
    """Unpack like Gradescope does, keeping the executable bits."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(dest / info.filename, mode)


def test_gradescope_autograder_offline_three_submissions(wheel):
    base = Path(tempfile.mkdtemp(prefix="rnnbook-gradescope-"))
    try:
        os.chmod(base, 0o755)
        build = subprocess.run(
            [sys.executable, "-m", "rnnbook.cli", "gradescope", "02_rnn", "--out",
             base / "autograder.zip", "--wheel", wheel], capture_output=True, text=True)
        assert build.returncode == 0, build.stderr
        with zipfile.ZipFile(base / "autograder.zip") as zf:
            names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt", "config.json",
                "keys/02_rnn.npz", f"wheels/{wheel.name}"} <= names
        assert not any("solutions" in n or n.endswith(".ipynb") for n in names)
        root = base / "autograder"
        source = root / "source"
        _unzip(base / "autograder.zip", source)
        assert "tensorflow-cpu==" in (source / "requirements.txt").read_text()
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", base / "venv"],
                       check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
        env.update(PATH=f"{base / 'venv' / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
                   PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheel.parent),
                   PIP_DISABLE_PIP_VERSION_CHECK="1", RNNBOOK_AUTOGRADER_ROOT=str(root))
        setup = subprocess.run(["bash", source / "setup.sh"], cwd=source, env=env,
                               capture_output=True, text=True, timeout=600)
        assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-2000:]
        assert stat.S_IMODE((source / "keys").stat().st_mode) == 0o700
        assert stat.S_IMODE((source / "keys" / "02_rnn.npz").stat().st_mode) == 0o600
        where = subprocess.run(["python3", "-I", "-c", "import rnnbook; print(rnnbook.__file__)"],
                               env=env, capture_output=True, text=True, check=True).stdout
        assert where.startswith(str(base / "venv")), where  # the wheel's copy, not the checkout

        key = load_key("02_rnn", KEYS)
        full = sum(float(p) for p in key.points.values())
        nb0 = corpus.base()
        half = ("cell_step", "forward", "param_count")
        hostile = corpus.insert_after_imports(nb0, HOSTILE.format(
            keys=str(source / "keys"),
            results=str(root / "results" / "results.json"),
            right="\n\n".join(corpus.RIGHT.values())))
        submissions = {
            "solved": (corpus.fill(nb0, corpus.RIGHT), full),
            "half": (corpus.fill(nb0, {k: corpus.RIGHT[k] for k in half}),
                     sum(float(key.points[k]) for k in half)),
            "hostile": (hostile, 0.0),
        }
        for label, (nb, want) in submissions.items():
            shutil.rmtree(root / "submission", ignore_errors=True)
            shutil.rmtree(root / "results", ignore_errors=True)
            (root / "submission").mkdir()
            nbformat.write(nb, root / "submission" / "02_rnn.ipynb")
            run = subprocess.run([source / "run_autograder"], cwd=root, env=env,
                                 capture_output=True, text=True, timeout=900)
            assert run.returncode == 0, run.stderr[-3000:]
            results = json.loads((root / "results" / "results.json").read_text())
            jsonschema.validate(results, RESULTS_SCHEMA)
            assert results["score"] == pytest.approx(want, abs=0.01), (label, results)
            tests = {t["name"]: t for t in results["tests"]}
            assert list(tests) == list(key.exercises), label
            assert sum(t["max_score"] for t in tests.values()) == pytest.approx(full)
            rows = report.read_grades(root / "results" / "grades.csv")
            (sub_rows,) = rows.values()
            for row in sub_rows:  # the same feedback as the CSV
                assert row["feedback"] in tests[row["exercise"]]["output"]
                assert tests[row["exercise"]]["score"] == float(row["points"])
            if label == "half":
                assert {n for n, t in tests.items() if t["status"] == "passed"} == set(half)
                assert "not written yet" in tests["readout"]["output"]
            assert "Feedback" in results["output"] and results["output_format"] == "md"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_gradescope_build_refuses_a_missing_key(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rnnbook.cli", "gradescope", "02_rnn", "--out",
                           tmp_path / "a.zip", "--key-dir", tmp_path, "--wheel", "x.whl"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no answer key" in proc.stderr
    assert not (tmp_path / "a.zip").exists()


# ---- the unprivileged-user sandbox -------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() != 0, reason="the user sandbox needs root (CI runs as root)")
def test_user_sandbox_cannot_read_a_root_only_key_and_leaves_no_process(tmp_path):
    from rnnbook.grade.sandbox import USER_SANDBOX_UID, UserSandbox, kill_uid, uid_usage

    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "02_rnn.npz").write_bytes(b"secret")
    os.chmod(keys, 0o700)
    os.chmod(keys / "02_rnn.npz", 0o600)
    demote = UserSandbox(None, [keys])._demote()
    read = subprocess.run(["cat", str(keys / "02_rnn.npz")], preexec_fn=demote,
                          capture_output=True, text=True, cwd="/")
    assert read.returncode != 0 and "Permission denied" in read.stderr
    who = subprocess.run(["id", "-u"], preexec_fn=demote, capture_output=True, text=True,
                         cwd="/")
    assert who.stdout.strip() == str(USER_SANDBOX_UID)
    subprocess.run(["sh", "-c", "setsid sleep 300 >/dev/null 2>&1 &"], preexec_fn=demote,
                   cwd="/", check=True)
    assert uid_usage(USER_SANDBOX_UID)[2], "the background process did not start"
    kill_uid(USER_SANDBOX_UID)
    assert uid_usage(USER_SANDBOX_UID)[2] == []
