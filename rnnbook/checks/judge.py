"""The judge: from a function's outputs on the cases to a verdict, a score and messages.

One function, :func:`judge`, for the in-notebook checks (visible cases) and for the grader
(hidden cases, in the grader's own process, outside the student's code). Pure NumPy.

**Scoring.** An exercise's score is the share of cases passed, except that a *known mistake that
explains the outputs* scores 0: a mistake explains them when, on every case where the mistake's
output can be told apart from the answer, the student's output equals the mistake's, and every
case the student gets wrong is such a case. (The build also makes sure that no known mistake is
right on more than a quarter of the hidden cases.)

**Naming.** A mistake is named only when it explains the failing cases that way -- never because
it matches one degenerate case. A ``diagnose`` message is used when it says the same thing about
every failing case.

**What the messages may say.** On visible cases a message may quote the reference (the visible
outputs ship with the package anyway). On hidden cases (``hidden=True``) it says only the kind
of error: the shape, a dtype, a named mistake, how many cases have wrong values, the student's
own exception and line -- never a number computed from the reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnbook.checks.core import CaseError, Exercise, close, describe_case

WRONG = ("count", "shape", "dtype", "nan", "values", "metric")


@dataclass
class CaseResult:
    ok: bool
    kind: str  # "pass", one of WRONG, or a CaseError kind
    text: str = ""  # what is wrong with this case (empty when it passes)
    metric: float | None = None  # training exercises: the student's metric on this case


@dataclass
class Verdict:
    """The result of judging one exercise."""

    exercise: str
    passed: int
    total: int
    score: float  # the share of the points earned, 0..1
    summary: str  # what is wrong: a named mistake, and how many cases fail how (empty: all pass)
    details: list = field(default_factory=list)  # one line per failing case
    named: str | None = None  # the key of the known mistake that explains the outputs
    kinds: dict = field(default_factory=dict)  # {kind: number of cases}
    helper: str | None = None  # an unwritten function that the student's function calls
    metrics: dict = field(default_factory=dict)  # training exercises: {case: metric}
    example: str = ""  # the most telling failing case, when no mistake or diagnosis is named

    @property
    def message(self) -> str:
        """The summary and, when nothing is named, one failing case in full."""
        return f"{self.summary} For example, {self.example}" if self.example else self.summary

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.passed == self.total

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def stub(self) -> bool:
        """Every case raised the function's own NotImplementedError: not written yet."""
        return self.total > 0 and self.kinds.get("not_implemented", 0) == self.total \
            and self.helper is None


def _compare(ex: Exercise, got: tuple, expected: tuple, hidden: bool) -> CaseResult:
    n = len(expected)
    if len(got) != n:
        return CaseResult(False, "count", f"your function returned {len(got)} value(s); it "
                          f"should return {n}{_names(ex, n)}.")
    for i, (g, e) in enumerate(zip(got, expected)):
        label = ex.output_label(i, n)
        gs, es = tuple(np.shape(g)), tuple(np.shape(e))
        if gs != es:
            hint = ""
            if gs == es[::-1] and len(es) >= 2:
                hint = " -- the axes are reversed: is a matrix transposed?"
            elif np.size(g) == np.size(e):
                hint = " -- the same number of values in another shape: check your reshape/axes."
            elif len(gs) == len(es) + 1 and gs[-1:] == (1,) and gs[:-1] == es:
                hint = " -- drop the last axis of length 1 (e.g. `[:, 0]`)."
            return CaseResult(False, "shape", f"{label} has shape {gs}; it should have shape "
                              f"{es}{hint}")
        if ex.dtypes and i < len(ex.dtypes) and ex.dtypes[i] \
                and np.asarray(g).dtype != np.dtype(ex.dtypes[i]):
            return CaseResult(False, "dtype", f"{label} has dtype {np.asarray(g).dtype}; the "
                              f"exercise asks for {ex.dtypes[i]} (`.astype(\"{ex.dtypes[i]}\")`).")
        g64, e64 = np.asarray(g, "float64"), np.asarray(e, "float64")
        if not np.all(np.isfinite(g64)) and np.all(np.isfinite(e64)):
            return CaseResult(False, "nan", f"{label} contains NaN or infinity.")
        if not np.allclose(g64, e64, rtol=ex.rtol, atol=ex.atol):
            if hidden:
                return CaseResult(False, "values", f"{label} has the right shape but wrong "
                                  "values.")
            diff = np.abs(g64 - e64)
            diff = np.where(np.isnan(diff), np.inf, diff)
            idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
            return CaseResult(False, "values", f"{label} differs from the reference by up to "
                              f"{diff.max():.3g} (at index {tuple(int(k) for k in idx)}: got "
                              f"{g64[idx]:.6g}, expected {e64[idx]:.6g}).")
    return CaseResult(True, "pass")


