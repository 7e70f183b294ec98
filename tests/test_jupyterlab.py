"""Working through the notebooks locally, in a real JupyterLab driven through Chromium.

A student follows the front page: installs requirements.txt, starts JupyterLab and opens a
notebook. This test does the same, headless: JupyterLab on a random free port of 127.0.0.1 with a
token, serving a temporary folder that holds copies of the notebooks, and Debian's Chromium
driven by Playwright.

- Every widget in the book (found by the widget outputs stored in ``book/``): the notebook is run
  top to bottom in JupyterLab, then each slider (or drop-down) of the widget is moved with the
  mouse (or keyboard) and the figure beside it must change.
- One exercise notebook, round trip: the stub's check fails with its message; the solution code
  is pasted (through the clipboard) into the exercise cell; the check then prints its tick.

Waits are explicit: each run waits for the notebook's run command to finish and the kernel to
report ``idle``, never for a fixed time.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from helpers import ROOT, chromium

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-dev-shm-usage"]
WIDGET = "application/vnd.jupyter.widget-view+json"
RUN_TIMEOUT_MS = 240_000  # one notebook, run top to bottom on a busy 2-core machine
EXERCISE = "02_rnn"  # the notebook of the exercise round trip


def widget_cells() -> list[tuple[str, int]]:
    """(book notebook, cell index) of every cell whose stored output is a widget."""
    found = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if any(WIDGET in out.get("data", {}) for out in cell.get("outputs", [])):
                found.append((f"book/{path.name}", i))
    return found


def widget_notebooks() -> list[str]:
    return sorted({nb for nb, _ in widget_cells()})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A headless JupyterLab serving copies of the notebooks; yields (base URL, token, root)."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "root"
    for folder in ("book", "exercises"):
        shutil.copytree(ROOT / folder, root / folder)
    config = tmp / "config"
    (config / "labconfig").mkdir(parents=True)
    # Nothing may reach the network: no news feed, no update check.
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    (config / "jupyter_server_config.json").write_text(json.dumps({"LabApp": {
        "news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
        "extension_manager": "readonly"}}))
    settings = tmp / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Every cell stays in the page (no virtual scrolling), so cell i is the i-th .jp-Cell.
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "PYTHONPATH": os.pathsep.join(
               p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    token = secrets.token_hex(16)
    log = open(tmp / "jupyterlab.log", "w")
    for _attempt in range(3):  # the free port may be taken between the check and the start
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             "--ServerApp.allow_root=True", "--LabApp.expose_app_in_browser=True"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        if proc.poll() is None and time.monotonic() < deadline:
            break
        proc.kill()
        proc.wait()
    else:
        log.close()
        pytest.fail("JupyterLab did not start:\n" + (tmp / "jupyterlab.log").read_text()[-3000:])
    try:
        yield base, token, root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    yield from chromium(CHROMIUM_ARGS)


class Lab:
    """A notebook open in JupyterLab, driven like a person would (plus the app's own commands)."""

    def __init__(self, browser, lab, notebook: str):
        base, token, _ = lab
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{base}/lab/tree/{notebook}?token={token}")
        self.page.wait_for_function(
            """name => { const w = window.jupyterapp && jupyterapp.shell.currentWidget;
                return w && w.context && w.context.path.endsWith(name)
                    && w.context.isReady && w.content.widgets.length > 0; }""",
            arg=Path(notebook).name, timeout=120_000)
        self.wait_idle()

    def close(self):
        self.context.close()

    def wait_idle(self, timeout: int = RUN_TIMEOUT_MS):
        """Until the notebook's kernel is started and reports idle, and no cell is queued."""
        self.page.wait_for_function(
            """() => { const w = jupyterapp.shell.currentWidget;
                const k = w.sessionContext.session && w.sessionContext.session.kernel;
                if (!k || k.status !== 'idle') return false;
                return ![...document.querySelectorAll('.jp-NotebookPanel .jp-InputPrompt')]
                    .some(p => p.textContent.includes('[*]')); }""", timeout=timeout)

    def command(self, name: str, timeout: int = RUN_TIMEOUT_MS):
        """Run a JupyterLab command (what a menu item does) and wait until it has finished."""
        self.page.evaluate(
            """([name, ms]) => Promise.race([jupyterapp.commands.execute(name),
                new Promise((_, reject) => setTimeout(
                    () => reject(new Error(name + ' did not finish in ' + ms + ' ms')), ms))])""",
            [name, timeout])
        self.wait_idle(timeout)

    def cell(self, index: int):
        return self.page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)

    def outputs_text(self, index: int) -> str:
        return self.cell(index).locator(".jp-OutputArea").inner_text()

    def error_outputs(self) -> list[str]:
        return self.page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output"
                                 "[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()

    def run_cell(self, index: int):
        """Click into a cell and press Shift+Enter, as a person would."""
        cell = self.cell(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Shift+Enter")
        self.wait_idle()


def figure_snapshot(cell) -> list[bytes]:
    """What the figures of a cell look like now (screenshots of its images)."""
    images = cell.locator(".jp-OutputArea img")
    return [images.nth(i).screenshot() for i in range(images.count())]


def wait_for_new_figure(lab: Lab, cell, before: list[bytes], what: str):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lab.wait_idle()
        after = figure_snapshot(cell)
        if after and after != before:
            return
        lab.page.wait_for_timeout(200)  # poll the rendered figure; the kernel is already idle
    pytest.fail(f"the figure did not change after {what}")


@pytest.mark.parametrize("notebook", widget_notebooks())
def test_every_widget_changes_its_figure_in_jupyterlab(notebook, lab, browser):
    cells = [i for nb, i in widget_cells() if nb == notebook]
    session = Lab(browser, lab, notebook)
    try:
        session.command("notebook:run-all-cells")
        errors = session.error_outputs()
        assert not session.page.locator(".jp-NotebookPanel:visible [data-mime-type="
                                        "'application/vnd.jupyter.error']").count(), (
            f"{notebook}: a cell raised when run in JupyterLab")
        assert errors == [], f"{notebook}: stderr output in JupyterLab: {errors[:3]}"
        for index in cells:
            cell = session.cell(index)
            cell.scroll_into_view_if_needed()
            view = cell.locator(".jp-OutputArea .widget-box, .jp-OutputArea .jupyter-widgets")
            view.first.wait_for(state="visible", timeout=30_000)
            assert figure_snapshot(cell), f"{notebook} cell {index}: the widget shows no figure"
            sliders = cell.locator(".widget-slider")
            dropdowns = cell.locator(".widget-dropdown select")
            assert sliders.count() + dropdowns.count() > 0, (
                f"{notebook} cell {index}: no slider or drop-down found in the widget")
            for k in range(sliders.count()):
                slider = sliders.nth(k)
                label = slider.locator(".widget-label").inner_text()
                readout = slider.locator(".widget-readout")
                value = readout.inner_text()
                before = figure_snapshot(cell)
                handle = slider.locator(".noUi-handle")
                box = handle.bounding_box()
                track = slider.locator(".noUi-target").bounding_box()
                # Drag the handle with the mouse towards the far end of the track.
                target_x = (track["x"] + track["width"] * 0.15
                            if box["x"] > track["x"] + track["width"] / 2
                            else track["x"] + track["width"] * 0.85)
                session.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                session.page.mouse.down()
                session.page.mouse.move(target_x, box["y"] + box["height"] / 2, steps=8)
                session.page.mouse.up()
                assert readout.inner_text() != value, (
                    f"{notebook} cell {index}: dragging the slider {label!r} did not move it")
                wait_for_new_figure(session, cell, before,
                                    f"moving the slider {label!r} from {value} to "
                                    f"{readout.inner_text()} ({notebook}, cell {index})")
            for k in range(dropdowns.count()):
                select = dropdowns.nth(k)
                options = select.locator("option").all_inner_texts()
                current = select.input_value()
                before = figure_snapshot(cell)
                select.select_option(index=(options.index(current) + 1) % len(options)
                                     if current in options else 0)
                wait_for_new_figure(session, cell, before,
                                    f"choosing another option in a drop-down ({notebook}, "
                                    f"cell {index})")
        assert session.errors == [], f"{notebook}: errors in the page: {session.errors[:3]}"
    finally:
        session.close()


def solution_cells(stem: str) -> list[tuple[int, str]]:
    """(cell index, solution source) of each exercise cell, matched by cell id."""
    solutions = nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", as_version=4)
    by_id = {c.id: c.source for c in solutions.cells if "# BEGIN SOLUTION" in c.source}
    exercises = nbformat.read(ROOT / "exercises" / f"{stem}.ipynb", as_version=4)
    return [(i, by_id[c.id]) for i, c in enumerate(exercises.cells) if c.id in by_id]


def test_an_exercise_round_trip_in_jupyterlab(lab, browser):
    notebook = f"exercises/{EXERCISE}.ipynb"
    (index, solution), *_ = solution_cells(EXERCISE)
    check_index = index + 1
    nb = nbformat.read(ROOT / notebook, as_version=4)
    assert nb.cells[check_index].source.startswith("check("), "the check follows the exercise"
    session = Lab(browser, lab, notebook)
    try:
        for i in range(check_index + 1):  # Shift+Enter down to the first check
            session.run_cell(i)
        failure = session.outputs_text(check_index)
        assert "is not written yet" in failure and "NotImplementedError" in failure, failure

        # Paste the solution over the stub, as a student pasting their answer would.
        session.page.evaluate("text => navigator.clipboard.writeText(text)", solution)
        editor = session.cell(index).locator(".cm-content")
        editor.click()
        session.page.keyboard.press("Control+A")
        session.page.keyboard.press("Control+V")
        pasted = session.page.evaluate(
            "i => jupyterapp.shell.currentWidget.content.widgets[i].model.sharedModel.getSource()",
            index)
        assert pasted.strip() == solution.strip(), "the pasted code differs from the solution"
        session.run_cell(index)
        session.run_cell(check_index)
        passed = session.outputs_text(check_index)
        assert re.search(r"^✓", passed, re.M), f"the check did not pass after the paste: {passed}"
        assert "Error" not in passed, passed
    finally:
        session.close()
