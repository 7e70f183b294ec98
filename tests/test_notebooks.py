"""Notebook hygiene: the layout, executed outputs nbval can compare, and no noise in them.

Strict nbval (`pytest --nbval`) re-runs book/ and solutions/ and compares every stored output; the
tests here make sure there is something to compare and nothing that should not be there.
"""

from __future__ import annotations

import re

import nbformat
import pytest
import yaml

from helpers import ROOT
from rnnbook.notebooks import unexecuted_cells

STEMS = ["01_time_series", "02_rnn", "03_bidirectional_rnn", "04_deep_rnn", "05_gradient_problem",
         "06_gates", "07_lstm", "08_gru", "09_irnn"]
EXECUTED = sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
ALL = EXECUTED + sorted((ROOT / "exercises").glob("*.ipynb"))
NOISE = [
    (re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d"), "a TensorFlow/absl log line"),
    (re.compile(r"oneDNN custom|cudart|Could not find cuda|TF-TRT|XLA service"),
     "a device log line"),
    (re.compile(r"\d+/\d+ \S*\s*━|\d+m?s/step|ETA:"), "a Keras progress bar or timing"),
    (re.compile(r"/tmp/|/root/|/home/|\\\\Users\\\\"), "a machine-specific path"),
    (re.compile(r"Warning|WARNING"), "a warning"),
    (re.compile(r" at 0x[0-9a-f]{6,}"), "a memory address"),
]


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def output_texts(cell):
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            yield out.name, out.text
        elif out.output_type in ("execute_result", "display_data"):
            yield "data", out.data.get("text/plain", "")
        elif out.output_type == "error":
            yield "error", f"{out.ename}: {out.evalue}"


def test_every_chapter_has_its_three_notebooks_and_a_toc_entry():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for stem in STEMS:
        for folder in ("book", "solutions", "exercises"):
            assert (ROOT / folder / f"{stem}.ipynb").exists(), f"{folder}/{stem}.ipynb is missing"
        assert f"book/{stem}" in files and f"exercises/{stem}" in files
    for file in files:
        assert list(ROOT.glob(f"{file}.*")), f"_toc.yml names {file}, which does not exist"


@pytest.mark.parametrize("path", EXECUTED, ids=ids(EXECUTED))
def test_every_code_cell_was_executed_top_to_bottom_in_one_run(path):
    assert unexecuted_cells(path) == [], "execute it: python -m rnnbook.notebooks " + str(path)
    nb = nbformat.read(path, as_version=4)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert counts == list(range(1, len(counts) + 1)), "cells were run out of order or twice"


@pytest.mark.parametrize("path", EXECUTED, ids=ids(EXECUTED))
def test_stored_outputs_have_no_errors_or_noise(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        for kind, text in output_texts(cell):
            assert kind not in ("error", "stderr"), f"cell {i} stored {kind}: {text[:300]}"
            for line in text.splitlines():
                for pattern, what in NOISE:
                    assert not pattern.search(line), f"cell {i} stores {what}: {line[:200]!r}"


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_first_cell_is_the_setup_cell_and_training_is_silent(path):
    nb = nbformat.read(path, as_version=4)
    assert "setup" in nb.cells[0].metadata.get("tags", []), "stamp it: python -m rnnbook.exercises"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for call in re.findall(r"\.fit\((?:[^()]|\([^()]*\))*\)", cell.source, re.S):
            assert "verbose=0" in call, f"cell {i}: fit(...) without verbose=0 prints timings"
        assert "import *" not in cell.source, f"cell {i}: no star imports"


@pytest.mark.parametrize("path", EXECUTED, ids=ids(EXECUTED))
def test_every_figure_has_alt_text_and_a_caption(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            mystnb = cell.metadata.get("mystnb", {})
            assert mystnb.get("image", {}).get("alt"), f"cell {i}: figure without alt text"
            assert mystnb.get("figure", {}).get("caption"), f"cell {i}: figure without caption"


BOOK = sorted((ROOT / "book").glob("*.ipynb"))


CHAPTERS = [p for p in BOOK if re.match(r"\d\d_", p.name)]
PAGES = [p for p in BOOK if p not in CHAPTERS]  # e.g. the closing "Where next" page


def _markdown_and_headings(path):
    nb = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return markdown, re.findall(r"^#+ (.+)$", markdown, re.M)


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_a_chapter_has_objectives_summary_recall_questions_and_exercises(path):
    markdown, headings = _markdown_and_headings(path)
    assert len(re.findall(r"^# ", markdown, re.M)) == 1, "one H1 (the title) per chapter"
    for needed in ("Overview", "Learning objectives", "Summary", "Recall questions", "Exercises"):
        assert any(needed.lower() in h.lower() for h in headings), f"no '{needed}' heading"
    assert f"exercises/{path.stem}" in markdown, "link the chapter's exercise notebook"
    assert "{cite" in markdown, "cite the papers the chapter builds on"


@pytest.mark.parametrize("path", PAGES, ids=ids(PAGES))
def test_a_closing_page_has_objectives_summary_and_recall_questions(path):
    """Pages that are not chapters (no exercise notebook) still teach like a chapter."""
    markdown, headings = _markdown_and_headings(path)
    assert len(re.findall(r"^# ", markdown, re.M)) == 1, "one H1 (the title) per page"
    for needed in ("Overview", "Learning objectives", "Summary", "Recall questions"):
        assert any(needed.lower() in h.lower() for h in headings), f"no '{needed}' heading"
    assert "{cite" in markdown, "cite the papers the page builds on"


WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("path", BOOK, ids=ids(BOOK))
def test_every_widget_has_a_static_figure_beside_it(path):
    """Readers of the HTML (offline, or a PDF) see no live widget: a figure must show its point."""
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if not any(WIDGET in o.get("data", {}) for o in cell.get("outputs", [])):
            continue
        near = nb.cells[max(0, i - 3): i + 4]
        assert any("image/png" in o.get("data", {}) for c in near for o in c.get("outputs", [])), (
            f"cell {i}: a widget with no static figure within three cells")
        text = " ".join(c.source for c in near if c.cell_type == "markdown").lower()
        assert "widget" in text or "slider" in text, (
            f"cell {i}: say in the text what the widget lets the reader explore")


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_no_execution_timestamps_or_editor_metadata(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        for key in ("execution", "ExecuteTime", "jupytext"):
            assert key not in cell.metadata, f"cell {i} stores {key!r} metadata (timestamps/noise)"
    assert "widgets" not in nb.metadata, "stored widget state is machine-specific noise"


@pytest.mark.parametrize("path", BOOK, ids=ids(BOOK))
def test_the_cpu_gpu_switch_is_visible(path):
    """A reader can flip the size of the settings by hand, in the chapter's imports cell."""
    nb = nbformat.read(path, as_version=4)
    assert any(re.search(r"settings = start\(seed=\d+, large=None\)", c.source)
               for c in nb.cells if c.cell_type == "code")


MAX_CODE_LINE = 79  # the HTML book's code column holds 80 characters at 1280 px (_static/)


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_code_lines_fit_the_page(path):
    """A longer line scrolls sideways in the HTML book, and readers lose its end."""
    nb = nbformat.read(path, as_version=4)
    long = [f"  cell {i}, line {n} ({len(line)} characters): {line}"
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for n, line in enumerate(cell.source.splitlines(), 1) if len(line) > MAX_CODE_LINE]
    assert not long, (f"{len(long)} code lines over {MAX_CODE_LINE} characters (break long "
                      "calls and strings):\n" + "\n".join(long[:20]))
