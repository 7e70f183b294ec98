"""Spread the suite over pytest-xdist's workers (``--dist loadgroup``, see pyproject.toml).

Tests that must share one process stay together: the cells of a notebook (nbval runs them in
one kernel, in order) and the modules whose fixtures are expensive to build twice (the graded
batch, the built HTML book, a running JupyterLab, a fresh virtual environment, a probed kernel
set-up, the smoke runs' shared kernel). Every other test is scheduled on its own, so that no
worker idles while the other finishes a long file.
"""

from pathlib import Path

import pytest

#: modules whose tests share a costly module-scoped fixture
SHARED_FIXTURE_MODULES = {"test_grade.py", "test_html_book.py", "test_jupyterlab.py",
                          "test_colab_setup.py", "test_setup.py", "test_smoke.py"}


def xdist_group_of(item) -> str | None:
    path = Path(str(item.fspath))
    if path.suffix == ".ipynb":
        return str(path)
    if path.name in SHARED_FIXTURE_MODULES:
        return path.name
    params = getattr(getattr(item, "callspec", None), "params", {})
    if path.name == "test_checks.py" and "chapter" in params:
        return f"{path.name}::{params['chapter']}"  # one solved notebook per chapter
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        group = xdist_group_of(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(name=group))
