"""Sphinx extension for the book build: MathJax served from the book itself, and a clean console.

The HTML book must typeset its math offline (and in CI, which has no internet). The
``django-static-mathjax`` package (in requirements.txt, no dependencies) ships MathJax 3.2; this
extension copies the files the pages load into ``_static/mathjax/`` and points Sphinx at them.
Listed in ``_config.yml`` under ``sphinx: extra_extensions``.

It also drops script tags that a page would include twice: with Jupyter Book 1.0.4 the inline
``const THEBE_JS_URL = ...`` snippet of sphinx-thebe lands twice on every page, and the second
copy throws "Identifier 'THEBE_JS_URL' has already been declared" in the reader's console.
"""

from __future__ import annotations

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


def setup(app):
    app.connect("html-page-context", _drop_duplicate_scripts)
    app.connect("config-inited", _use_local_mathjax)
    app.connect("builder-inited", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
