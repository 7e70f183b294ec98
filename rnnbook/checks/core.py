"""What an exercise is, and how a student's function is run on its cases -- written once.

An exercise's **spec** lives in ``rnnbook/checks/chNN.py``: its name, the function a student
writes, its points, how its cases are drawn, the names of its arguments and outputs, and the
messages of its known mistakes. Two kinds:

- :class:`Exercise` -- the student's function is compared with the reference outputs, which
  :mod:`rnnbook.checks.build` stores by running ``solutions/``;
- :class:`TrainingExercise` -- the student's function trains a model and returns predictions for
  inputs it is given; it is judged on a *property* of the predictions (a metric below a
  threshold), computed by the judge, never by the student's code.

:func:`run_case` / :func:`run_cases` call a student's function on cases. Everything that runs
student (or solution, or mistake) code goes through them: the in-notebook checks, the grader's
runner inside its sandbox, and the key build. They copy the inputs (and name an argument the
function changed in place), turn Python scalars back into Python scalars, check that the outputs
are numbers, and turn an exception into a :class:`CaseError` that says where it happened.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import random
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: bump when the meaning of stored cases changes (how they are drawn, passed or stored): every
#: key then reads as stale until it is rebuilt
KEY_FORMAT = 3
#: the seed of the visible cases (the hidden ones come from a seed that only the key build knows)
VISIBLE_SEED = 0
NUMERIC_KINDS = set("biuf")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


class CallTimeout(Exception):
    """Raised (by a guard) inside a call that ran past its time limit."""


@dataclass
class Exercise:
    """One auto-graded exercise: a function compared with the reference outputs.

    ``cases(rng)`` returns ``{case_name: args}``, a tuple of NumPy arrays per case. Draw every
    value from ``rng`` (shapes may be fixed: spell out the edge cases -- a batch of 1, one time
    step, a zero state): the build draws the visible cases from :data:`VISIBLE_SEED` and the
    hidden ones from a secret seed, and refuses a hidden case equal to a visible one.

    A 0-d array reaches the student's function as a Python ``int``, ``float``, ``bool`` or
    ``str``; ``call(fn, args)`` replaces the plain ``fn(*args)`` when the function takes
    something else (a list of layers, ``None``). ``args`` and ``outputs`` name the arguments and
    outputs in messages ("the second output, `o_last`"). ``mistakes`` maps the key of a known
    mistake (written in ``solutions/mistakes/NN_topic.py``) to the message shown when it explains
    the student's outputs. ``diagnose(args, got, expected)`` may name a problem from one case's
    output alone; it must not quote numbers (it also runs on the hidden cases). ``dtypes``, when
    given, are the dtypes the outputs must have (a rule the exercise states, e.g. float32).
    """

    name: str
    target: str
    cases: Callable[[np.random.Generator], dict]
    points: float = 1
    #: the grader's cases, when they must come from elsewhere than the visible ones (e.g. a
    #: training exercise whose visible data ships with the package): ``hidden_cases(rng)``
    hidden_cases: Callable[[np.random.Generator], dict] | None = None
    args: tuple = ()
    outputs: tuple = ()
    mistakes: dict = field(default_factory=dict)
    call: Callable | None = None
    diagnose: Callable | None = None
    rtol: float = 1e-4
    atol: float = 1e-5
    dtypes: tuple | None = None
    time_limit: float | None = None  # seconds per call; None: the runner's default
    #: the largest share of hidden cases on which a known mistake (or an all-zero answer) may be
    #: right; raise it only for a mistake that by nature touches part of the inputs (a mistake
    #: that explains the outputs scores 0 whatever its share)
    max_mistake_share: float = 0.25
    what: str = ""  # a short description of the output

    kind = "function"

    def _cases(self, rng, hidden: bool) -> dict:
        make = self.hidden_cases if hidden and self.hidden_cases is not None else self.cases
        return dict(make(rng))

    def draw(self, rng: np.random.Generator, hidden: bool = False) -> tuple[dict, dict | None]:
        """``(inputs, truth)``: the cases' arguments, and for a training exercise the targets
        (``None`` here: the truth is the solution's output, stored by the build)."""
        return self._cases(rng, hidden), None

    def invoke(self, fn, args: list):
        """Call the student's function on one case's (copied) arguments."""
        if self.call is not None:
            return self.call(fn, args)
        return fn(*[as_python(a) for a in args])

    def arg_name(self, i: int) -> str:
        return f"`{self.args[i]}`" if i < len(self.args) else f"argument {i + 1}"

    def output_label(self, i: int, n: int) -> str:
        """"the output" / "the second output, `o_last`," (to go before a verb). An output name
        that starts with "the " is a phrase used as it is ("the shape for merge_mode None")."""
        if i < len(self.outputs) and self.outputs[i].startswith("the "):
            return self.outputs[i]
        name = f", `{self.outputs[i]}`," if i < len(self.outputs) else ""
        if n == 1:
            return f"the output{name}"
        ordinal = ORDINALS[i] if i < len(ORDINALS) else f"number {i + 1}"
        return f"the {ordinal} output{name}"


@dataclass
class TrainingExercise(Exercise):
    """An exercise graded on a property of its result (see the README's authoring section).

    The student's function trains a model on data it is given and returns predictions for
    inputs it is given (never their targets). ``cases(rng)`` returns ``{case: (args, targets)}``.
    ``metric(args, predictions, targets)`` is a float (lower is better); a case passes when it is
    below ``threshold``. It runs in the judge -- the grader's own process on the hidden cases --
    never in the student's. ``metric_text`` describes it in a message ("your MAE is 0.62 x the
    naive forecast's"), ``format_metric`` formats a value. ``diagnose(args, predictions,
    targets)`` names a known mistake from the predictions (no numbers in its message).

    The build runs the solution with ``seeds`` seeds on every case and refuses a threshold that
    the solution misses or passes with less than ``margin`` (relative) to spare.
    """

    metric: Callable | None = None
    threshold: float = 0.0
    metric_text: str = "your metric"
    metric_name: str = "metric"  # short, for the one line a passing check prints
    unit: str = ""
    seeds: int = 5
    margin: float = 0.1

    kind = "training"

    def draw(self, rng: np.random.Generator, hidden: bool = False) -> tuple[dict, dict]:
        inputs, truth = {}, {}
        for case, (args, targets) in self._cases(rng, hidden).items():
            inputs[case] = tuple(args)
            truth[case] = tuple(t for t in (targets if isinstance(targets, tuple) else (targets,)))
        return inputs, truth

    def format_metric(self, value: float) -> str:
        return f"{value:.2f}{self.unit}"


def as_python(a):
    """A 0-d array as the Python scalar it stands for; anything else unchanged."""
    if isinstance(a, np.ndarray) and a.ndim == 0 or isinstance(a, np.generic):
        return a.item()
    return a


# ---- a case's outcome ------------------------------------------------------------------------

@dataclass
class CaseError:
    """A case that produced no output: ``kind`` is ``raised``, ``output`` (not numbers),
    ``mutated``, ``timeout``, ``not_implemented`` (``helper`` names the unwritten function it
    called, ``None`` for the function itself) or ``missing``. ``message`` is for the student; it
    quotes the student's own code and exception, never a reference value."""

    kind: str
    message: str
    helper: str | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind, "message": self.message, "helper": self.helper}

    @classmethod
    def from_json(cls, data) -> CaseError:
        if isinstance(data, dict):
            helper = data.get("helper")
            return cls(str(data.get("kind", "raised"))[:40], str(data.get("message", ""))[:2000],
                       helper if isinstance(helper, str) else None)
        return cls("raised", str(data)[:2000])


