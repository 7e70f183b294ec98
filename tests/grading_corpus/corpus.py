"""A corpus of submissions, good and bad -- one at least for every finding of the grading
reviews -- built mostly from ``exercises/02_rnn.ipynb``.

``build(folder, ...)`` writes one notebook per case into ``folder`` and returns ``{file name:
Case}``: each case says how many points each exercise must get and with which status. The
notebooks are the student copy with the stubs replaced (and cells added, removed or edited) the
way students really do it. Everything here is deterministic: the same arguments write the same
files. ``python tests/grading_corpus/corpus.py FOLDER`` writes them for a look.

Chapter 2's points: cell_step 2, forward 2, param_count 1, readout 2, keras_forward 2, bptt 3
(12 in all).
A known mistake scores 0 (it explains the outputs on every case it can be told apart on);
anything else earns points x the share of hidden cases passed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = ROOT / "exercises" / "02_rnn.ipynb"
POINTS = {"cell_step": 2, "forward": 2, "param_count": 1, "readout": 2, "keras_forward": 2,
          "bptt": 3}
TARGETS = {"cell_step": "rnn_cell_step", "forward": "rnn_forward",
           "param_count": "rnn_stack_params", "readout": "rnn_readout",
           "keras_forward": "keras_rnn_forward", "bptt": "rnn_bptt"}

# ---- function sources ------------------------------------------------------------------------

RIGHT = {
    "cell_step": '''def rnn_cell_step(x_t, s_prev, U, W, b):
    return np.tanh(x_t @ U.T + s_prev @ W.T + b)''',
    "forward": '''def rnn_forward(x, s0, U, W, b, lengths=None):
    lengths = np.full(len(x), x.shape[1]) if lengths is None else lengths
    s, states = s0, []
    for t in range(x.shape[1]):
        new = np.tanh(x[:, t] @ U + s @ W + b)
        s = np.where((t < lengths)[:, None], new, s)
        states.append(s)
    return np.stack(states, axis=1)''',
    "param_count": '''def rnn_stack_params(features, units, layers, outputs):
    rnn = features * units + (layers - 1) * units * units + layers * (units * units + units)
    return rnn + units * outputs + outputs''',
    "readout": '''def rnn_readout(x, s0, U, W, b, V, c):
    s, outs = s0, []
    for t in range(x.shape[1]):
        s = np.tanh(x[:, t] @ U + s @ W + b)
        e = np.exp(s @ V + c)
        outs.append(e / e.sum(axis=1, keepdims=True))
    p_all = np.stack(outs, axis=1)
    return p_all, p_all[:, -1]''',
    "keras_forward": '''def keras_rnn_forward(x, s0, U, W, b):
    layer = keras.layers.SimpleRNN(U.shape[1], return_sequences=True, return_state=True)
    layer.build(x.shape)
    layer.set_weights([U, W, b])
    states, last = layer(x, initial_state=s0)
    return keras.ops.convert_to_numpy(states), keras.ops.convert_to_numpy(last)''',
    "bptt": '''def rnn_bptt(x, y, s0, U, W, b, V, c):
    s = [s0]
    for t in range(x.shape[1]):
        s.append(np.tanh(x[:, t] @ U + s[-1] @ W + b))
    grads = [np.zeros_like(a) for a in (U, W, b, V, c)]
    back = np.zeros_like(s0)
    for t in range(x.shape[1], 0, -1):
        d_o = 2 * (s[t] @ V + c - y[:, t - 1]) / len(x)
        delta = (d_o @ V.T + back) * (1 - s[t] ** 2)
        for i, g in enumerate((x[:, t - 1].T @ delta, s[t - 1].T @ delta, delta.sum(0),
                               s[t].T @ d_o, d_o.sum(0))):
            grads[i] = grads[i] + g
        back = delta @ W.T
    return (*grads, back)''',
}

# Realistic mistakes (the same ones solutions/mistakes/02_rnn.py names), two sets.
MISTAKES_A = {  # no bias / state not carried / W as features^2 / first step / zero state /
    # no carry through W
    "cell_step": '''def rnn_cell_step(x_t, s_prev, U, W, b):
    return np.tanh(x_t @ U.T + s_prev @ W.T)''',
    "forward": '''def rnn_forward(x, s0, U, W, b, lengths=None):
    lengths = np.full(len(x), x.shape[1]) if lengths is None else lengths
    s, states = s0, []
    for t in range(x.shape[1]):
        s = np.where((t < lengths)[:, None], np.tanh(x[:, t] @ U + s0 @ W + b), s)
        states.append(s)
    return np.stack(states, axis=1)''',
    "param_count": '''def rnn_stack_params(features, units, layers, outputs):
    rnn = features * units + features * features + units
    rnn += (layers - 1) * (2 * units * units + units)
    return rnn + units * outputs + outputs''',
    "readout": '''def rnn_readout(x, s0, U, W, b, V, c):
    s, outs = s0, []
    for t in range(x.shape[1]):
        s = np.tanh(x[:, t] @ U + s @ W + b)
        e = np.exp(s @ V + c)
        outs.append(e / e.sum(axis=1, keepdims=True))
    p_all = np.stack(outs, axis=1)
    return p_all, p_all[:, 0]''',
    "keras_forward": '''def keras_rnn_forward(x, s0, U, W, b):
    layer = keras.layers.SimpleRNN(U.shape[1], return_sequences=True, return_state=True)
    layer.build(x.shape)
    layer.set_weights([U, W, b])
    states, last = layer(x)
    return keras.ops.convert_to_numpy(states), keras.ops.convert_to_numpy(last)''',
    "bptt": '''def rnn_bptt(x, y, s0, U, W, b, V, c):
    s = [s0]
    for t in range(x.shape[1]):
        s.append(np.tanh(x[:, t] @ U + s[-1] @ W + b))
    grads = [np.zeros_like(a) for a in (U, W, b, V, c)]
    for t in range(x.shape[1], 0, -1):
        d_o = 2 * (s[t] @ V + c - y[:, t - 1]) / len(x)
        delta = (d_o @ V.T) * (1 - s[t] ** 2)  # the local term only
        for i, g in enumerate((x[:, t - 1].T @ delta, s[t - 1].T @ delta, delta.sum(0),
                               s[t].T @ d_o, d_o.sum(0))):
            grads[i] = grads[i] + g
    return (*grads, delta @ W.T)''',
}
# every one is a known mistake, right on a few hidden cases at most: it scores 0
SCORES_A = {"cell_step": 0.0, "forward": 0.0, "param_count": 0.0, "readout": 0.0,
            "keras_forward": 0.0, "bptt": 0.0}
MESSAGES_A = {"cell_step": "did you forget it?", "forward": "feed the new state back in",
              "param_count": "features x features", "readout": "output at the first step",
              "keras_forward": "initial_state=s0", "bptt": "only the local term"}

MISTAKES_B = {  # no recurrence / reversed time / no bias count / tanh output / go_backwards /
    # the last step's loss only
    "cell_step": '''def rnn_cell_step(x_t, s_prev, U, W, b):
    return np.tanh(x_t @ U.T + b)''',
    "forward": '''def rnn_forward(x, s0, U, W, b, lengths=None):
    lengths = np.full(len(x), x.shape[1]) if lengths is None else lengths
    s, states = s0, []
    for t in range(x.shape[1]):
        s = np.where((t < lengths)[:, None], np.tanh(x[:, t] @ U + s @ W + b), s)
        states.insert(0, s)
    return np.stack(states, axis=1)''',
    "param_count": '''def rnn_stack_params(features, units, layers, outputs):
    rnn = features * units + (layers - 1) * units * units + layers * units * units
    return rnn + units * outputs + outputs''',
    "readout": '''def rnn_readout(x, s0, U, W, b, V, c):
    s, outs = s0, []
    for t in range(x.shape[1]):
        s = np.tanh(x[:, t] @ U + s @ W + b)
        outs.append(np.tanh(s @ V + c))
    o_all = np.stack(outs, axis=1)
    return o_all, o_all[:, -1]''',
    "keras_forward": '''def keras_rnn_forward(x, s0, U, W, b):
    layer = keras.layers.SimpleRNN(U.shape[1], return_sequences=True, return_state=True,
                                   go_backwards=True)
    layer.build(x.shape)
    layer.set_weights([U, W, b])
    states, last = layer(x, initial_state=s0)
    return keras.ops.convert_to_numpy(states), keras.ops.convert_to_numpy(last)''',
    "bptt": '''def rnn_bptt(x, y, s0, U, W, b, V, c):
    s = [s0]
    for t in range(x.shape[1]):
        s.append(np.tanh(x[:, t] @ U + s[-1] @ W + b))
    d_o = 2 * (s[-1] @ V + c - y[:, -1]) / len(x)  # the last output only
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    delta = (d_o @ V.T) * (1 - s[-1] ** 2)
    for t in range(x.shape[1], 0, -1):
        dU, dW, db = dU + x[:, t - 1].T @ delta, dW + s[t - 1].T @ delta, db + delta.sum(0)
        back = delta @ W.T
        delta = back * (1 - s[t - 1] ** 2)
    return dU, dW, db, s[-1].T @ d_o, d_o.sum(0), back''',
}
SCORES_B = {"cell_step": 0.0, "forward": 0.0, "param_count": 0.0, "readout": 0.0,
            "keras_forward": 0.0, "bptt": 0.0}
MESSAGES_B = {"cell_step": "ignores the previous state", "forward": "reverse time order",
              "param_count": "left out the bias", "readout": "applied tanh",
              "keras_forward": "go_backwards=True", "bptt": "last step's loss only"}

WRONG_ZEROS = {  # plausible shapes, wrong numbers: for the cheating cases
    "cell_step": '''def rnn_cell_step(x_t, s_prev, U, W, b):
    return np.zeros((x_t.shape[0], U.shape[0]))''',
    "forward": '''def rnn_forward(x, s0, U, W, b, lengths=None):
    return np.zeros((x.shape[0], x.shape[1], U.shape[1]))''',
    "param_count": '''def rnn_stack_params(features, units, layers, outputs):
    return 42''',
    "readout": '''def rnn_readout(x, s0, U, W, b, V, c):
    o = np.zeros((x.shape[0], x.shape[1], V.shape[1]))
    return o, o[:, -1]''',
    "keras_forward": '''def keras_rnn_forward(x, s0, U, W, b):
    return np.zeros((x.shape[0], x.shape[1], U.shape[1])), np.zeros_like(s0)''',
    "bptt": '''def rnn_bptt(x, y, s0, U, W, b, V, c):
    return tuple(np.zeros_like(a) for a in (U, W, b, V, c, s0))''',
}

#: a long name with bytes that are not UTF-8 (a zip made on Windows), and how the grader shows it
LONG_NAME = os.fsdecode(b"homework caf\xe9 " + b"x" * 200 + b" final (1).ipynb")


def printable(name: str) -> str:
    from rnnbook.grade.submissions import printable as shown

    return shown(name)


#: the files build() writes, one per case, as the grader names them
CASE_FILES = [
    "solved.ipynb", "blank.ipynb", "partly_right.ipynb", "mistakes_a.ipynb", "mistakes_b.ipynb",
    "homework caf\\xe9 " + "x" * 200 + " final (1).ipynb", "Copy of 02_rnn (3).ipynb",
    "assert_true_checks.ipynb", "monkeypatch.ipynb", "raises.ipynb", "infinite_loop.ipynb",
    "os_exit.ipynb", "segfault.ipynb", "huge_output.ipynb", "memory_hog.ipynb",
    "background_writer.ipynb", "read_solutions.ipynb", "network.ipynb", "02_rnn_corrupt.ipynb",
    "homework.ipynb", "lookup_and_bad_returns.ipynb", "disk_filler.ipynb", "fork_bomb.ipynb",
    "05_regime_sign.ipynb", "08_in_place.ipynb", "01_naive_forecast.ipynb",
    "chapter 1 work 02_rnn.ipynb", "linked_02_rnn.ipynb", "02_rnn_bad_cells.ipynb",
    "02_rnn_deep_json.ipynb", "02_rnn_big_number.ipynb", "=broken 02_rnn.ipynb",
    "@broken 02_rnn.ipynb"]

ALL = list(POINTS)
FULL = {name: float(p) for name, p in POINTS.items()}
ZERO = {name: 0.0 for name in POINTS}


@dataclass
class Case:
    """What grading one corpus notebook must give."""

    about: str
    points: dict  # {exercise: points}; {"": 0} for a notebook graded as a whole
    status: dict  # {exercise: status}
    feedback: dict = field(default_factory=dict)  # {exercise: text the feedback must contain}
    report: list = field(default_factory=list)  # texts the Markdown report must contain
    absent: list = field(default_factory=list)  # texts it must not contain
    chapter: str = "02_rnn"

    @property
    def total(self) -> float:
        return round(sum(self.points.values()), 2)


def _status(passed=(), **others) -> dict:
    out = {name: "passed" for name in passed}
    out.update(others)
    return out


# ---- notebook surgery --------------------------------------------------------------------------

def base() -> nbformat.NotebookNode:
    return nbformat.read(EXERCISE, as_version=4)


def solution(chapter: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "solutions" / f"{chapter}.ipynb", as_version=4)


def replace_function(nb, target: str, source: str) -> nbformat.NotebookNode:
    """The notebook with the cell that defines ``target`` replaced by ``source``."""
    nb = copy.deepcopy(nb)
    cells = [c for c in nb.cells if c.cell_type == "code" and f"def {target}(" in c.source]
    assert len(cells) == 1, f"{len(cells)} cells define {target}"
    cells[0].source = source
    return nb


def _code(source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.id = "corpus-" + hashlib.sha1(source.encode()).hexdigest()[:8]  # deterministic
    return cell


def fill(nb, functions: dict) -> nbformat.NotebookNode:
    """Replace the stub cell of each exercise named in ``functions`` with that source."""
    nb = copy.deepcopy(nb)
    for name, source in functions.items():
        target = TARGETS[name]
        cells = [c for c in nb.cells if c.cell_type == "code" and f"def {target}(" in c.source]
        assert len(cells) == 1, f"{EXERCISE} has {len(cells)} cells defining {target}"
        cells[0].source = source
    return nb


def append(nb, *sources: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells.extend(_code(s) for s in sources)
    return nb


def insert_after_imports(nb, source: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    nb.cells.insert(code[1] + 1, _code(source))
    return nb


def map_checks(nb, fn) -> nbformat.NotebookNode:
    """Apply ``fn(source) -> source or None`` to each check cell (None deletes the cell)."""
    nb = copy.deepcopy(nb)
    cells = []
    for c in nb.cells:
        if c.cell_type == "code" and c.source.lstrip().startswith("check("):
            new = fn(c.source)
            if new is None:
                continue
            c.source = new
        cells.append(c)
    nb.cells = cells
    return nb


def strip_metadata(nb) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.metadata.pop("rnnbook", None)
    return nb


# ---- the corpus --------------------------------------------------------------------------------

def build(folder, grades_path: str, token: str, port: int) -> dict[str, Case]:
    """Write the corpus into ``folder``; return ``{file name: Case}``.

    ``grades_path``: the grades CSV a background process will try to overwrite; ``token``: a
    word in that process's command line, to look for leftovers; ``port``: a TCP port the test
    listens on, on the host's loopback, which the "network" notebook tries to reach.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nb0 = base()
    solved = fill(nb0, RIGHT)
    cases: dict[str, tuple] = {}

    cases["solved.ipynb"] = (solved, Case("every exercise right", FULL, _status(ALL)))
    cases["blank.ipynb"] = (nb0, Case(
        "the student copy, untouched", ZERO, {n: "missing" for n in ALL},
        feedback={n: "not written yet" for n in ALL}))
    partly = fill(nb0, {k: RIGHT[k] for k in ("cell_step", "forward", "param_count")})
    cases["partly_right.ipynb"] = (partly, Case(
        "three exercises right, three untouched",
        {**FULL, "readout": 0.0, "keras_forward": 0.0, "bptt": 0.0},
        _status(["cell_step", "forward", "param_count"], readout="missing",
                keras_forward="missing", bptt="missing")))
    cases["mistakes_a.ipynb"] = (fill(nb0, MISTAKES_A), Case(
        "a realistic mistake in every exercise (set A)", SCORES_A, {n: "failed" for n in ALL},
        feedback=MESSAGES_A))
    cases["mistakes_b.ipynb"] = (fill(nb0, MISTAKES_B), Case(
        "a realistic mistake in every exercise (set B)", SCORES_B, {n: "failed" for n in ALL},
        feedback=MESSAGES_B))

    # the notebook's own checks are never trusted: deleted, or replaced by `assert True`
    renamed = map_checks(solved, lambda src: None)
    cases[LONG_NAME] = (renamed, Case(
        "renamed file with a 230-byte name that is not UTF-8 (chapter from metadata), every "
        "check cell deleted", FULL, _status(ALL)))
    copy_of = strip_metadata(fill(nb0, RIGHT))
    cases["Copy of 02_rnn (3).ipynb"] = (copy_of, Case(
        "Colab copy without the chapter in its metadata: chapter from the file name", FULL,
        _status(ALL), report=["read from its file name"]))
    faked = map_checks(fill(nb0, MISTAKES_A), lambda src: "assert True  # " + src)
    faked = append(faked, 'check = lambda name, fn: print(f"✓ {name}: all cases match")')
    cases["assert_true_checks.ipynb"] = (faked, Case(
        "mistakes with every check replaced by `assert True`", SCORES_A,
        {n: "failed" for n in ALL}))
    monkey = insert_after_imports(fill(nb0, WRONG_ZEROS), '''\
import numpy, rnnbook.checks, rnnbook.checks.core as core
numpy.allclose = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.broadcast(a, b).shape, bool)
core.close = lambda *a, **k: True
core.judge = lambda ex, cases, *a, **k: core.Verdict(ex.name, len(cases), len(cases), [])
rnnbook.checks.check = lambda *a, **k: print("✓ all cases match the reference.")
check = rnnbook.checks.check''')
    cases["monkeypatch.ipynb"] = (monkey, Case(
        "wrong answers; np.allclose, the judge and check() monkeypatched in the notebook",
        ZERO, {n: "failed" for n in ALL}))

    # exceptions, hangs, crashes
    raises = fill(nb0, {**RIGHT,
                        "cell_step": 'raise ValueError("I was not sure about this one")\n'
                                     + RIGHT["cell_step"],
                        "readout": '''def rnn_readout(x, s0, U, W, b, V, c):
    states = [x[:, x.shape[1]]]  # off by one: IndexError
    return states, states'''})
    raises = append(raises, "1 / 0  # a cell that raises after everything is defined")
    cases["raises.ipynb"] = (raises, Case(
        "a cell raises before its def; a function raises; a later cell raises",
        {**FULL, "cell_step": 0.0, "readout": 0.0},
        _status(["forward", "param_count", "keras_forward", "bptt"], cell_step="missing",
                readout="error"),
        feedback={"cell_step": "not defined", "readout": "IndexError"},
        report=["ValueError: I was not sure", "ZeroDivisionError"]))
    hang = fill(nb0, {**RIGHT, "forward": '''def rnn_forward(x, s0, U, W, b, lengths=None):
    t, s, states = 0, s0, []
    while t < x.shape[1]:  # forgot t += 1
        s = np.tanh(x[:, t] @ U + s @ W + b)
    states.append(s)
    return np.stack(states, axis=1)'''})
    hang = append(hang, "import time\nwhile True:  # waits forever\n    time.sleep(0.5)")
    cases["infinite_loop.ipynb"] = (hang, Case(
        "an endless loop in a function and a cell that never ends",
        {**FULL, "forward": 0.0}, _status(["cell_step", "param_count", "readout", "keras_forward",
                                           "bptt"], forward="timeout"),
        feedback={"forward": "ran longer than"}, report=["CellTimeout"]))
    cases["os_exit.ipynb"] = (append(solved, "import os\nos._exit(0)"), Case(
        "everything right, then os._exit(0) kills the kernel", ZERO, {n: "error" for n in ALL},
        feedback={n: "os._exit()" for n in ALL}))
    cases["segfault.ipynb"] = (append(solved, "import ctypes\nctypes.string_at(0)"), Case(
        "everything right, then a segmentation fault", ZERO, {n: "error" for n in ALL},
        feedback={n: "SIGSEGV" for n in ALL}))
    cases["huge_output.ipynb"] = (append(
        solved, 'print("spam " * 20_000_000)\nimport os, sys\n'
                'sys.__stdout__.write("x" * 50_000_000)\n'
                'for _ in range(200):\n    os.write(1, b"y" * 1_000_000)'), Case(
        "everything right, then 250 MB of output", FULL, _status(ALL)))
    cases["memory_hog.ipynb"] = (append(solved, "big = np.ones((60_000, 60_000))  # 28 GB"), Case(
        "everything right, then a 28 GB array", FULL, _status(ALL), report=["MemoryError"]))

    # attacks on the grader: the functions are right only if the attack worked
    right_src = "\n\n".join(RIGHT.values())
    cases["background_writer.ipynb"] = (append(solved, f'''\
import subprocess, sys
code = """
import os, sys, time
for _ in range(100):
    for path in [{grades_path!r}, "grades.csv", "../grades.csv"]:
        try:
            with open(path, "w") as f:
                f.write("submission,chapter,exercise,points,max_points,status,"
                        "feedback\\\\nHACKED\\\\n")
        except OSError:
            pass
    time.sleep(0.1)
"""
subprocess.Popen([sys.executable, "-c", code, {token!r}], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)'''), Case(
        "everything right; leaves a process that tries to overwrite the grades file", FULL,
        _status(ALL)))
    secret = ROOT / "solutions"
    cases["read_solutions.ipynb"] = (insert_after_imports(nb0, f'''\
import glob, os
seen = []
# every folder down to 6 levels, so that the search ends well inside the cell limit
for pattern in ([{str(secret / "keys" / "*.npz")!r}, {str(secret / "*.ipynb")!r},
                 "../solutions/keys/*.npz", "/opt/rnnbook/../solutions/keys/*.npz"]
                + ["/" + "*/" * depth + "solutions/keys/*.npz" for depth in range(6)]):
    for path in glob.glob(pattern)[:5]:
        try:
            seen.append(open(path, "rb").read(10))
        except OSError:
            pass
if seen:  # the hidden answers were readable: cheat with the right code
    exec({right_src!r})
print("read", len(seen), "solution files")'''), Case(
        "tries to read solutions/ (right only if it could)", ZERO, {n: "missing" for n in ALL},
        absent=["CellTimeout"]))  # the search finished: it found nothing, it wasn't cut short
    cases["network.ipynb"] = (insert_after_imports(nb0, f'''\
import socket
reached = []
for host, port in [("127.0.0.1", {port}), ("192.0.2.1", 80), ("pypi.org", 443)]:
    try:
        socket.create_connection((host, port), timeout=2).close()
        reached.append(host)
    except OSError:
        pass
if reached:  # the network was there: fetch the answers (here: define them)
    exec({right_src!r})
print("reached", reached)'''), Case(
        "opens network sockets (right only if one connects)", ZERO, {n: "missing" for n in ALL}))

    # files that are not gradable notebooks
    (folder / "02_rnn_corrupt.ipynb").write_text(
        nbformat.writes(solved)[:300] + "\n", encoding="utf-8")
    expected = {"02_rnn_corrupt.ipynb": Case(
        "invalid JSON (chapter from the file name)", ZERO, {n: "unreadable" for n in ALL},
        feedback={n: "not valid notebook JSON" for n in ALL})}
    expected["homework.ipynb"] = Case(
        "no chapter in metadata nor in the file name", {"": 0.0}, {"": "error"},
        feedback={"": "--chapter"}, chapter="")
    nbformat.write(strip_metadata(solved), folder / "homework.ipynb")

    cases.update(more_cases(nb0, solved))
    for name, (nb, case) in cases.items():
        nbformat.write(nb, folder / name)
        expected[name] = case
    # a BOM before the JSON (some Windows editors write one): graded as usual
    bom = folder / "Copy of 02_rnn (3).ipynb"
    bom.write_bytes(b"\xef\xbb\xbf" + bom.read_bytes())
    expected.update(files_never_run(folder))
    return {printable(name): case for name, case in expected.items()}


