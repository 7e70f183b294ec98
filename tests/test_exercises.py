"""The generator of exercises/ from solutions/: golden files, markers, --check."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from helpers import ROOT
from rnnbook import exercises as gen

GOLDEN = ROOT / "tests" / "golden"


def tiny_solution():
    return gen.read_notebook(GOLDEN / "00_tiny_solution.ipynb")


def test_generated_notebook_equals_the_golden_file():
    out = gen.make_exercise(tiny_solution(), "00_tiny", "https://example.org/repo")
    assert gen.render(out) == (GOLDEN / "00_tiny_exercise.ipynb").read_text()


def test_solution_regions_become_stubs_with_the_hint():
    out = gen.make_exercise(tiny_solution(), "00_tiny", "https://example.org/repo")
    sources = [c.source for c in out.cells]
    assert 'raise NotImplementedError("multiply by two")' in sources[3]
    assert "return 2 * x" not in "".join(sources)
    assert "BEGIN SOLUTION" not in "".join(sources)
    assert '        raise NotImplementedError(' in sources[-1]  # indentation kept


def test_outputs_cleared_solution_cells_dropped_and_metadata_stamped():
    out = gen.make_exercise(tiny_solution(), "00_tiny", "https://example.org/repo")
    code = [c for c in out.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert not any("doubling is adding" in c.source for c in out.cells)
    assert out.metadata["rnnbook"]["chapter"] == "00_tiny"
    assert out.metadata["rnnbook"]["generated_from"] == "solutions/00_tiny.ipynb"


def test_the_setup_cell_is_first_and_names_the_repository():
    out = gen.make_exercise(tiny_solution(), "00_tiny", "https://example.org/repo")
    first = out.cells[0]
    assert "setup" in first.metadata.tags
    assert "git+https://example.org/repo" in first.source
    again = gen.make_exercise(out, "00_tiny", "https://example.org/other")
    assert [c.source for c in again.cells].count(first.source) == 0  # replaced, not duplicated
    assert sum("setup" in c.metadata.get("tags", []) for c in again.cells) == 1


def test_the_stubs_raise_not_implemented():
    out = gen.make_exercise(tiny_solution(), "00_tiny", "https://example.org/repo")
    namespace = {}
    exec(out.cells[2].source, namespace)
    exec(out.cells[3].source, namespace)
    with pytest.raises(NotImplementedError, match="multiply by two"):
        namespace["double"](1)


@pytest.mark.parametrize("source, message", [
    ("# BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n# END SOLUTION\n", "END SOLUTION without BEGIN"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "inside the region"),
])
def test_unpaired_markers_are_clear_errors(source, message):
    with pytest.raises(gen.SolutionMarkupError, match=message):
        gen.strip_solutions(source, "solutions/x.ipynb, cell 3")


def test_a_hint_counts_only_as_the_first_line_of_a_region():
    src = "# BEGIN SOLUTION\nx = 1\n# HINT: too late\n# END SOLUTION"
    assert gen.strip_solutions(src) == f'raise NotImplementedError("{gen.DEFAULT_HINT}")'


def test_the_repository_url_is_read_from_config():
    assert gen.repository_url().startswith("https://")


@pytest.fixture()
def course_copy(tmp_path):
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("book", "solutions", "exercises"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_the_repository_is_in_sync():
    assert gen.stale(ROOT) == [], "run `python -m rnnbook.exercises`"
    assert gen.main(["--check"]) == 0


def test_check_names_an_exercise_that_is_out_of_date(course_copy, capsys):
    path = course_copy / "solutions" / "02_rnn.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += "\n\nOne more sentence."
    nbformat.write(nb, path)
    assert gen.main(["--check", "--root", str(course_copy)]) == 1
    assert "exercises/02_rnn.ipynb is out of date" in capsys.readouterr().err
    assert gen.main(["--root", str(course_copy)]) == 0
    assert gen.main(["--check", "--root", str(course_copy)]) == 0


def test_check_names_missing_and_orphaned_exercises(course_copy, capsys):
    (course_copy / "exercises" / "02_rnn.ipynb").unlink()
    shutil.copy(GOLDEN / "00_tiny_exercise.ipynb", course_copy / "exercises" / "00_tiny.ipynb")
    assert gen.main(["--check", "--root", str(course_copy)]) == 1
    err = capsys.readouterr().err
    assert "exercises/02_rnn.ipynb is missing" in err
    assert "exercises/00_tiny.ipynb has no solution notebook" in err


def test_a_broken_solution_notebook_is_a_clear_error_and_writes_nothing(course_copy, capsys):
    (course_copy / "solutions" / "02_rnn.ipynb").write_text("{ not json")
    before = (course_copy / "exercises" / "02_rnn.ipynb").read_text()
    assert gen.main(["--root", str(course_copy)]) == 2
    assert "solutions/02_rnn.ipynb is not a readable notebook" in capsys.readouterr().err
    assert (course_copy / "exercises" / "02_rnn.ipynb").read_text() == before


def test_naming_a_chapter_touches_only_that_chapter(course_copy, capsys):
    for stem in ("02_rnn", "01_time_series"):
        path = course_copy / "solutions" / f"{stem}.ipynb"
        if path.exists():
            nb = nbformat.read(path, as_version=4)
            nb.cells[1].source += "\n\nOne more sentence."
            nbformat.write(nb, path)
    assert gen.main(["--root", str(course_copy), "02_rnn"]) == 0
    assert gen.main(["--check", "--root", str(course_copy), "02_rnn"]) == 0
    if (course_copy / "solutions" / "01_time_series.ipynb").exists():
        assert gen.main(["--check", "--root", str(course_copy)]) == 1


def test_a_heading_must_show_the_points_of_the_spec(course_copy, capsys):
    path = course_copy / "solutions" / "02_rnn.ipynb"
    text = path.read_text()
    assert "## Exercise 2.1 -- one step, in the lecture's layout (2 points)" in text
    path.write_text(text.replace("in the lecture's layout (2 points)",
                                 "in the lecture's layout (3 points)"))
    assert gen.main(["--check", "--root", str(course_copy)]) == 2
    err = capsys.readouterr().err
    assert "says 3 points, its spec (rnnbook/checks/ch02.py) 2" in err


def test_check_fails_when_the_solution_code_changes_but_the_key_does_not(course_copy, capsys):
    path = course_copy / "solutions" / "02_rnn.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "def rnn_cell_step" in c.source)
    cell.source = cell.source.replace("return np.tanh(", "return 1.0 * np.tanh(")
    nbformat.write(nb, path)
    assert gen.main(["--root", str(course_copy)]) == 0  # the student copy is regenerated...
    assert gen.main(["--check", "--root", str(course_copy)]) == 1  # ...but the key is stale
    err = capsys.readouterr().err
    assert "solutions/keys/02_rnn.npz is stale (the solution changed" in err
    assert "python -m rnnbook.checks.build 02_rnn" in err


def test_the_points_live_only_in_the_specs():
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")) + sorted(
            (ROOT / "exercises").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert "points" not in nb.metadata.get("rnnbook", {}), path


def test_a_long_hint_becomes_a_stub_of_short_lines_with_the_whole_message():
    src = ("def f(x):\n    # BEGIN SOLUTION\n"
           "    # HINT: count the examples first (the last target is the last value of the\n"
           "    #   series), then slice \"X[i]\" and Y[i]\n"
           "    # a comment that is not part of the hint\n    return x\n    # END SOLUTION")
    stub = gen.strip_solutions(src)
    assert all(len(line) <= 79 for line in stub.splitlines()), stub
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError) as err:
        namespace["f"](1)
    assert str(err.value) == ('count the examples first (the last target is the last value of '
                              'the series), then slice "X[i]" and Y[i]')


def test_code_lines_of_solutions_and_exercises_fit_79_characters():
    """The exercise cells (the set-up cell is stamped from rnnbook/exercises.py for every
    notebook, the book's included, and is checked with the book)."""
    long = []
    for folder in ("solutions", "exercises"):
        for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or "setup" in cell.metadata.get("tags", []):
                    continue
                long += [f"{folder}/{path.name} cell {i}: {len(line)}"
                         for line in cell.source.splitlines() if len(line) > 79]
    assert not long, long
