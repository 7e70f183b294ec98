"""Stored cases and outputs: the package's visible store and the per-chapter answer key.

Two files per chapter, both written only by :mod:`rnnbook.checks.build`:

- ``rnnbook/checks/expected/<chapter>.npz`` (in the package, shipped to students): the
  *visible* cases -- their inputs, the reference outputs and the known mistakes' outputs, which
  the in-notebook checks need;
- ``solutions/keys/<chapter>.npz`` (the **answer key**, never shipped): the same for the visible
  *and* the hidden cases, the points of each exercise, and the hashes that tell whether it is
  stale. The grader reads nothing else.

An archive maps ``"{set}|{exercise}|{case}|{variant}|{i}"`` to the ``i``-th array of a case,
where ``set`` is ``visible`` or ``hidden`` and ``variant`` is ``input``, ``expected``, ``output``
or ``mistake:<key>``; ``__meta__`` holds JSON (the chapter, the case order, the points, the
hashes). Arrays are plain numbers or text: everything loads with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnbook.checks.core import KEY_FORMAT

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO = PACKAGE_DIR.parent  # the checkout, when the package is used from one
VISIBLE_DIR = PACKAGE_DIR / "checks" / "expected"
KEY_DIRNAME = Path("solutions") / "keys"


def pack(results: dict, meta: dict | None = None) -> dict:
    """``{set: {exercise: {case: {variant: tuple of arrays}}}}`` as npz-ready arrays."""
    flat = {}
    for group, by_ex in results.items():
        for ex, by_case in by_ex.items():
            for case, by_variant in by_case.items():
                for variant, arrays in by_variant.items():
                    for i, a in enumerate(arrays):
                        flat[f"{group}|{ex}|{case}|{variant}|{i}"] = np.asarray(a)
    flat["__meta__"] = np.frombuffer(json.dumps(meta or {}, sort_keys=True).encode(),
                                     dtype=np.uint8)
    return flat


def unpack(npz) -> tuple[dict, dict]:
    """The inverse of :func:`pack`: ``(results, meta)``. Raises ``ValueError`` on a key that
    does not have the five parts."""
    results: dict = {}
    meta: dict = {}
    items = []
    for key in npz.files:
        if key == "__meta__":
            meta = json.loads(bytes(npz[key]).decode())
            continue
        parts = key.split("|")
        if len(parts) != 5 or not parts[4].isdigit():
            raise ValueError(f"unexpected entry {key!r}")
        items.append((*parts[:4], int(parts[4]), key))
    for group, ex, case, variant, i, key in sorted(items, key=lambda t: t[:5]):
        lst = results.setdefault(group, {}).setdefault(ex, {}).setdefault(case, {}) \
            .setdefault(variant, [])
        if len(lst) != i:
            raise ValueError(f"entry {key!r} is out of sequence")
        lst.append(npz[key])
    for by_ex in results.values():
        for by_case in by_ex.values():
            for by_variant in by_case.values():
                for variant in by_variant:
                    by_variant[variant] = tuple(by_variant[variant])
    return results, meta


def save(path: Path, results: dict, meta: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **pack(results, meta))
    tmp.replace(path)


def load(path: Path) -> tuple[dict, dict]:
    with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
        return unpack(npz)


@dataclass
class CaseSet:
    """One exercise's cases in one set: ordered inputs, expected outputs and mistakes."""

    inputs: dict = field(default_factory=dict)  # {case: tuple of arrays}, in order
    expected: dict = field(default_factory=dict)  # {case: tuple of arrays}
    mistakes: dict = field(default_factory=dict)  # {case: {key: tuple of arrays}}


def case_sets(results: dict, meta: dict, group: str) -> dict[str, CaseSet]:
    """``{exercise: CaseSet}`` of one set (``visible`` or ``hidden``) of an unpacked archive."""
    order = meta.get("order", {}).get(group, {})
    sets = {}
    for ex, by_case in results.get(group, {}).items():
        cs = CaseSet()
        for case in order.get(ex, sorted(by_case)):
            variants = by_case.get(case, {})
            if "input" in variants:
                cs.inputs[case] = variants["input"]
            if "expected" in variants:
                cs.expected[case] = variants["expected"]
            for variant, out in variants.items():
                if variant.startswith("mistake:"):
                    cs.mistakes.setdefault(case, {})[variant[len("mistake:"):]] = out
        sets[ex] = cs
    return sets


