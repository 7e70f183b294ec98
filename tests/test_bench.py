"""The benchmark's bookkeeping (the benchmark itself is run by hand: python -m rnnbook.bench)."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from rnnbook import bench


def test_glued_speed_ratios_are_collected_and_others_ignored():
    def glued(name, value):  # what myst_nb.glue(name, value, display=False) stores
        prefix = "application/papermill.record/"
        return new_output("display_data", data={f"{prefix}text/plain": value},
                          metadata={"scrapbook": {"name": name, "mime_prefix": prefix}})

    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        glued("speed_lstm_fused_vs_scratch", "12.5"), glued("loss", "0.1"),
        glued("speed_note", "'n/a on CPU'")])])
    nb = nbformat.from_dict(nb)
    assert bench.glued_speeds(nb) == {"speed_lstm_fused_vs_scratch": 12.5,
                                      "speed_note": "'n/a on CPU'"}


def test_the_report_flags_a_notebook_over_its_floor():
    rows = [{"notebook": "book/01.ipynb", "seconds": 12.0, "status": "ok"},
            {"notebook": "book/02.ipynb", "seconds": 75.0, "status": "ok"}]
    text = bench.report(rows, {"07_lstm:speed_x": 3.0}, {"build_cold": 50.0, "build_cached": 9.0},
                        {"tests": 420.0, "tests_status": "ok", "tests_summary": "300 passed"})
    assert "| book/01.ipynb | 12.0 | 60 | ok, ok |" in text
    assert "| book/02.ipynb | 75.0 | 60 | ok, OVER |" in text
    assert "| **all notebooks** | 87.0 |" in text
    assert "| 07_lstm:speed_x | 3.00 |" in text
    assert "| from cache | 9.0 | 30 |" in text
    assert "420.0 s" in text and "300 passed" in text
