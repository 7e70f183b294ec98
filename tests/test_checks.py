"""The checks: every check accepts the solution and rejects the stub and each known mistake, by
name; the messages a student reads; the answer keys and the one list of chapters."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import ROOT, chapters_with_exercises, define, exercise_namespace, mistakes
from rnnbook import checks
from rnnbook.checks import store
from rnnbook.checks.core import CaseError, as_outputs, run_case
from rnnbook.checks.judge import as_sentence, judge

CHAPTERS = chapters_with_exercises()


@pytest.fixture(scope="module", params=CHAPTERS)
def chapter(request):
    return request.param


@pytest.fixture(scope="module")
def solved(chapter):
    return exercise_namespace(ROOT / "solutions" / f"{chapter}.ipynb")


@pytest.fixture(scope="module")
def stubs(chapter):
    return exercise_namespace(ROOT / "exercises" / f"{chapter}.ipynb")


@pytest.fixture(scope="module")
def ch02():
    return exercise_namespace(ROOT / "solutions" / "02_rnn.ipynb")


def test_chapter_has_at_least_four_exercises(chapter):
    assert len(checks.exercises(chapter)) >= 4


def test_every_check_accepts_the_solution(chapter, solved, capsys):
    for name, ex in checks.exercises(chapter).items():
        if ex.kind == "training":
            # It trains a model (seconds of CPU): the solution notebook's own check cell
            # (strict nbval compares its ✓ line) and the grader's full marks cover it, and
            # test_a_training_check_reports_the_metric_and_the_bar runs one here.
            continue
        checks.check(chapter, name, solved[ex.target])
        assert f"✓ {name}:" in capsys.readouterr().out


def test_every_check_rejects_the_stub(chapter, stubs):
    for name, ex in checks.exercises(chapter).items():
        with pytest.raises(AssertionError, match="not written yet"):
            checks.check(chapter, name, stubs[ex.target])


def test_every_check_names_each_known_mistake(chapter):
    known = mistakes(chapter)
    for name, ex in checks.exercises(chapter).items():
        assert len(known.get(name, {})) >= 3, (
            f"{chapter}/{name}: test at least three realistic mistakes")
        assert set(known[name]) == set(ex.mistakes), f"{chapter}/{name}: one message per mistake"
        for key, wrong in known[name].items():
            with pytest.raises(AssertionError) as err:
                checks.check(chapter, name, wrong)
            assert as_sentence(ex.mistakes[key]) in str(err.value), (
                f"{chapter}/{name}: mistake {key!r} was rejected, but not named: {err.value}")


def test_no_known_mistake_scores_more_than_a_quarter_on_the_hidden_cases(chapter):
    """No named mistake keeps more than a quarter of the points: checked on the key's stored
    mistakes' outputs."""
    results, meta = store.load(store.key_path(chapter))
    for name, cs in store.case_sets(results, meta, "hidden").items():
        ex = checks.exercises(chapter)[name]
        for key in ex.mistakes if ex.kind == "function" else ():
            outputs = {c: cs.mistakes[c][key] if key in cs.mistakes.get(c, {}) else cs.expected[c]
                       for c in cs.inputs}
            verdict = judge(ex, cs.inputs, outputs, cs.expected, cs.mistakes, hidden=True)
            assert verdict.score <= 0.25, (chapter, name, key, verdict.score)
            assert verdict.named == key


def test_the_visible_store_covers_every_case_and_matches_the_key(chapter):
    stored = checks.visible(chapter)
    results, meta = store.load(store.key_path(chapter))
    key_visible = store.case_sets(results, meta, "visible")
    for name in checks.exercises(chapter):
        assert list(stored[name].inputs) == list(key_visible[name].inputs)
        assert set(stored[name].expected) == set(stored[name].inputs)
        for case, out in stored[name].expected.items():
            for a, b in zip(out, key_visible[name].expected[case]):
                np.testing.assert_array_equal(a, b)