def build_forced(folder) -> dict[str, Case]:
    """Cases graded with ``--chapter 02_rnn``, a short ``--timeout`` and ``--memory-mb 1024``: a
    notebook of another chapter, an endless loop that swallows the per-cell alarm (only the
    wall-clock timeout, which kills the whole sandbox, stops it), and processes whose memory is
    too much only together."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nb0 = base()
    other = copy.deepcopy(fill(nb0, RIGHT))
    other.metadata["rnnbook"]["chapter"] = "03_bidirectional_rnn"
    nbformat.write(other, folder / "02_rnn_really_03.ipynb")
    stubborn = copy.deepcopy(nb0)
    code = [c for c in stubborn.cells if c.cell_type == "code"]
    code[0].source = ('import time\nwhile True:  # an endless loop that swallows every exception\n'
                      '    try:\n        time.sleep(1)\n    except BaseException:\n        pass')
    nbformat.write(stubborn, folder / "unstoppable.ipynb")
    hog = copy.deepcopy(nb0)
    code = [c for c in hog.cells if c.cell_type == "code"]
    code[1].source = MEMORY_TOGETHER
    nbformat.write(hog, folder / "memory_together.ipynb")
    return {
        "memory_together.ipynb": Case(
            "three processes whose memory is under the limit each, over it together", ZERO,
            {n: "error" for n in ALL}, feedback={n: "all its processes together" for n in ALL}),
        "02_rnn_really_03.ipynb": Case(
            "a notebook from chapter 3 handed in for chapter 2", ZERO, {n: "error" for n in ALL},
            feedback={n: "from chapter 03_bidirectional_rnn" for n in ALL}),
        "unstoppable.ipynb": Case(
            "an endless loop that catches the per-cell timeout", ZERO, {n: "timeout" for n in ALL},
            feedback={n: "ran longer than" for n in ALL}),
    }


# ---- cases for the known attacks and mistakes of graders ----------------------------------------

# Looks the visible answers up in the package (they ship with it): passes every in-notebook
# check, and would have earned the hidden cases too had they repeated the visible inputs.
LOOKUP = '''from rnnbook.checks import visible

STORE = visible("02_rnn")


def lookup(exercise, *args):
    for case, inputs in STORE[exercise].inputs.items():
        if len(inputs) == len(args) and all(
                np.shape(a) == np.shape(b) and np.allclose(a, b) for a, b in zip(inputs, args)):
            out = STORE[exercise].expected[case]
            return out if len(out) > 1 else out[0]
    return np.zeros(1)  # an input it has never seen: nothing to copy'''

LOOKED_UP = {
    "cell_step": '''def rnn_cell_step(x_t, s_prev, U, W, b):
    return lookup("cell_step", x_t, s_prev, U, W, b)''',
    "readout": '''def rnn_readout(x, s0, U, W, b, V, c):
    return lookup("readout", x, s0, U, W, b, V, c)''',
    "keras_forward": '''def keras_rnn_forward(x, s0, U, W, b):
    return lookup("keras_forward", x, s0, U, W, b)''',
    "bptt": '''def rnn_bptt(x, y, s0, U, W, b, V, c):
    return lookup("bptt", x, y, s0, U, W, b, V, c)''',
}

BAD_RETURNS = {
    "param_count": '''def rnn_stack_params(features, units, layers, outputs):
    return complex(features * units + layers * (units * units + units))''',
    "forward": '''def rnn_forward(x, s0, U, W, b, lengths=None):
    return "not done yet"''',
}

FILL_DISK = '''import os
os.makedirs("fill", exist_ok=True)
for i in range(10_000):  # until the disk is full: No space left on device
    with open(f"fill/{i}", "wb") as f:
        f.write(b"x" * 2**20)'''

DEEP_TREE = '''import os
for _ in range(3000):  # a 3,000-deep directory tree, left behind
    os.mkdir("d")
    os.chdir("d")'''

# (children that exec a small program: forking the notebook's own 700 MB process 600 times
# would cost the test machine far more than the grader)
FORK_BOMB = '''import subprocess
children = [subprocess.Popen(["sleep", "120"]) for _ in range(600)]'''

MEMORY_TOGETHER = '''import os, time
import numpy as np
for _ in range(3):  # three children of 512 MB each: under the limit one by one, not together
    if os.fork() == 0:
        blocks = []
        for _ in range(8):  # 64 MB at a time
            blocks.append(np.ones(2**23))
            time.sleep(0.1)
        time.sleep(60)
        os._exit(0)
time.sleep(60)'''

REGIME_SIGN = '''def gradient_regime(Ws, beta_phi):
    gamma = np.array([np.linalg.norm(W, 2) for W in Ws]) * beta_phi
    return np.sign(gamma - 1).astype(int)'''

IN_PLACE = '''def set_update_gate(bias, z_value):
    units = bias.shape[-1] // 3
    value = np.log(z_value / (1 - z_value))
    if bias.ndim == 2:
        bias[0, :units], bias[1, :units] = value, 0.0
    else:
        bias[:units] = value
    return bias  # the right values, but in the argument itself'''

NAIVE = '''def train_and_forecast(X_train, y_train, X_new):
    return X_new[:, -1]  # the last value of each window'''

CH01 = ("windows", "split", "baseline_mae", "standardise", "permutation", "beat_naive")


def more_cases(nb0, solved) -> dict:
    """Notebooks the grader runs: ``{file name: (notebook, Case)}``."""
    cases = {}
    cheat = insert_after_imports(fill(nb0, {**RIGHT, **BAD_RETURNS, **LOOKED_UP}), LOOKUP)
    cases["lookup_and_bad_returns.ipynb"] = (cheat, Case(
        "looks the visible answers up (passes every in-notebook check); returns complex numbers "
        "and a string", ZERO,
        {"cell_step": "failed", "forward": "error", "param_count": "error", "readout": "failed",
         "keras_forward": "failed", "bptt": "failed"},
        feedback={"param_count": "complex numbers", "forward": "text (a string)"}))
    cases["disk_filler.ipynb"] = (append(solved, FILL_DISK, DEEP_TREE), Case(
        "everything right; fills its disk, then leaves a 3,000-deep directory tree", FULL,
        _status(ALL), report=["No space left on device"]))
    cases["fork_bomb.ipynb"] = (append(solved, FORK_BOMB), Case(
        "everything right, then 600 child processes that sleep", ZERO, {n: "error" for n in ALL},
        feedback={n: "processes and threads" for n in ALL}))
    cases["05_regime_sign.ipynb"] = (replace_function(
        solution("05_gradient_problem"), "gradient_regime", REGIME_SIGN), Case(
        "chapter 5 solved, but np.sign(gamma - 1) ignores the 1e-4 edge",
        {"bound": 2.0, "gradient_at_lag": 3.0, "regime": 0.0, "rescale": 1.0, "clip": 2.0},
        _status(["bound", "gradient_at_lag", "rescale", "clip"], regime="failed"),
        feedback={"regime": "within 1e-4 of 1"}, chapter="05_gradient_problem"))
    cases["08_in_place.ipynb"] = (replace_function(solution("08_gru"), "set_update_gate",
                                                   IN_PLACE), Case(
        "chapter 8 solved, but set_update_gate changes its argument in place",
        {"from_pytorch": 2.0, "step_backward": 3.0, "masked_sequences": 2.0,
         "param_count": 1.0, "update_bias": 0.0, "recall": 2.0},
        _status(["from_pytorch", "step_backward", "masked_sequences", "param_count", "recall"],
                update_bias="error"),
        feedback={"update_bias": "changed its argument `bias` in place"}, chapter="08_gru"))
    cases["01_naive_forecast.ipynb"] = (replace_function(
        solution("01_time_series"), "train_and_forecast", NAIVE), Case(
        "chapter 1 solved, but the training exercise returns the naive forecast itself",
        {**{n: float(p) for n, p in zip(CH01, (2, 2, 1, 2, 2))}, "beat_naive": 0.0},
        _status(CH01[:5], beat_naive="failed"),
        feedback={"beat_naive": "the naive forecast itself"}, chapter="01_time_series"))
    return cases


def files_never_run(folder: Path) -> dict:
    """Files the grader reads but never runs: ``{file name: Case}``."""
    expected = {}
    nbformat.write(nbformat.read(ROOT / "exercises" / "01_time_series.ipynb", as_version=4),
                   folder / "chapter 1 work 02_rnn.ipynb")
    expected["chapter 1 work 02_rnn.ipynb"] = Case(
        "chapter 1 work named as chapter 2: the metadata and the file name disagree",
        {n: 0.0 for n in CH01}, {n: "error" for n in CH01},
        feedback={"windows": "the file name says chapter 02_rnn"}, chapter="01_time_series")
    os.symlink(ROOT / "solutions" / "02_rnn.ipynb", folder / "linked_02_rnn.ipynb")
    expected["linked_02_rnn.ipynb"] = Case(
        "a symbolic link to the solution (it would score 12/12 if followed)", ZERO,
        {n: "unreadable" for n in ALL}, feedback={n: "symbolic link" for n in ALL})
    (folder / "02_rnn_bad_cells.ipynb").write_text(json.dumps(
        {"cells": [{"cell_type": "code", "source": {"not": "text"}}], "metadata": {}}))
    expected["02_rnn_bad_cells.ipynb"] = Case(
        "a cell whose source is not text", ZERO, {n: "unreadable" for n in ALL},
        feedback={n: "malformed" for n in ALL})
    (folder / "02_rnn_deep_json.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    expected["02_rnn_deep_json.ipynb"] = Case(
        "JSON nested 100,000 deep", ZERO, {n: "unreadable" for n in ALL},
        feedback={n: "nested too deeply" for n in ALL})
    (folder / "02_rnn_big_number.ipynb").write_text('{"cells": [], "n": ' + "7" * 5000 + "}")
    expected["02_rnn_big_number.ipynb"] = Case(
        "a 5,000-digit number", ZERO, {n: "unreadable" for n in ALL},
        feedback={n: "cannot be read as a notebook" for n in ALL})
    for name in ("=broken 02_rnn.ipynb", "@broken 02_rnn.ipynb"):
        (folder / name).write_text('{"cells": [')
        expected[name] = Case("a name that starts a spreadsheet formula, and invalid JSON", ZERO,
                              {n: "unreadable" for n in ALL},
                              feedback={n: "not valid notebook JSON" for n in ALL})
    return expected


# ---- warm workers: what one child could leave for the next ------------------------------------

# Leaves everything it can in the worker's sandbox: files in every writable place, System V IPC
# objects, a POSIX message queue, a key in the user's keyring, a background process, changed
# modules, and files beside the package and the Python installation (read-only: these fail).
LEAVER = """import builtins, ctypes, ctypes.util, os, subprocess, sys
import numpy, keras, rnnbook, rnnbook.checks
for path in ["/tmp/leaked.txt", "/dev/shm/leaked.txt", os.path.expanduser("~/leaked.txt"),
             "leaked.txt", "/tmp/leaked_marker.py"]:
    with open(path, "w") as f:
        f.write("LEAKED = True")