# ---- the chapter list: _toc.yml owns it ------------------------------------------------------

TOC_ENTRY = re.compile(r"^\s*-\s*file:\s*(?P<folder>book|exercises)/(?P<stem>\d\d_\w+)\s*$", re.M)


def chapters(root: Path | None = None) -> list[str]:
    """The chapters, in book order: from ``_toc.yml`` in a checkout (its ``exercises/`` entries,
    which must match its ``book/`` entries), else from the package's visible stores."""
    toc = Path(root or REPO) / "_toc.yml"
    if toc.is_file():
        entries = [(m["folder"], m["stem"]) for m in TOC_ENTRY.finditer(toc.read_text())]
        book = [s for f, s in entries if f == "book"]
        exercises = [s for f, s in entries if f == "exercises"]
        if exercises != book:
            raise ValueError(f"{toc}: the book's chapters {book} and the exercise pages "
                             f"{exercises} must list the same chapters in the same order")
        return exercises
    return sorted(p.stem for p in VISIBLE_DIR.glob("[0-9][0-9]_*.npz"))


def module_name(chapter: str) -> str:
    """``02_rnn`` -> ``rnnbook.checks.ch02``: one spec module per chapter, named by number."""
    if not re.fullmatch(r"\d\d_\w+", chapter or ""):
        raise KeyError(f"{chapter!r} is not a chapter stem like 02_rnn")
    return f"rnnbook.checks.ch{chapter[:2]}"


# ---- freshness -------------------------------------------------------------------------------

def _sha(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        data = p if isinstance(p, bytes) else str(p).encode()
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:16]


def spec_hash(chapter: str) -> str:
    """A hash of the chapter's spec module (cases, points, messages) and the key format."""
    import importlib.util

    spec = importlib.util.find_spec(module_name(chapter))
    if spec is None or spec.origin is None:
        raise KeyError(f"chapter {chapter} has no spec module {module_name(chapter)}")
    return _sha(KEY_FORMAT, Path(spec.origin).read_bytes())


def solution_hash(chapter: str, root: Path | None = None) -> str:
    """A hash of the solution notebook's exercise code (its imports cell and the cells with a
    ``# BEGIN SOLUTION`` region), the known mistakes and the hidden seed."""
    import nbformat

    root = Path(root or REPO)
    nb = nbformat.read(root / "solutions" / f"{chapter}.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    exercise_code = code[1:2] + [s for s in code if "# BEGIN SOLUTION" in s]
    mistakes = root / "solutions" / "mistakes" / f"{chapter}.py"
    seed = root / "solutions" / "hidden_seed.txt"
    return _sha(*exercise_code, mistakes.read_bytes() if mistakes.exists() else b"",
                seed.read_bytes() if seed.exists() else b"")


def key_path(chapter: str, key_dir: Path | None = None) -> Path:
    return Path(key_dir or REPO / KEY_DIRNAME) / f"{chapter}.npz"


def visible_path(chapter: str) -> Path:
    return VISIBLE_DIR / f"{chapter}.npz"


def read_meta(path: Path) -> dict:
    with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
        return json.loads(bytes(npz["__meta__"]).decode()) if "__meta__" in npz.files else {}


def stale_keys(root: Path | None = None, only: list[str] | None = None) -> list[str]:
    """What is out of date between ``solutions/`` (and the specs) and the stored keys."""
    root = Path(root or REPO)
    problems = []
    for chapter in chapters(root):
        if only and chapter not in only:
            continue
        build = f"run `python -m rnnbook.checks.build {chapter}`"
        try:
            want = {"spec_hash": spec_hash(chapter), "solution_hash": solution_hash(chapter, root)}
        except (KeyError, FileNotFoundError) as err:
            problems.append(f"{chapter}: {err}")
            continue
        for path in (root / KEY_DIRNAME / f"{chapter}.npz", visible_path(chapter)):
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            if not path.is_file():
                problems.append(f"{shown} is missing: {build}")
                continue
            meta = read_meta(path)
            if meta.get("format") != KEY_FORMAT:
                problems.append(f"{shown} has an old format: {build}")
            elif any(meta.get(k) != v for k, v in want.items()):
                which = [k.split("_")[0] for k, v in want.items() if meta.get(k) != v]
                problems.append(f"{shown} is stale (the {' and the '.join(which)} changed "
                                f"since it was built): {build}")
    return problems
