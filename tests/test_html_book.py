"""The HTML book as a reader sees it: build it, then open every page in headless Chromium.

Each page must load with no console errors, have its math typeset by MathJax (served from the book
itself, see rnnbook/sphinxext.py), show every image, have one H1, and link only to pages and anchors
that exist; notebook pages must have a Colab launch button pointing at their notebook. A screenshot
of each page is saved under _build/screenshots/ for a person to look at.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import pytest
import yaml

from helpers import ROOT
from rnnbook.bench import JUPYTER_BOOK
from rnnbook.exercises import repository_url

HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


@pytest.fixture(scope="module")
def built_book():
    """Build the book with the README's command (warnings are errors)."""
    proc = subprocess.run(JUPYTER_BOOK + ["build", ".", "-W", "-n",
                           "--keep-going"], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        (ROOT / "_build").mkdir(exist_ok=True)
        (ROOT / "_build" / "build-failure.log").write_text(proc.stdout + proc.stderr)
        warnings = [l for l in (proc.stdout + proc.stderr).splitlines() if "WARNING" in l or "ERROR" in l]
        pytest.fail("the book build failed (log in _build/build-failure.log):\n" + "\n".join(warnings[:30]))
    return HTML


@pytest.fixture(scope="module")
def server(built_book):
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: apt-get install chromium "
                    "(listed in .ci/apt-packages)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def colab_url(page: str) -> str:
    repo = urlparse(repository_url()).path.strip("/")
    return f"https://colab.research.google.com/github/{repo}/blob/main/{page}.ipynb"


def anchors(html_file: Path) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html_file.read_text(errors="replace")))


@pytest.mark.parametrize("page", toc_pages())
def test_page_renders_for_a_reader(page, server, browser, built_book):
    url = urljoin(server, f"{page}.html")
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("requestfailed", lambda r: errors.append(f"failed to load {r.url}"))
    response = tab.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{page}: HTTP {response and response.status}"

    math = tab.locator(".math").count()
    if math:
        tab.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                              timeout=20_000)
        tab.evaluate("() => MathJax.startup.promise")
        typeset = tab.locator("mjx-container").count()
        assert typeset >= math, f"{page}: MathJax typeset {typeset} of {math} formulas"
    text = tab.locator("article").inner_text()
    assert "$$" not in text and "\\begin{" not in text, f"{page}: raw TeX left in the page"

    broken = tab.evaluate("""() => [...document.querySelectorAll('article img')]
        .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)""")
    assert broken == [], f"{page}: images that did not load: {broken}"
    no_alt = tab.evaluate("""() => [...document.querySelectorAll('article img')]
        .filter(i => !i.alt).map(i => i.src)""")
    assert no_alt == [], f"{page}: images without alt text: {no_alt}"
    assert tab.locator("article h1").count() == 1, f"{page}: a page has exactly one H1"

    if page.startswith(("book/", "exercises/")):
        hrefs = tab.evaluate("""() => [...document.querySelectorAll('a')].map(a => a.href)
            .filter(h => h.includes('colab.research.google.com'))""")
        assert colab_url(page) in hrefs, f"{page}: Colab button {hrefs} != {colab_url(page)}"

    links = tab.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    for link in links:
        if not link.startswith(server):
            continue
        target, fragment = urldefrag(link)
        path = built_book / unquote(urlparse(target).path).lstrip("/")
        if path.is_dir():
            path = path / "index.html"
        assert path.exists(), f"{page}: broken link {link}"
        if fragment and path.suffix == ".html":
            assert fragment in anchors(path), f"{page}: link to a missing anchor {link}"

    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{page.replace('/', '__')}.png"), full_page=False)
    tab.close()
    assert errors == [], f"{page}: console errors: {errors[:5]}"
