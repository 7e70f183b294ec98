"""Every check accepts the solution and rejects the stub and each known mistake, by name."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import ROOT, chapters_with_exercises, exercise_namespace, mistakes
from rnnbook import checks
from rnnbook.checks.core import split_variants

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


def test_chapter_has_at_least_four_exercises(chapter):
    assert len(checks.exercises(chapter)) >= 4


def test_every_check_accepts_the_solution(chapter, solved, capsys):
    for name, ex in checks.exercises(chapter).items():
        checks.check(chapter, name, solved[ex.target])
        assert f"✓ {name}:" in capsys.readouterr().out


def test_every_check_rejects_the_stub(chapter, stubs):
    for name, ex in checks.exercises(chapter).items():
        with pytest.raises(AssertionError, match="not written yet"):
            checks.check(chapter, name, stubs[ex.target])


def test_every_check_names_each_known_mistake(chapter):
    known = mistakes(chapter)
    for name, ex in checks.exercises(chapter).items():
        assert len(known.get(name, {})) >= 3, f"{chapter}/{name}: test at least three realistic mistakes"
        for key, wrong in known[name].items():
            with pytest.raises(AssertionError) as err:
                checks.check(chapter, name, wrong)
            assert ex.mistakes[key] in str(err.value), (
                f"{chapter}/{name}: mistake {key!r} was rejected, but not named: {err.value}")


def test_visible_expected_covers_every_case(chapter):
    stored = checks.visible_expected(chapter)
    for name, ex in checks.exercises(chapter).items():
        expected, _ = split_variants(stored[name])
        assert set(expected) == set(ex.make_cases())


def test_hidden_cases_differ_from_visible_ones(chapter):
    for ex in checks.exercises(chapter).values():
        visible, hidden = ex.make_cases(False), ex.make_cases(True)
        assert not set(visible) & set(hidden)
        flat_v = [np.asarray(a) for args in visible.values() for a in args]
        flat_h = [np.asarray(a) for args in hidden.values() for a in args]
        assert len(flat_v) != len(flat_h) or any(
            a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(flat_v, flat_h))


def test_a_check_rejects_a_value_that_is_not_a_function():
    with pytest.raises(AssertionError, match="expected a function"):
        checks.check("02_rnn", "cell_step", np.zeros(3))


def test_an_exception_in_the_student_function_is_reported():
    def broken(*args):
        raise ValueError("shapes do not align")

    with pytest.raises(AssertionError, match="raised ValueError: shapes do not align"):
        checks.check("02_rnn", "cell_step", broken)


def test_a_wrong_shape_is_reported_with_both_shapes():
    with pytest.raises(AssertionError, match=r"has shape \(1, 3\), expected \(1, 4\)"):
        checks.check("02_rnn", "cell_step", lambda x, s, U, W, b: x)


def test_an_unknown_mistake_gets_the_largest_difference():
    def off(x, s, U, W, b):
        return np.tanh(x @ U + s @ W + b) + 0.01

    with pytest.raises(AssertionError, match="differs from the reference by up to 0.01"):
        checks.check("02_rnn", "cell_step", off)


def test_reversed_states_are_named():
    def reversed_states(x, s0, U, W, b):
        s, out = s0, []
        for t in range(x.shape[1]):
            s = np.tanh(x[:, t] @ U + s @ W + b)
            out.append(s)
        return np.stack(out[::-1], axis=1)

    with pytest.raises(AssertionError, match="reverse time order"):
        checks.check("02_rnn", "forward", reversed_states)


def test_unknown_chapter_and_exercise_are_clear_errors():
    with pytest.raises(KeyError, match="unknown chapter"):
        checks.for_chapter("99_nothing")
    with pytest.raises(KeyError, match="no exercise"):
        checks.check("02_rnn", "nothing", print)
