"""The benchmark's bookkeeping (the benchmark itself is run by hand: python -m rnnbook.bench)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from helpers import ROOT
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
            {"notebook": "book/02.ipynb", "seconds": 95.0, "status": "ok"}]
    text = bench.report(rows, {"07_lstm:speed_x": 3.0}, {"build_cold": 50.0, "build_cached": 9.0},
                        {"tests": 420.0, "tests_status": "ok", "tests_summary": "300 passed"})
    assert "| book/01.ipynb | 12.0 | 90 | ok, ok |" in text
    assert "| book/02.ipynb | 95.0 | 90 | ok, OVER |" in text
    assert "| **all notebooks** | 107.0 |" in text
    assert "| 07_lstm:speed_x | 3.00 |" in text
    assert "| from cache | 9.0 | 30 |" in text
    assert "420.0 s" in text and "300 passed" in text


GPU_CHECK = ROOT / "scripts" / "gpu_check.sh"
# What rnnbook.glue.glue("speed_demo_ratio", 2.5) stores, without importing myst-nb (slow).
GLUE_SPEED = """from IPython.display import display
prefix = "application/papermill.record/"
display({prefix + "text/plain": "2.5"}, raw=True, metadata={"scrapbook": {
    "name": "speed_demo_ratio", "mime_prefix": prefix}})"""


def _notebook(path, *sources):
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def test_gpu_check_refuses_to_run_without_a_gpu(tmp_path):
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}  # no nvidia-smi on this PATH
    proc = subprocess.run([str(GPU_CHECK), "--out", str(tmp_path / "r.json")], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "nvidia-smi not found" in proc.stderr
    assert not (tmp_path / "r.json").exists()


def test_gpu_check_dry_run_times_notebooks_stops_a_slow_one_and_writes_json(tmp_path):
    """The script's logic on a CPU: per-notebook limit, glued speeds, LSTM ratio, JSON."""
    fast = _notebook(tmp_path / "fast.ipynb",
                     GLUE_SPEED + "\nimport os\nos.environ['RNNBOOK_SMOKE']")
    slow = _notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(600)")
    out = tmp_path / "results.json"
    proc = subprocess.run([str(GPU_CHECK), "--dry-run", "--limit", "12", "--out", str(out),
                           str(fast), str(slow)], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the slow one timed out
    results = json.loads(out.read_text())
    assert results["dry_run"] is True and results["gpu"]["name"].startswith("none")
    by_name = {Path(n["notebook"]).name: n for n in results["notebooks"]}
    assert by_name["fast.ipynb"]["status"] == "ok", by_name
    assert by_name["slow.ipynb"]["status"].startswith("timeout"), by_name
    assert results["speeds"] == {"fast:speed_demo_ratio": 2.5}
    lstm = results["lstm"]
    assert lstm["cudnn"] is False and lstm["generic_vs_cudnn_train_step"] > 0
    assert "generic / cuDNN" in proc.stdout and "timeout" in proc.stdout
    assert bench.gpu_results(out) is None, "a dry run's numbers must never reach the book"


def test_gpu_results_are_read_for_the_book(tmp_path):
    assert bench.gpu_results(tmp_path / "absent.json") is None
    path = tmp_path / "gpu_results.json"
    path.write_text(json.dumps({"gpu": {"name": "NVIDIA H100"}, "dry_run": False,
                                "lstm": {"generic_vs_cudnn_train_step": 7.5}}))
    assert bench.gpu_results(path)["gpu"]["name"] == "NVIDIA H100"
