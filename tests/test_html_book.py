"""The HTML book as a reader sees it: build it, then open every page in headless Chromium.

Each page must load with no console errors, have its math typeset by MathJax (served from the
book itself, see rnnbook/sphinxext.py), show every image, have one H1, and link only to pages and
anchors that exist; notebook pages must have a Colab launch button pointing at their notebook. No
code or output block may scroll sideways in a 1280-px window (long outputs wrap, see
_static/rnnbook.css; code lines are <= 79 characters, see tests/test_notebooks.py). A screenshot
of each page is saved under _build/screenshots/ for a person to look at.

Accessibility: axe-core (bundled with axe-playwright-python, so it runs offline) checks every page
against WCAG 2.1 A and AA, in light and in dark mode; a serious or critical violation fails.
Figures must stay legible in dark mode: opaque pixels, and no filter that inverts them. Each
page's violations of every impact are saved under _build/accessibility/.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import subprocess
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import pytest
import yaml

from helpers import ROOT, chromium
from rnnbook.bench import JUPYTER_BOOK
from rnnbook.exercises import repository_url

HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
AXE_REPORTS = ROOT / "_build" / "accessibility"
VIEWPORT = {"width": 1280, "height": 900}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")
SCROLL_TOLERANCE_PX = 20
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
        warnings = [line for line in (proc.stdout + proc.stderr).splitlines()
                    if "WARNING" in line or "ERROR" in line]
        pytest.fail("the book build failed (log in _build/build-failure.log):\n"
                    + "\n".join(warnings[:30]))
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
    yield from chromium(CHROMIUM_ARGS)


def colab_url(page: str) -> str:
    repo = urlparse(repository_url()).path.strip("/")
    branch = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["branch"]
    return f"https://colab.research.google.com/github/{repo}/blob/{branch}/{page}.ipynb"


def anchors(html_file: Path) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html_file.read_text(errors="replace")))


class OpenedPage:
    """One page, loaded once in a light-mode tab, for all of its tests (a page load with its
    MathJax typesetting is the costly part)."""

    def __init__(self, page, server, browser):
        self.page, self.url = page, urljoin(server, f"{page}.html")
        self.context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
        self.tab = self.context.new_page()
        self.errors = []
        self.tab.on("console",
                    lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.tab.on("pageerror", lambda e: self.errors.append(str(e)))
        self.tab.on("requestfailed", lambda r: self.errors.append(f"failed to load {r.url}"))
        self.response = self.tab.goto(self.url, wait_until="load")
        self.math = self.tab.locator(".math").count()
        if self.math:
            self.tab.wait_for_function("() => window.MathJax && MathJax.startup"
                                       " && MathJax.startup.promise", timeout=20_000)
            self.tab.evaluate("() => MathJax.startup.promise")

    def use_scheme(self, scheme: str) -> None:
        """The reader's system setting (the theme follows it: html_context.default_mode auto)."""
        self.tab.emulate_media(color_scheme=scheme)
        self.tab.wait_for_function("s => document.documentElement.dataset.theme === s",
                                   arg=scheme)
        # The theme's colours change through CSS transitions: measure them once they end.
        self.tab.evaluate("""() => Promise.all(document.getAnimations()
            .filter(a => a instanceof CSSTransition).map(a => a.finished.catch(() => null)))""")


@pytest.fixture(scope="module", params=toc_pages())
def opened(request, server, browser):
    """Tests are grouped by page (a module-scoped parameter), so each page loads once."""
    page = OpenedPage(request.param, server, browser)
    yield page
    page.context.close()


def test_page_renders_for_a_reader(opened, server, built_book):
    page, tab, errors, response = opened.page, opened.tab, opened.errors, opened.response
    assert response is not None and response.ok, f"{page}: HTTP {response and response.status}"

    math = opened.math
    if math:
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
    too_wide = sideways_scrolling_blocks(tab)
    assert errors == [], f"{page}: console errors: {errors[:5]}"
    assert too_wide == [], (f"{page}: {len(too_wide)} code/output blocks scroll sideways at "
                            f"{VIEWPORT['width']} px:\n" + "\n".join(too_wide[:15]))


