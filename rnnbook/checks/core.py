"""The machinery behind every exercise check: exercises, their cases, and the judge.

An :class:`Exercise` names the function a student writes and the inputs it is checked on. Expected
outputs are *stored* (computed from ``solutions/`` by :mod:`rnnbook.checks.build`), never computed
from reference code in this package, so the answers cannot be read out of it:

- ``rnnbook/checks/expected/<chapter>.npz`` -- outputs for the *visible* cases, plus the outputs
  of known mistakes so that a check can name the one it sees;
- ``solutions/expected/<chapter>.npz`` -- outputs for the *hidden* cases the grader uses, and the
  points of each exercise. It is not part of the installed package.

:func:`judge` is pure NumPy: the in-notebook checks and the grader (outside the student's kernel)
call the same function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

VISIBLE_SEED = 0
HIDDEN_SEED = 1_000_003


@dataclass
class Exercise:
    """One auto-graded exercise.

    ``cases(rng)`` returns ``{case_name: args}``: a dict of argument tuples of NumPy arrays (make
    the edge cases explicit: a batch of 1, one time step, a zero state). ``call(fn, args)`` runs
    the student's function (default ``fn(*args)``). ``compare(args, got, expected)`` may replace
    the default closeness test; it returns ``None`` when the output is right, or a message.
    ``mistakes`` maps the key of a known mistake to the message shown when the student's output
    equals that mistake's output (stored by the build). ``diagnose(args, got, expected)`` may name
    a mistake from the output alone (e.g. reversed time) and returns a message or ``None``.
    """

    name: str
    target: str
    cases: Callable[[np.random.Generator], dict]
    mistakes: dict = field(default_factory=dict)
    call: Callable | None = None
    compare: Callable | None = None
    diagnose: Callable | None = None
    rtol: float = 1e-4
    atol: float = 1e-5
    what: str = ""  # a short description of the output, used in messages

    def make_cases(self, hidden: bool = False) -> dict:
        rng = np.random.default_rng(HIDDEN_SEED if hidden else VISIBLE_SEED)
        cases = self.cases(rng)
        if hidden:  # the grader's cases must differ from the visible ones, names included
            cases = {f"hidden_{k}": v for k, v in cases.items()}
        return cases

    def run(self, fn, args):
        """Call the student's function on one case and return its output as a tuple of arrays."""
        out = self.call(fn, args) if self.call else fn(*args)
        return to_arrays(out)


def to_arrays(out) -> tuple:
    """An output (array, tensor, number, or a tuple/list of them) as a tuple of NumPy arrays."""
    if isinstance(out, (tuple, list)) and not _is_numeric_list(out):
        items = out
    else:
        items = (out,)
    arrays = []
    for item in items:
        if hasattr(item, "numpy"):
            item = item.numpy()
        arr = np.asarray(item)
        if arr.dtype == object:
            raise TypeError(f"expected numbers or arrays, got {type(item).__name__}")
        arrays.append(arr)
    return tuple(arrays)


def _is_numeric_list(seq) -> bool:
    return len(seq) > 0 and all(isinstance(v, (int, float, np.number)) for v in seq)


def describe_case(name: str, args) -> str:
    shapes = ", ".join(str(tuple(np.shape(a))) for a in args)
    return f"case '{name}' (argument shapes {shapes})"


def close(got: tuple, expected: tuple, rtol: float, atol: float) -> bool:
    if len(got) != len(expected):
        return False
    for g, e in zip(got, expected):
        if np.shape(g) != np.shape(e):
            return False
        g = np.asarray(g, dtype="float64")
        e = np.asarray(e, dtype="float64")
        if not np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=False):
            return False
    return True


def _mismatch_message(ex: Exercise, case: str, args, got: tuple, expected: tuple) -> str:
    where = describe_case(case, args)
    if len(got) != len(expected):
        return (f"{where}: your function returned {len(got)} value(s), the reference returns "
                f"{len(expected)}.")
    for i, (g, e) in enumerate(zip(got, expected)):
        label = f"output {i}" if len(expected) > 1 else "the output"
        if np.shape(g) != np.shape(e):
            hint = ""
            if np.shape(g) == np.shape(e)[::-1] and len(np.shape(e)) >= 2:
                hint = " -- the axes are reversed: is a matrix transposed?"
            elif np.size(g) == np.size(e):
                hint = " -- same number of values, different shape: check your reshape/axes."
            return (f"{where}: {label} has shape {tuple(np.shape(g))}, expected "
                    f"{tuple(np.shape(e))}{hint}")
        g64, e64 = np.asarray(g, "float64"), np.asarray(e, "float64")
        if not np.all(np.isfinite(g64)):
            return f"{where}: {label} contains NaN or infinity."
        if not np.allclose(g64, e64, rtol=ex.rtol, atol=ex.atol):
            diff = np.abs(g64 - e64)
            idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
            return (f"{where}: {label} differs from the reference by up to {diff.max():.3g} "
                    f"(at index {tuple(int(i) for i in idx)}: got {g64[idx]:.6g}, expected "
                    f"{e64[idx]:.6g}).")
    return f"{where}: the output differs from the reference."


