"""Sphinx extension for the book build: MathJax served from the book itself, and a clean console.

The HTML book must typeset its math offline (and in CI, which has no internet). The
``django-static-mathjax`` package (in requirements.txt, no dependencies) ships MathJax 3.2; this
extension copies the files the pages load into ``_static/mathjax/`` and points Sphinx at them.
Listed in ``_config.yml`` under ``sphinx: extra_extensions``.

It also drops script tags that a page would include twice: with Jupyter Book 1.0.4 the inline
``const THEBE_JS_URL = ...`` snippet of sphinx-thebe lands twice on every page, and the second
copy throws "Identifier 'THEBE_JS_URL' has already been declared" in the reader's console.

And it gives the bibliography's entries a role that screen readers know: docutils marks each entry
of a ``role="list"`` with ``role="doc-biblioentry"``, a DPUB-ARIA role that is deprecated, so a
list of them is a list without items (axe-core: ``aria-required-children``, critical). Each entry
becomes a ``role="listitem"``.

Finally, a change to the book's own ``_static/`` files (the course CSS) rebuilds every page.
Sphinx alone copies static files only when some page is out of date, so after an edit of
``_static/rnnbook.css`` alone an incremental build would keep serving the old stylesheet.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

# The combined TeX+MathML component, its fonts, and what it may load on demand.
MATHJAX_FILES = ["tex-mml-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2",
                 "a11y", "ui"]


def mathjax_source() -> Path:
    try:
        import mathjax
    except ImportError:
        raise RuntimeError("MathJax is missing: pip install -r requirements.txt "
                           "(it provides django-static-mathjax)") from None
    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _copy_mathjax(app) -> None:
    if app.builder.format != "html":
        return
    source = mathjax_source()
    target_root = Path(app.doctreedir).parent / "mathjax_static"
    target = target_root / "mathjax"
    for rel in MATHJAX_FILES:
        src, dst = source / rel, target / rel
        if dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
    if str(target_root) not in app.config.html_static_path:
        app.config.html_static_path.append(str(target_root))


def _use_local_mathjax(app, config) -> None:
    config.mathjax_path = "mathjax/tex-mml-chtml.js"  # relative to _static


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""  # None and "" both mean inline
        key = (str(filename), repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


_BIBLIOENTRY = re.compile(r'(<div class="citation"[^>]*?) role="doc-biblioentry"')


def _accessible_bibliography(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body")
    if body and "doc-biblioentry" in body:
        context["body"] = _BIBLIOENTRY.sub(r'\1 role="listitem"', body)


def _static_digest(app) -> str:
    static = Path(app.confdir) / "_static"
    digest = hashlib.sha256()
    for path in sorted(static.rglob("*")) if static.is_dir() else []:
        if path.is_file():
            digest.update(path.relative_to(static).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _rebuild_on_static_change(app, env, added, changed, removed) -> list[str]:
    digest = _static_digest(app)
    if getattr(env, "rnnbook_static_digest", None) == digest:
        return []
    env.rnnbook_static_digest = digest
    return sorted(env.found_docs - added - changed - removed)


def setup(app):
    app.connect("env-get-outdated", _rebuild_on_static_change)
    app.connect("html-page-context", _drop_duplicate_scripts)
    app.connect("html-page-context", _accessible_bibliography)
    app.connect("config-inited", _use_local_mathjax)
    app.connect("builder-inited", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