def _names(ex: Exercise, n: int) -> str:
    if len(ex.outputs) == n and n > 1:
        return " (" + ", ".join(f"`{o}`" for o in ex.outputs) + ")"
    return ""


def _explains(ex, key, cases, outputs, mistakes, failing_numeric) -> int:
    """How many cases the known mistake ``key`` explains (0: it does not explain the outputs)."""
    told_apart = [c for c in cases if key in mistakes.get(c, {}) and isinstance(outputs[c], tuple)]
    if not told_apart or not failing_numeric:
        return 0
    if not set(failing_numeric) <= set(told_apart):
        return 0
    if all(close(outputs[c], mistakes[c][key], ex.rtol, ex.atol, equal_nan=True)
           for c in told_apart):
        return len(told_apart)
    return 0


def _count_phrase(kinds: dict, total: int, hidden: bool) -> str:
    words = {"values": "wrong values", "shape": "a wrong shape", "count": "the wrong number of "
             "outputs", "dtype": "the wrong dtype", "nan": "NaN or infinity", "metric": "a model "
             "that misses the bar", "raised": "an exception", "output": "a result that is not "
             "numbers", "mutated": "inputs changed in place", "timeout": "a time-out",
             "not_implemented": "an unwritten function", "missing": "no output"}
    parts = [f"{words.get(k, k)} on {v}" for k, v in kinds.items() if k != "pass"]
    if not parts:
        return ""
    cases = "hidden cases" if hidden else "cases"
    if len(parts) > 1:
        parts = [", ".join(parts[:-1]) + " and " + parts[-1]]
    return f"{parts[0][0].upper()}{parts[0][1:]} of the {total} {cases}."