def test_no_hidden_input_equals_a_visible_one(chapter):
    results, meta = store.load(store.key_path(chapter))
    visible = store.case_sets(results, meta, "visible")
    hidden = store.case_sets(results, meta, "hidden")
    for name, cs in hidden.items():
        assert len(cs.inputs) >= 1
        for case, args in cs.inputs.items():
            for vcase, vargs in visible[name].inputs.items():
                same = len(args) == len(vargs) and all(
                    np.shape(a) == np.shape(b)
                    and np.array_equal(a, b, equal_nan=np.asarray(a).dtype.kind == "f")
                    for a, b in zip(args, vargs))
                assert not same, f"{chapter}/{name}: hidden {case} equals visible {vcase}"


def test_the_package_ships_no_hidden_case():
    for path in store.VISIBLE_DIR.glob("*.npz"):
        results, meta = store.load(path)
        assert set(results) == {"visible"}, path
        assert "training" not in meta


def test_the_chapter_list_is_one_list(chapter):
    """_toc.yml owns the chapters: each has a book page, a solution, an exercise notebook, a spec
    module, known mistakes, an answer key and a visible store -- and nothing else does."""
    for path in (f"book/{chapter}.ipynb", f"solutions/{chapter}.ipynb",
                 f"exercises/{chapter}.ipynb", f"solutions/mistakes/{chapter}.py",
                 f"solutions/keys/{chapter}.npz", f"rnnbook/checks/expected/{chapter}.npz",
                 f"rnnbook/checks/ch{chapter[:2]}.py"):
        assert (ROOT / path).is_file(), f"{path} is missing"
    assert checks.exercises(chapter)


def test_no_file_outside_the_chapter_list():
    listed = set(CHAPTERS)
    for pattern in ("book/[0-9][0-9]_*.ipynb", "solutions/[0-9][0-9]_*.ipynb",
                    "exercises/[0-9][0-9]_*.ipynb", "solutions/mistakes/*.py",
                    "solutions/keys/*.npz", "rnnbook/checks/expected/*.npz"):
        extra = {p.stem for p in ROOT.glob(pattern)} - listed
        assert not extra, f"{pattern}: {sorted(extra)} are not in _toc.yml"
    modules = {p.stem[2:] for p in (ROOT / "rnnbook" / "checks").glob("ch[0-9][0-9].py")}
    assert modules == {c[:2] for c in listed}


def test_a_stale_key_is_reported(tmp_path, monkeypatch):
    assert store.stale_keys(ROOT) == []
    monkeypatch.setattr(store, "spec_hash", lambda chapter: "changed")
    assert any("02_rnn.npz is stale (the spec changed" in p for p in store.stale_keys(ROOT))


# ---- messages ------------------------------------------------------------------------------

def test_a_check_rejects_a_value_that_is_not_a_function():
    with pytest.raises(AssertionError, match="expected a function"):
        checks.check("02_rnn", "cell_step", np.zeros(3))


def test_an_exception_is_reported_with_its_line(ch02):
    ns = define(ch02, "def rnn_cell_step(x_t, s_prev, U, W, b):\n"
                      "    a = x_t @ U.T\n"
                      "    return np.tanh(a + s_prev @ U + b)\n", "my_cell")
    with pytest.raises(AssertionError) as err:
        checks.check("02_rnn", "cell_step", ns["rnn_cell_step"])
    msg = str(err.value)
    assert "raised ValueError" in msg
    assert "in `rnn_cell_step`, line 3 of its cell: `return np.tanh(a + s_prev @ U + b)`" in msg


def test_a_wrong_shape_is_reported_with_both_shapes():
    with pytest.raises(AssertionError, match=r"has shape \(1, 3\); it should have shape \(1, 4\)"):
        checks.check("02_rnn", "cell_step", lambda x, s, U, W, b: x)


def test_an_output_is_named(ch02):
    ns = define(ch02, "def rnn_readout(x, s0, U, W, b, V, c):\n"
                      "    e = np.exp(rnn_forward(x, s0, U, W, b) @ V + c)\n"
                      "    p = e / e.sum(axis=-1, keepdims=True)\n"
                      "    return p, p[:, -1] + 1\n")
    with pytest.raises(AssertionError, match="the second output, `p_last`, differs"):
        checks.check("02_rnn", "readout", ns["rnn_readout"])


def test_an_unknown_mistake_gets_the_largest_difference_on_visible_cases():
    def off(x, s, U, W, b):
        return np.tanh(x @ U.T + s @ W.T + b) + 0.01

    with pytest.raises(AssertionError, match="differs from the reference by up to 0.01"):
        checks.check("02_rnn", "cell_step", off)


