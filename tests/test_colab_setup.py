"""The notebooks' first cell: on Colab it installs rnnbook; elsewhere it does nothing visible.

The Colab branch is exercised for real: a fresh virtual environment that cannot see the course
package runs the set-up cell taken from a notebook, with a locally built wheel standing in for the
repository (RNNBOOK_SOURCE) and pip forbidden to use the network.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import sysconfig
import venv

import nbformat
import pytest

from helpers import ROOT


def setup_source(notebook="exercises/02_rnn.ipynb") -> str:
    cell = nbformat.read(ROOT / notebook, as_version=4).cells[0]
    assert "setup" in cell.metadata.tags
    return cell.source


def test_elsewhere_the_cell_prints_nothing_and_installs_nothing(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        exec(setup_source(), {})
    assert calls == [] and out.getvalue() == ""
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3" and os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"


def test_every_notebook_has_the_same_setup_cell():
    sources = {setup_source(str(p.relative_to(ROOT)))
               for folder in ("book", "solutions", "exercises")
               for p in sorted((ROOT / folder).glob("*.ipynb"))}
    assert len(sources) == 1


def test_the_setup_cell_installs_from_the_repository_named_in_the_config():
    """Publishing under another URL: change _config.yml, re-stamp (python -m rnnbook.exercises)."""
    from rnnbook.exercises import repository_url

    url = repository_url()
    assert f"git+{url}" in setup_source(), (
        f"the set-up cells do not install from {url} (_config.yml): "
        "run python -m rnnbook.exercises")


@pytest.fixture(scope="module")
def colab_like_env(tmp_path_factory):
    """A venv without rnnbook that still sees this machine's numpy, matplotlib, nbformat..."""
    tmp = tmp_path_factory.mktemp("colab")
    venv.create(tmp / "venv", with_pip=True)
    python = tmp / "venv" / "bin" / "python"
    site = subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip()
    # A plain path line: the packages are importable, but their .pth files (among them the
    # editable install of rnnbook) are not run, so rnnbook stays invisible, as on Colab.
    (tmp / "venv" / "lib").joinpath(os.path.relpath(site, tmp / "venv" / "lib"), "system.pth") \
        .write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheels = tmp / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", wheels, ROOT], check=True, capture_output=True)
    (wheel,) = wheels.glob("rnnbook-*.whl")
    return python, wheel, tmp


def run_cell(python, source, env, cwd):
    code = (f"exec({source!r})\n"
            "import importlib.util; print(importlib.util.find_spec('rnnbook') is not None)")
    return subprocess.run([python, "-c", code], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_on_colab_the_cell_installs_the_package_with_its_data(colab_like_env):
    python, wheel, tmp = colab_like_env
    env = {**os.environ, "RNNBOOK_SOURCE": str(wheel), "PIP_NO_INDEX": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    before = subprocess.run([python, "-c", "import rnnbook"], cwd=tmp, env=env,
                            capture_output=True)
    assert before.returncode != 0, "the test venv must not see rnnbook before the cell runs"
    first = run_cell(python, setup_source(), env, tmp)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.strip() == "True"
    check = ("from rnnbook.data import load_sunspots; "
             "from rnnbook.checks import visible_expected; import json; "
             "print(json.dumps([len(load_sunspots()[1]), sorted(visible_expected('02_rnn'))]))")
    data = subprocess.run([python, "-c", check], cwd=tmp, capture_output=True, text=True, env=env)
    assert data.returncode == 0, data.stderr[-2000:]
    n, exercises = json.loads(data.stdout)
    assert n == 309 and "cell_step" in exercises
    second = run_cell(python, setup_source(), {**env, "RNNBOOK_SOURCE": "/nonexistent"}, tmp)
    assert second.returncode == 0 and second.stdout.strip() == "True", (
        "second run must not reinstall")