def judge(ex: Exercise, cases: dict, outputs: dict, expected: dict,
          mistakes: dict | None = None, hidden: bool = False) -> Verdict:
    """Judge every case of one exercise.

    ``cases[case]`` are the arguments; ``outputs[case]`` a tuple of arrays or a
    :class:`CaseError` (a missing case counts as an error); ``expected[case]`` the reference
    outputs (the targets, for a training exercise); ``mistakes[case][key]`` the known mistakes'
    outputs, stored only where they differ from the reference.
    """
    mistakes = mistakes or {}
    for case in cases:
        if case not in expected:
            raise KeyError(f"no stored expected output for {ex.name}/{case}: rebuild the key "
                           "with `python -m rnnbook.checks.build`")
    outputs = {c: outputs.get(c, CaseError("missing", "no output was produced for this case"))
               for c in cases}
    results: dict[str, CaseResult] = {}
    for case in cases:
        got = outputs[case]
        if isinstance(got, CaseError):
            results[case] = CaseResult(False, got.kind, got.message)
        elif ex.kind == "training":
            results[case] = _judge_training(ex, cases[case], got, expected[case], hidden)
        else:
            results[case] = _compare(ex, got, expected[case], hidden)
    failing = [c for c in cases if not results[c].ok]
    failing_numeric = [c for c in failing if isinstance(outputs[c], tuple)]
    passed = len(cases) - len(failing)
    kinds: dict = {}
    for r in results.values():
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    helpers = {o.helper for o in outputs.values() if isinstance(o, CaseError) and o.helper}
    verdict = Verdict(ex.name, passed, len(cases), passed / len(cases) if cases else 0.0, "",
                      kinds=kinds, helper=sorted(helpers)[0] if helpers else None,
                      metrics={c: r.metric for c, r in results.items() if r.metric is not None})
    if not failing:
        return verdict

    # a known mistake that explains the outputs: named, and the exercise scores 0
    lead = ""
    if ex.kind != "training":
        evidence = {key: _explains(ex, key, cases, outputs, mistakes, failing_numeric)
                    for key in ex.mistakes}
        best = max(evidence.values(), default=0)
        if best > 0:
            verdict.named = next(k for k, v in evidence.items() if v == best)
            verdict.score = 0.0
            lead = ex.mistakes[verdict.named]
    if not lead and ex.diagnose is not None and failing_numeric:
        said = set()
        for c in failing_numeric:
            try:
                said.add(ex.diagnose(cases[c], outputs[c], expected[c]))
            except Exception:  # noqa: BLE001 -- a diagnosis must never break the verdict
                said.add(None)
        if len(said) == 1 and None not in said:
            lead = said.pop()
            if ex.kind == "training":
                verdict.named = "diagnosed"
    if verdict.helper and not lead:
        lead = next(o.message for o in outputs.values()
                    if isinstance(o, CaseError) and o.helper == verdict.helper)

    priority = ("raised", "output", "mutated", "timeout", "not_implemented", "missing", "count",
                "shape", "dtype", "nan", "metric", "values")
    failing.sort(key=lambda c: priority.index(results[c].kind)
                 if results[c].kind in priority else len(priority))
    details = []
    for case in failing:
        where = f"hidden {describe_case(case, cases[case])}" if hidden else \
            describe_case(case, cases[case])
        details.append(as_sentence(f"{where}: {results[case].text}"))
    verdict.details = details
    counts = _count_phrase({k: v for k, v in kinds.items() if k != "pass"}, len(cases), hidden)
    if lead:
        verdict.summary = f"{as_sentence(lead)} {counts}".strip()
    else:
        verdict.summary = counts
        verdict.example = f"{details[0][0].lower()}{details[0][1:]}"
    return verdict


def as_sentence(text: str) -> str:
    """A message as a verdict shows it: capitalised, ending with a full stop."""
    text = text.strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "?", "!")) else text + "."


# ---- training exercises ----------------------------------------------------------------------

def _judge_training(ex, args, got: tuple, targets: tuple, hidden: bool) -> CaseResult:
    if len(got) != 1:
        return CaseResult(False, "count", f"your function returned {len(got)} values; it should "
                          "return one array of predictions.")
    pred, truth = np.asarray(got[0]), np.asarray(targets[0])
    if pred.shape != truth.shape:
        hint = ""
        if pred.shape == truth.shape + (1,):
            hint = " -- drop the last axis of length 1 (e.g. `model.predict(X)[:, 0]`)."
        return CaseResult(False, "shape", f"your predictions have shape {pred.shape}; they "
                          f"should have shape {truth.shape}, one per input row{hint}")
    if not np.all(np.isfinite(pred.astype("float64"))):
        return CaseResult(False, "nan", "your predictions contain NaN or infinity (did the "
                          "training diverge?)")
    value = float(ex.metric(args, pred.astype("float64"), (truth.astype("float64"),)))
    text = (f"{ex.metric_text} is {ex.format_metric(value)}; it must be below "
            f"{ex.format_metric(ex.threshold)}")
    if value < ex.threshold:
        return CaseResult(True, "pass", text + ".", metric=value)
    gap = value - ex.threshold
    return CaseResult(False, "metric", f"{text} ({ex.format_metric(gap)} too high).",
                      metric=value)