def test_reversed_states_are_named():
    def reversed_states(x, s0, U, W, b, lengths):
        s, out = s0, []
        for t in range(x.shape[1]):
            s = np.where((t < lengths)[:, None], np.tanh(x[:, t] @ U + s @ W + b), s)
            out.append(s)
        return np.stack(out[::-1], axis=1)

    with pytest.raises(AssertionError, match="reverse time order"):
        checks.check("02_rnn", "forward", reversed_states)


def test_a_function_calling_an_unwritten_one_is_told_so(ch02):
    ns = define(ch02, "def rnn_forward(x, s0, U, W, b):\n"
                      "    raise NotImplementedError('loop over t')\n", "stub")
    ns = define(ns, "def rnn_readout(x, s0, U, W, b, V, c):\n"
                    "    o = rnn_forward(x, s0, U, W, b) @ V + c\n"
                    "    return o, o[:, -1]\n", "readout")
    with pytest.raises(AssertionError) as err:
        checks.check("02_rnn", "readout", ns["rnn_readout"])
    msg = str(err.value)
    assert "calls `rnn_forward`, which is not written yet" in msg
    assert "may well be right" in msg and "`rnn_readout` is not written yet" not in msg


def test_an_input_changed_in_place_is_named():
    def in_place(bias, z_value):
        units = bias.shape[-1] // 3
        value = np.log(z_value / (1 - z_value))
        if bias.ndim == 2:
            bias[0, :units], bias[1, :units] = value, 0.0
        else:
            bias[:units] = value
        return bias

    with pytest.raises(AssertionError, match="changed its argument `bias` in place"):
        checks.check("08_gru", "update_bias", in_place)


@pytest.mark.parametrize("returned, message", [
    (lambda W, t: W.astype(complex) * t, "complex numbers"),
    (lambda W, t: "W * t", "text"),
    (lambda W, t: None, "returned None"),
    (lambda W, t: [W, np.zeros(3)], "two outputs"),
])
def test_a_return_value_that_is_not_numbers_is_a_case_error(returned, message):
    ex = checks.exercises("05_gradient_problem")["rescale"]
    out = run_case(ex, returned, (np.eye(2, dtype="float32"), np.float32(2.0)))
    if message == "two outputs":
        assert isinstance(out, tuple) and len(out) == 2
    else:
        assert isinstance(out, CaseError) and out.kind == "output" and message in out.message


def test_scalars_arrive_as_python_scalars():
    seen = []

    def gru_params(features, units, reset_after):
        seen.append((type(features), type(units), type(reset_after)))
        biases = 2 if reset_after is True else 1
        return 3 * (features * units + units * units + biases * units)

    checks.check("08_gru", "param_count", gru_params)
    assert set(seen) == {(int, int, bool)}

    def sampling_probabilities(logits, temperature, top_k):
        assert type(temperature) is float and type(top_k) is int
        z = logits / temperature
        z = np.where(z >= np.sort(z, axis=-1)[:, -top_k][:, None], z, -np.inf)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    checks.check("07_lstm", "sampling", sampling_probabilities)

    def memory_span(forget_bias, fraction):
        assert type(fraction) is float and isinstance(forget_bias, np.ndarray)
        return np.floor(np.log(fraction) / np.log(1 / (1 + np.exp(-forget_bias))))

    checks.check("07_lstm", "memory_span", memory_span)


def test_a_mistake_is_named_only_when_it_explains_the_outputs():
    # MAE instead of MSE agrees with the root of the MSE on a one-target case only
    def mae(y):
        return np.mean(np.abs(y - 1.0))

    with pytest.raises(AssertionError) as err:
        checks.check("09_irnn", "baseline_mse", mae)
    assert "root of the mean squared error" not in str(err.value)
    # a precedence error: delta * beta_W * beta_phi ** lag -- not "exponent one too large"
    def precedence(W, beta_phi, delta_t_norm, lags):
        return delta_t_norm * np.linalg.norm(W, 2) * beta_phi ** np.asarray(lags, float)

    with pytest.raises(AssertionError) as err:
        checks.check("05_gradient_problem", "bound", precedence)
    assert "exponent is one too large" not in str(err.value)