class OutputError(ValueError):
    """The function's return value is not numbers (a string, complex numbers, None...)."""


def as_outputs(out) -> tuple:
    """An output (array, tensor, number, or a tuple/list of them) as a tuple of numeric arrays;
    :class:`OutputError` with a message for the student otherwise."""
    if out is None:
        raise OutputError("your function returned None: did you forget the `return` statement?")
    if isinstance(out, (tuple, list)) and not _is_numeric_list(out):
        items = out
    else:
        items = (out,)
    arrays = []
    for item in items:
        if item is None:
            raise OutputError("one of the values your function returned is None: return arrays "
                              "or numbers")
        if hasattr(item, "numpy") and not isinstance(item, np.ndarray):
            try:
                item = item.numpy()
            except Exception as err:  # noqa: BLE001 -- a symbolic tensor, say
                raise OutputError(f"your function returned a {type(item).__name__} that cannot "
                                  f"be turned into numbers ({type(err).__name__})") from None
        try:
            arr = np.asarray(item)
        except Exception as err:  # noqa: BLE001 -- ragged lists and the like
            raise OutputError(f"your function returned something that is not an array of numbers "
                              f"({type(err).__name__}: {str(err)[:200]})") from None
        kind = arr.dtype.kind
        if kind == "c":
            raise OutputError("your function returned complex numbers: the result must be real "
                              "(eigenvalues are complex -- did you forget np.abs, or mean the "
                              "singular values?)")
        if kind in "US":
            raise OutputError("your function returned text (a string), not numbers")
        if kind not in NUMERIC_KINDS or arr.dtype.fields:
            raise OutputError(f"your function returned {type(item).__name__} values that are not "
                              "numbers (an object array, None, or arrays of different shapes?)")
        arrays.append(arr)
    return tuple(arrays)


