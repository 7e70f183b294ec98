"""Shared test helpers: chapters present, solution and stub functions, known mistakes, Chromium."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def chapters_with_exercises() -> list[str]:
    """The chapters of ``_toc.yml`` (the one list of chapters; a test checks that every folder
    agrees with it)."""
    from rnnbook.checks.store import chapters

    return chapters(ROOT)


def exercise_namespace(notebook: Path) -> dict:
    """Execute the imports cell and every exercise cell of a notebook; return the namespace.

    Authors' convention: an exercise cell (one with a BEGIN SOLUTION region in the solutions)
    needs only the notebook's imports cell and the exercise cells before it. For an exercise
    notebook the same cells are the stubs.
    """
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or "setup" not in code[0].metadata.get("tags", []):
        raise AssertionError(f"{notebook}: the first code cell must be the set-up cell")
    solutions = nbformat.read(ROOT / "solutions" / notebook.name, as_version=4)
    marked = {c.id for c in solutions.cells if "# BEGIN SOLUTION" in c.source}
    namespace: dict = {}
    for i, cell in enumerate(code):
        if i == 1 or cell.id in marked:
            exec(compile(cell.source, f"{notebook.name}[{cell.id}]", "exec"), namespace)
    return namespace


def define(namespace: dict, source: str, name: str = "cell") -> dict:
    """Run ``source`` as a notebook cell would (its own file name, so tracebacks point at it)."""
    import linecache

    filename = f"<{name}>"
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)
    ns = dict(namespace)
    exec(compile(source, filename, "exec"), ns)
    return ns


def mistakes(chapter: str) -> dict:
    path = ROOT / "solutions" / "mistakes" / f"{chapter}.py"
    spec = importlib.util.spec_from_file_location(f"mistakes_{chapter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MISTAKES


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def chromium(args: list[str]):
    """Debian's headless Chromium, driven by Playwright: a generator for a module fixture."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: apt-get install chromium "
                    "(listed in .ci/apt-packages)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        yield browser
        browser.close()