@pytest.mark.parametrize("chapter_name, fn, message", [
    ("05_gradient_problem", "regime_sign", "within 1e-4 of 1"),
    ("09_irnn", "float64_adding", "float32"),
    ("09_irnn", "relu_at_zero", "relu'(0) is 1"),
    ("09_irnn", "at_most", "not below it"),
])
def test_the_rules_the_text_states_are_tested(chapter_name, fn, message):
    def regime_sign(Ws, beta_phi):
        return np.sign(np.array([np.linalg.norm(W, 2) for W in Ws]) * beta_phi - 1).astype(int)

    def float64_adding(values, first, second):
        n, T = values.shape
        x = np.zeros((n, T, 2))
        x[:, :, 0] = values
        x[np.arange(n), first, 1] = 1
        x[np.arange(n), second, 1] = 1
        return x, (values[np.arange(n), first] + values[np.arange(n), second])[:, None]

    def relu_at_zero(x, U, W, gain, lengths):
        norms = []
        for phi, phi_prime, W_rec in [(np.tanh, lambda a: 1 - np.tanh(a) ** 2, W),
                                      (lambda a: np.maximum(a, 0), lambda a: (a >= 0) * 1.0,
                                       gain * np.eye(len(W)))]:
            row = []
            for T in lengths:
                s, J = np.zeros(len(W)), np.eye(len(W))
                for x_t in x[:T]:
                    a = x_t @ U + s @ W_rec
                    s, J = phi(a), np.diag(phi_prime(a)) @ W_rec.T @ J
                row.append(np.linalg.norm(J))
            norms.append(np.array(row))
        return tuple(norms)

    def at_most(val_losses, baseline, fraction):
        return (val_losses[:, -1] <= fraction * baseline).astype(int)

    functions = dict(regime_sign=regime_sign, float64_adding=float64_adding,
                     relu_at_zero=relu_at_zero, at_most=at_most)
    name = {"regime_sign": "regime", "float64_adding": "adding_data",
            "relu_at_zero": "tanh_vs_irnn", "at_most": "has_learned"}[fn]
    with pytest.raises(AssertionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        checks.check(chapter_name, name, functions[fn])


def test_hidden_messages_quote_no_reference_number():
    ex = checks.exercises("02_rnn")["cell_step"]
    args = (np.ones((1, 2), "float32"), np.zeros((1, 3), "float32"), np.ones((2, 3), "float32"),
            np.eye(3, dtype="float32"), np.full(3, 0.123456, "float32"))
    expected = {"a": (np.tanh(args[0] @ args[2] + args[4]),)}
    got = {"a": (expected["a"][0] + 0.5,)}
    visible = judge(ex, {"a": args}, got, expected)
    hidden = judge(ex, {"a": args}, got, expected, hidden=True)
    assert "expected" in visible.message and "0.9" in visible.message
    text = hidden.message + " ".join(hidden.details)
    assert "right shape but wrong values" in text
    assert not any(ch.isdigit() and ch not in "0123" for ch in text.replace("(1, 3)", ""))


def test_a_training_check_reports_the_metric_and_the_bar(capsys):
    ns = exercise_namespace(ROOT / "solutions" / "01_time_series.ipynb")
    checks.check("01_time_series", "beat_naive", ns["train_and_forecast"])
    out = capsys.readouterr().out
    assert "(< 0.85 passes)" in out and "MAE / naive MAE = 0.5" in out
    assert all(len(line) <= 79 for line in out.splitlines())


def test_outputs_that_are_not_numbers_never_reach_the_result():
    with pytest.raises(ValueError, match="complex"):
        as_outputs(np.array([1 + 2j]))
    assert json.dumps(CaseError("output", "x").to_json())


def test_unknown_chapter_and_exercise_are_clear_errors():
    with pytest.raises(KeyError, match="unknown chapter"):
        checks.for_chapter("99_nothing")
    with pytest.raises(KeyError, match="unknown chapter"):
        checks.for_chapter("02_something_else")
    with pytest.raises(KeyError, match="no exercise"):
        checks.check("02_rnn", "nothing", print)