libc = ctypes.CDLL(None, use_errno=True)
libc.shmget(0x5EC12E7, 4096, 0o1000 | 0o666)
libc.msgget(0x5EC12E7, 0o1000 | 0o666)
libc.semget(0x5EC12E7, 1, 0o1000 | 0o666)
rt = ctypes.CDLL(ctypes.util.find_library("rt"), use_errno=True)
rt.mq_open(b"/leaked", os.O_CREAT | os.O_RDWR, 0o666, None)
libc.syscall(248, b"user", b"leaked", b"x", 1, -4)  # add_key to the user keyring
for target in [rnnbook.__file__, numpy.__file__, os.path.join(os.path.dirname(
        rnnbook.__file__), "leaked_marker.py")] + [os.path.join(d, "leaked_marker.py")
                                                  for d in sys.path if d]:
    try:
        with open(target, "a") as f:
            f.write("\\nLEAKED = True\\n")
    except OSError:
        pass
numpy.LEAKED = keras.LEAKED = rnnbook.checks.LEAKED = builtins.LEAKED = True
numpy.allclose = lambda *a, **k: True
os.environ["LEAKED"] = "1"
sys.path.insert(0, "/tmp")
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", {token!r}],
                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)"""

# Looks for anything a previous child left; defines the right answers only if it finds some.
FINDER = """import builtins, ctypes, ctypes.util, glob, os, sys
import numpy, keras, rnnbook, rnnbook.checks
found = [p for p in ["/tmp/leaked.txt", "/dev/shm/leaked.txt", "leaked.txt",
                     os.path.expanduser("~/leaked.txt"), "/tmp/leaked_marker.py"]
         if os.path.exists(p)]