def _is_numeric_list(seq) -> bool:
    return len(seq) > 0 and all(isinstance(v, (bool, int, float, np.number, np.bool_))
                                for v in seq)


# ---- where in the student's code ------------------------------------------------------------

def _library_roots() -> tuple[str, ...]:
    package_parent = str(Path(__file__).resolve().parents[1])
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, package_parent}
    try:
        import site
        roots.update(site.getsitepackages())
    except Exception:  # noqa: BLE001 -- some embedded interpreters have no site
        pass
    return tuple(sorted(os.path.join(os.path.realpath(r), "") for r in roots if r))


_LIBRARY_ROOTS: tuple[str, ...] | None = None


def is_student_file(filename: str) -> bool:
    """True for code the student wrote: a notebook cell or their own file, not a library's."""
    global _LIBRARY_ROOTS
    if _LIBRARY_ROOTS is None:
        _LIBRARY_ROOTS = _library_roots()
    if not filename or filename.startswith("<frozen") or filename == "<string>":
        return False
    real = os.path.realpath(filename) if os.path.isabs(filename) else filename
    return not any(real.startswith(root) for root in _LIBRARY_ROOTS)


def student_frames(tb) -> list:
    return [f for f in traceback.extract_tb(tb) if is_student_file(f.filename)]


def where(tb) -> str:
    """ "in `rnn_cell_step`, line 3 of its cell: `return x @ U`" for the student's last frame."""
    frames = student_frames(tb)
    if not frames:
        return ""
    f = frames[-1]
    line = (f.line or linecache.getline(f.filename, f.lineno) or "").strip()
    code = f": `{line[:120]}`" if line else ""
    return f" (in `{f.name}`, line {f.lineno} of its cell{code})"


def raised_message(err: BaseException) -> str:
    text = " ".join(str(err).split())[:300]
    return f"your function raised {type(err).__name__}: {text}{where(err.__traceback__)}"


def _not_implemented(err: NotImplementedError, fn, target: str) -> CaseError | None:
    """The stub itself, a stub it calls, or ``None`` (a library raised it: an ordinary error)."""
    frames = traceback.extract_tb(err.__traceback__)
    if not frames or not is_student_file(frames[-1].filename):
        return None
    code = getattr(fn, "__code__", None)
    last = frames[-1]
    own = code is not None and last.name == code.co_name and last.filename == code.co_filename
    if own or last.name in ("<module>",):
        return CaseError("not_implemented", f"`{target}` is not written yet: it still raises "
                         "NotImplementedError. Replace the `raise NotImplementedError(...)` line "
                         "with your code.")
    helper = last.name
    return CaseError(
        "not_implemented",
        f"your `{target}` calls `{helper}`, which is not written yet (it still raises "
        f"NotImplementedError). Write `{helper}` first: your `{target}` itself may well be "
        "right.", helper=helper)