# Every code and output block, with collapsed ones opened first (a reader may open them).
SCROLLING_BLOCKS_JS = """tolerance => {
    document.querySelectorAll('article details').forEach(d => { d.open = true; });
    const cells = [...document.querySelectorAll('article div.cell')];
    const blocks = document.querySelectorAll(
        'article pre, article div.cell_output, article div.cell_output > div.output, '
        + 'article .pst-scrollable-table-container');
    return [...blocks].filter(b => b.scrollWidth - b.clientWidth > tolerance).map(b => {
        const cell = b.closest('div.cell');
        const where = cell ? `cell ${cells.indexOf(cell) + 1} of the page, `
            + (b.closest('div.cell_output') ? 'output' : 'code') : 'a block in the text';
        const lines = b.textContent.split('\\n');
        const longest = lines.reduce((a, l) => l.length > a.length ? l : a, '');
        return `  ${where}: ${b.scrollWidth - b.clientWidth} px too wide; longest line `
            + `(${longest.length} characters): ${JSON.stringify(longest.slice(0, 100))}`;
    });
}"""


def sideways_scrolling_blocks(tab) -> list[str]:
    """Code and output blocks wider than their box (they would scroll sideways), described."""
    return tab.evaluate(SCROLLING_BLOCKS_JS, SCROLL_TOLERANCE_PX)


# Code is highlighted token by token: thousands of <span>s, which make axe slow (its cost grows
# with the size of the DOM). Spans with the same class, colour, font and background have the same
# contrast, so one span of each kind is kept and the others are replaced by their plain text
# (the spans carry no semantics: no role, no attribute but the class) before axe runs.
MERGE_DUPLICATE_TOKENS_JS = """() => {
    const seen = new Set(), duplicates = [];
    for (const span of document.querySelectorAll('div.highlight pre span')) {
        const style = getComputedStyle(span);
        const pre = span.closest('pre');
        const key = [span.className, style.color, style.fontSize, style.fontWeight,
                     style.backgroundColor, getComputedStyle(pre).backgroundColor].join('|');
        if (seen.has(key) && span.children.length === 0) duplicates.push(span);
        else seen.add(key);
    }
    duplicates.forEach(span => span.replaceWith(document.createTextNode(span.textContent)));
    return duplicates.length;
}"""

# In dark mode a figure must keep opaque pixels (black text on a transparent background vanishes
# on the dark page) and must not be inverted by the theme.
DARK_FIGURES_JS = """() => [...document.querySelectorAll('article div.cell_output img')]
  .map(img => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let transparent = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] < 255) transparent++;
    const style = getComputedStyle(img);
    return {src: img.src.split('/').pop(), transparent: transparent / (data.length / 4),
            filter: style.filter, opacity: style.opacity};
})"""


def axe_violations(tab) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    tab.evaluate(MERGE_DUPLICATE_TOKENS_JS)
    results = Axe().run(tab, options={"runOnly": {"type": "tag", "values": WCAG_21_AA},
                                      "resultTypes": ["violations"]})
    return results.response["violations"]


def describe(violation: dict) -> str:
    nodes = violation["nodes"]
    lines = [f"  {violation['id']} ({violation['impact']}): {violation['help']} -- "
             f"{len(nodes)} element(s), {violation['helpUrl']}"]
    for node in nodes[:4]:
        summary = " ".join(node.get("failureSummary", "").split())
        lines.append(f"    {' '.join(map(str, node['target']))}: {summary[:300]}")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_page_is_accessible(opened, scheme):
    page = opened.page
    opened.use_scheme(scheme)
    violations = axe_violations(opened.tab)
    figures = opened.tab.evaluate(DARK_FIGURES_JS) if scheme == "dark" else []
    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    (AXE_REPORTS / f"{page.replace('/', '__')}__{scheme}.json").write_text(
        json.dumps(violations, indent=1))
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    assert failing == [], (f"{page}, {scheme} mode: WCAG 2.1 AA violations (axe-core):\n"
                           + "\n".join(describe(v) for v in failing))
    for fig in figures:
        assert fig["transparent"] == 0, (
            f"{page}, dark mode: figure {fig['src']} has transparent pixels "
            f"({fig['transparent']:.0%}): save it on an opaque white background "
            "(rnnbook.plotting.use_course_style)")
        assert "invert" not in fig["filter"] and float(fig["opacity"]) == 1.0, (
            f"{page}, dark mode: the theme alters figure {fig['src']}: filter "
            f"{fig['filter']}, opacity {fig['opacity']}")
