"""ruff, configured in pyproject.toml ([tool.ruff]), over the package, the tests and the scripts,
and pyflakes' checks over every notebook (undefined names, unused imports, shadowing).

Fix most findings with ``ruff check --fix rnnbook tests scripts``; see them with
``ruff check rnnbook tests scripts`` (or one notebook: ``ruff check book/07_lstm.ipynb``).
The notebooks' line length (79) is checked by tests/test_notebooks.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import ROOT

NOTEBOOKS = sorted(p for folder in ("book", "solutions", "exercises")
                   for p in (ROOT / folder).glob("*.ipynb"))


def ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                           "--output-format", "concise", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_the_configuration_holds_the_code_to_its_rules():
    """The configuration is read and bites: a long line and an unused import are reported."""
    code = "import os\n\nVALUE = " + repr("x" * 100) + "\n"
    proc = ruff("--stdin-filename", "rnnbook/example.py", "-", stdin=code)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "E501" in proc.stdout and "F401" in proc.stdout
    ok = ruff("--stdin-filename", "rnnbook/example.py", "-", stdin="VALUE = 1\n")
    assert ok.returncode == 0, ok.stdout + ok.stderr


@pytest.mark.parametrize("folder", ["rnnbook", "tests", "scripts"])
def test_python_code_passes_ruff(folder):
    proc = ruff(folder)
    assert proc.returncode == 0, (f"ruff check {folder} (fix most with --fix):\n"
                                  + (proc.stdout + proc.stderr)[-6000:])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS])
def test_notebook_code_passes_pyflakes(path):
    proc = ruff(str(path.relative_to(ROOT)))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
