"""Find the submitted notebooks, read them safely, and tell which chapter each one is.

A submission's chapter comes from ``metadata.rnnbook.chapter`` (stamped by the exercise
generator), else from its file name (``Copy of 02_rnn (3).ipynb``); ``--chapter`` forces it. A
notebook that names another chapter than the forced one, or whose chapter cannot be told, is not
run: it gets a row with a clear message instead.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from rnnbook.checks import CHAPTERS

#: a submission larger than this is not read (a real exercise notebook is well under 1 MB)
MAX_NOTEBOOK_BYTES = 50 * 2**20


@dataclass
class Submission:
    """One submitted file and what is known about it before it runs."""

    path: Path
    name: str  # how the CSV and the reports name it (unique within a run)
    chapter: str | None = None
    status: str | None = None  # set when the notebook will not be run: unreadable or error
    problem: str = ""  # the message for that status
    notes: list = field(default_factory=list)  # things worth telling the student


def find_notebooks(paths: list[str]) -> list[Path]:
    """The ``.ipynb`` files named, and those found under the folders named (sorted, no
    duplicates, ``.ipynb_checkpoints`` skipped). A path that does not exist raises
    ``FileNotFoundError``."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for sub in sorted(path.rglob("*.ipynb")):
                if ".ipynb_checkpoints" not in sub.parts and not sub.is_dir():
                    found.append(sub)
        elif path.exists() or path.is_symlink():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {raw}")
    unique, seen = [], set()
    for path in found:
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def display_names(paths: list[Path]) -> list[str]:
    """Short unique names: the path relative to the current folder when it is below it."""
    names = []
    for path in paths:
        rel = os.path.relpath(os.path.abspath(path))
        names.append(str(path) if rel.startswith("..") else rel)
    return names


def chapter_from_name(filename: str) -> str | None:
    """The chapter a file name points to: ``Copy of 02_rnn (3).ipynb`` -> ``02_rnn``.

    A full chapter stem anywhere in the name wins; else a two-digit chapter number followed by
    ``_`` (``02_my_answers.ipynb``). ``None`` when nothing, or more than one chapter, matches.
    """
    norm = re.sub(r"[\s\-]+", "_", Path(filename).stem.lower())
    stems = [stem for stem in CHAPTERS if stem in norm]
    if stems:
        return stems[0] if len(stems) == 1 else None
    numbers = {m.group(1) for m in re.finditer(r"(?<!\d)(\d\d)_", norm)}
    by_number = {stem[:2]: stem for stem in CHAPTERS}
    matches = {by_number[n] for n in numbers if n in by_number}
    return matches.pop() if len(matches) == 1 else None


def read_submission(path: Path) -> tuple[bytes | None, dict | None, str]:
    """``(bytes, notebook, "")`` or ``(None, None, why it cannot be read)``."""
    try:
        if path.is_symlink() and not path.exists():
            return None, None, "the file is a broken link."
        if not path.is_file():
            return None, None, "not a regular file."
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return None, None, (f"the file is {size / 2**20:.0f} MB, over the "
                                f"{MAX_NOTEBOOK_BYTES // 2**20} MB a notebook may have: clear its "
                                "outputs (Edit > Clear all outputs), save, and hand it in again.")
        data = path.read_bytes()
    except OSError as err:
        return None, None, f"the file could not be read: {err.strerror or err}."
    if not data.strip():
        return None, None, "the file is empty: save the notebook in Jupyter/Colab and hand it in again."
    try:
        nb = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, None, "the file is not text (is it a notebook, or a zip/PDF renamed to .ipynb?)."
    except json.JSONDecodeError as err:
        return None, None, (f"the file is not valid notebook JSON (line {err.lineno}, column "
                            f"{err.colno}: {err.msg}). Was it edited in a text editor or cut "
                            "short? Open it in Jupyter or Colab, save it, and hand it in again.")
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, None, "the file is JSON but not a Jupyter notebook (no list of cells)."
    return data, nb, ""


def metadata_chapter(nb: dict) -> str | None:
    meta = nb.get("metadata")
    rnn = meta.get("rnnbook") if isinstance(meta, dict) else None
    chapter = rnn.get("chapter") if isinstance(rnn, dict) else None
    return chapter if isinstance(chapter, str) and chapter else None


def prepare(path: Path, name: str, forced: str | None = None) -> Submission:
    """Read one submission and settle its chapter (or the reason it will not be run)."""
    sub = Submission(path=path, name=name)
    data, nb, why = read_submission(path)
    from_name = chapter_from_name(path.name)
    if nb is None:
        sub.status, sub.problem = "unreadable", f"{path.name}: {why}"
        sub.chapter = forced or from_name
        return sub
    from_meta = metadata_chapter(nb)
    if forced:
        sub.chapter = forced
        if from_meta and from_meta != forced:
            sub.status = "error"
            sub.problem = (f"this notebook is from chapter {from_meta} (its metadata says so), not "
                           f"{forced}, the chapter being graded: was the wrong notebook handed in?")
        elif not from_meta and from_name and from_name != forced:
            sub.notes.append(f"the file name suggests chapter {from_name}; it was graded as "
                             f"{forced} as the instructor asked.")
        return sub
    if from_meta:
        if from_meta not in CHAPTERS:
            sub.status = "error"
            sub.problem = (f"the notebook's metadata names chapter {from_meta!r}, which is not a "
                           f"chapter of this course ({', '.join(CHAPTERS)}).")
            return sub
        sub.chapter = from_meta
        if from_name and from_name != from_meta:
            sub.notes.append(f"the file name suggests chapter {from_name}, but the notebook's "
                             f"metadata says {from_meta}: it was graded as {from_meta}.")
        return sub
    if from_name:
        sub.chapter = from_name
        sub.notes.append(f"the notebook has no chapter in its metadata; chapter {from_name} was "
                         "read from its file name.")
        return sub
    sub.status = "error"
    sub.problem = ("cannot tell which chapter this notebook belongs to: its metadata names none "
                   "and its file name contains no chapter (such as 02_rnn). Instructor: grade it "
                   "with --chapter.")
    return sub