# ---- running a function on cases -------------------------------------------------------------

def seed_everything(seed: int) -> None:
    """Seed Python, NumPy's global generator and, when it is loaded, Keras (and TensorFlow)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    keras = sys.modules.get("keras")
    if keras is not None:
        try:
            keras.utils.set_random_seed(seed)
        except Exception:  # noqa: BLE001 -- a half-imported or monkeypatched keras
            pass


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def run_case(ex: Exercise, fn, args, guard: Callable | None = None, seed: int | None = None):
    """Run ``fn`` on one case: a tuple of numeric arrays, or a :class:`CaseError`.

    ``guard()`` is a context manager around the call (the runner's time limit and output sinks);
    it raises :class:`CallTimeout` when time runs out. ``seed`` seeds everything first (training
    exercises). The student's function gets copies of the arguments; one it changed in place is
    an error for this case, even when the output is right.
    """
    work = [np.array(a, copy=True) for a in args]
    try:
        with (guard() if guard else contextlib.nullcontext()):
            if seed is not None:
                seed_everything(seed)
            out = ex.invoke(fn, work)
            result = as_outputs(out)
    except NotImplementedError as err:
        stub = _not_implemented(err, fn, ex.target)
        result = stub if stub is not None else CaseError("raised", raised_message(err))
    except OutputError as err:
        result = CaseError("output", str(err))
    except CallTimeout as err:
        return CaseError("timeout", f"your function was stopped: {err}")
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # noqa: BLE001 -- anything a student's code raises, exit() too
        result = CaseError("raised", raised_message(err))
    changed = [i for i, (a, w) in enumerate(zip(args, work)) if not _same(a, w)]
    if changed and not (isinstance(result, CaseError) and result.kind == "not_implemented"):
        names = ", ".join(ex.arg_name(i) for i in changed)
        return CaseError("mutated", f"your function changed its argument {names} in place. It "
                         "must leave its inputs as they were and return new arrays: copy first "
                         "(`x = x.copy()`) or build the result without assigning into an input.")
    return result


def run_cases(ex: Exercise, fn, cases: dict, guard: Callable | None = None,
              seeds: dict | None = None, on_case: Callable | None = None) -> dict:
    """:func:`run_case` on every case: ``{case: tuple of arrays | CaseError}``.

    After a case that timed out, the exercise's other cases are not run (they would most likely
    time out too): each gets a ``timeout`` error. ``on_case(case)`` is called before each case.
    """
    outputs: dict = {}
    timed_out = False
    for case, args in cases.items():
        if timed_out:
            outputs[case] = CaseError("timeout", "not run: an earlier case ran out of time")
            continue
        if on_case is not None:
            on_case(case)
        seed = (seeds or {}).get(case)
        if seed is None and ex.kind == "training":
            seed = 0
        outputs[case] = run_case(ex, fn, args, guard, seed)
        timed_out = isinstance(outputs[case], CaseError) and outputs[case].kind == "timeout"
    return outputs


def describe_case(name: str, args) -> str:
    shapes = ", ".join(str(tuple(np.shape(a))) for a in args)
    return f"case '{name}' (argument shapes {shapes})"


def close(got: tuple, expected: tuple, rtol: float, atol: float, equal_nan: bool = False) -> bool:
    """Same number of outputs, same shapes, values within the tolerances (no NaN, unless
    ``equal_nan``: then NaN matches NaN, as when an output is compared with a mistake's)."""
    if not isinstance(got, tuple) or len(got) != len(expected):
        return False
    for g, e in zip(got, expected):
        if np.shape(g) != np.shape(e):
            return False
        g = np.asarray(g, dtype="float64")
        e = np.asarray(e, dtype="float64")
        if not np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=equal_nan):
            return False
    return True


def agrees(ex: Exercise, got: tuple, expected: tuple) -> bool:
    """:func:`close` and, where the exercise states them, the right dtypes: a case passes."""
    if not close(got, expected, ex.rtol, ex.atol):
        return False
    for i, dtype in enumerate(ex.dtypes or ()):
        if dtype and i < len(got) and np.asarray(got[i]).dtype != np.dtype(dtype):
            return False
    return True