own = {{"ipython", "matplotlib", "keras", "cache"}}  # this child's own caches
found += [p for p in glob.glob("/tmp/*") + glob.glob("/dev/shm/*")
          + glob.glob(os.path.expanduser("~/*")) if os.path.basename(p) not in own]
libc = ctypes.CDLL(None, use_errno=True)
if libc.shmget(0x5EC12E7, 0, 0) >= 0 or libc.msgget(0x5EC12E7, 0) >= 0 \\
        or libc.semget(0x5EC12E7, 0, 0) >= 0:
    found.append("sysv ipc")
for kind in ("shm", "sem", "msg"):
    if open(f"/proc/sysvipc/{{kind}}").read().count("\\n") > 1:
        found.append(kind)
rt = ctypes.CDLL(ctypes.util.find_library("rt"), use_errno=True)
if rt.mq_open(b"/leaked", os.O_RDWR, 0, None) >= 0:
    found.append("mqueue")
if libc.syscall(250, 10, -4, b"user", b"leaked", 0) >= 0:  # keyctl search
    found.append("key")
for pid in os.listdir("/proc"):
    try:
        if {token!r}.encode() in open(f"/proc/{{pid}}/cmdline", "rb").read():
            found.append(f"process {{pid}}")
    except OSError:
        pass