@dataclass
class Verdict:
    """The result of judging one exercise: how many cases passed, and what to tell the student."""

    exercise: str
    passed: int
    total: int
    messages: list

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.passed == self.total


def matching_mistakes(ex: Exercise, got: tuple, mistakes: dict | None) -> list[str]:
    """Keys of the stored mistakes whose output equals ``got``."""
    return [key for key, out in (mistakes or {}).items() if close(got, out, ex.rtol, ex.atol)]


def judge_case(ex: Exercise, case: str, args, got, expected: tuple,
               mistakes: dict | None = None, prefer: str | None = None) -> str | None:
    """``None`` when ``got`` is right for this case, otherwise the message for the student.

    ``got`` is a tuple of arrays, or an exception message (a string) when the function raised.
    When several stored mistakes explain the output, ``prefer`` names the one to report.
    """
    if isinstance(got, str):
        return f"{describe_case(case, args)}: {got}"
    if ex.compare is not None:
        return ex.compare(args, got, expected)
    if close(got, expected, ex.rtol, ex.atol):
        return None
    keys = matching_mistakes(ex, got, mistakes)
    if keys:
        key = prefer if prefer in keys else keys[0]
        return f"{describe_case(case, args)}: {ex.mistakes.get(key, key)}"
    if ex.diagnose is not None:
        named = ex.diagnose(args, got, expected)
        if named:
            return f"{describe_case(case, args)}: {named}"
    return _mismatch_message(ex, case, args, got, expected)


def judge(ex: Exercise, cases: dict, outputs: dict, expected: dict,
          mistakes: dict | None = None) -> Verdict:
    """Judge every case. ``outputs[case]`` is a tuple of arrays or an error string;
    ``expected[case]`` a tuple of arrays; ``mistakes[case]`` a dict ``{key: tuple of arrays}``.

    The first message names the known mistake that explains the most failing cases (one output
    can match two mistakes on a small case; across the cases only one explains them all).
    """
    mistakes = mistakes or {}
    for case in cases:
        if case not in expected:
            raise KeyError(f"no stored expected output for {ex.name}/{case}: rebuild with "
                           "`python -m rnnbook.checks.build`")
    outputs = {case: outputs.get(case, "no output was produced") for case in cases}
    votes: dict = {}
    for case in cases:
        got = outputs[case]
        if not isinstance(got, str) and ex.compare is None:
            for key in matching_mistakes(ex, got, mistakes.get(case)):
                votes[key] = votes.get(key, 0) + 1
    prefer = max(votes, key=votes.get) if votes else None
    messages, passed = [], 0
    for case, args in cases.items():
        msg = judge_case(ex, case, args, outputs[case], expected[case], mistakes.get(case), prefer)
        if msg is None:
            passed += 1
        elif prefer and ex.mistakes.get(prefer, prefer) in msg:
            messages.insert(0, msg)
        else:
            messages.append(msg)
    return Verdict(ex.name, passed, len(cases), messages)


# ---- storage of expected outputs -------------------------------------------------------------

def pack(results: dict, meta: dict | None = None) -> dict:
    """Flatten ``{exercise: {case: {variant: tuple of arrays}}}`` into npz-ready arrays."""
    flat = {}
    for ex, by_case in results.items():
        for case, by_variant in by_case.items():
            for variant, arrays in by_variant.items():
                for i, a in enumerate(arrays):
                    flat[f"{ex}|{case}|{variant}|{i}"] = np.asarray(a)
    flat["__meta__"] = np.frombuffer(json.dumps(meta or {}).encode(), dtype=np.uint8)
    return flat


def unpack(npz) -> tuple[dict, dict]:
    """The inverse of :func:`pack`: ``(results, meta)``."""
    results: dict = {}
    meta = {}
    items = []
    for key in npz.files:
        if key == "__meta__":
            meta = json.loads(bytes(npz[key]).decode())
            continue
        ex, case, variant, i = key.split("|")
        items.append((ex, case, variant, int(i), npz[key]))
    for ex, case, variant, i, arr in sorted(items, key=lambda t: t[:4]):
        lst = results.setdefault(ex, {}).setdefault(case, {}).setdefault(variant, [])
        lst.append(arr)
    for by_case in results.values():
        for by_variant in by_case.values():
            for variant in by_variant:
                by_variant[variant] = tuple(by_variant[variant])
    return results, meta


def split_variants(by_case: dict) -> tuple[dict, dict]:
    """``{case: {variant: out}}`` into ``expected[case]`` and ``mistakes[case][key]``."""
    expected, mistakes = {}, {}
    for case, variants in by_case.items():
        for variant, out in variants.items():
            if variant == "expected":
                expected[case] = out
            elif variant.startswith("mistake:"):
                mistakes.setdefault(case, {})[variant[len("mistake:"):]] = out
    return expected, mistakes