for module in (numpy, keras, rnnbook.checks, builtins):
    if hasattr(module, "LEAKED"):
        found.append(module.__name__)
if "LEAKED" in os.environ or "/tmp" in sys.path or numpy.allclose(0, 1):
    found.append("environment")
for path in [rnnbook.__file__, numpy.__file__]:
    if "LEAKED" in open(path).read():
        found.append(path)
try:
    import leaked_marker  # noqa: F401
    found.append("leaked_marker")
except ImportError:
    pass
print("found", found)
if found:  # something of the last student was still there: cheat with the right code
    exec({right!r})"""

KILLER = """import os, signal
os.kill(os.getppid(), signal.SIGKILL)  # a warm worker is this process's parent"""


def build_warm(folder, token: str) -> dict[str, Case]:
    """Cases for warm workers, graded in this order by ONE worker (``--jobs 1``): a child that
    leaves files, IPC objects, a key, a process and changed modules; one that looks for them; one
    that kills its worker; one that looks again (in the worker that replaced it)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nb0 = base()
    solved = fill(nb0, RIGHT)
    finder = insert_after_imports(nb0, FINDER.format(token=token,
                                                     right="\n\n".join(RIGHT.values())))
    notebooks = {
        "w1_leaver.ipynb": (append(solved, LEAVER.format(token=token)), Case(
            "everything right; leaves files, IPC objects, a key, a process and changed modules",
            FULL, _status(ALL))),
        "w2_finder.ipynb": (finder, Case(
            "looks for what the last child left (right only if it finds something)", ZERO,
            {n: "missing" for n in ALL})),
        "w3_killer.ipynb": (append(solved, KILLER), Case(
            "everything right, then kills its parent (a warm worker): graded again, cold", FULL,
            _status(ALL))),
        "w4_finder.ipynb": (finder, Case(
            "looks again, in the worker that replaced the killed one", ZERO,
            {n: "missing" for n in ALL})),
    }
    for name, (nb, _) in notebooks.items():
        nbformat.write(nb, folder / name)
    return {name: case for name, (_, case) in notebooks.items()}


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "grading_corpus_out")
    made = build(out, grades_path=str(out / "grades.csv"), token="rnnbook-corpus-demo", port=9)
    made.update(build_forced(out / "forced"))
    for name, case in made.items():
        print(f"{case.total:5.2f}  {name}: {case.about}")
