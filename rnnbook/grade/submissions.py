"""Find the submitted notebooks, read them safely, and tell which chapter each one is.

Everything here runs in the grader's own process on files students control, so each step is
defensive: the walk is iterative and never follows a link; a file is opened with ``O_NOFOLLOW``
(a link gets an ``unreadable`` row), size-capped, parsed with every parser error caught (deep
nesting, a 5,000-digit number, a BOM, bytes that are not UTF-8), and checked cell by cell.
File names are shown escaped: a name that is not UTF-8, or that holds control characters, can
break neither a progress line nor a report.

A submission's chapter comes from ``metadata.rnnbook.chapter`` (stamped by the exercise
generator) and from its file name (``Copy of 02_rnn (3).ipynb``). When both name a chapter they
must agree; ``--chapter`` settles it for every submission. A notebook whose chapter cannot be
told, or is disputed, is not run: it gets an ``error`` row saying why.
"""

from __future__ import annotations

import json
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

#: a submission larger than this is not read (a real exercise notebook is well under 1 MB)
MAX_NOTEBOOK_BYTES = 50 * 2**20
#: the code of a notebook, all cells together, may not be larger than this
MAX_CODE_BYTES = 4 * 2**20


@dataclass
class Submission:
    """One submitted file and what is known about it before it runs."""

    path: str  # as the OS knows it (a str with surrogate escapes for non-UTF-8 bytes)
    name: str  # how the CSV and the reports name it: unique, printable
    chapter: str | None = None
    status: str | None = None  # set when the notebook will not be run: unreadable or error
    problem: str = ""  # the message for that status
    notes: list = field(default_factory=list)  # things worth telling the student
    sources: list | None = None  # the code cells, when the notebook could be read


def printable(name: str) -> str:
    """A file name as text that is safe to print: bytes that are not UTF-8 as ``\\xNN``,
    control and invisible characters as ``\\uNNNN``."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    out = []
    for ch in text:
        if ch in "\n\r\t" or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def find_notebooks(paths: list[str]) -> tuple[list[str], list[str]]:
    """``(notebooks, refused)``: the ``.ipynb`` files named and those found under the folders
    named (sorted, no duplicates, ``.ipynb_checkpoints`` skipped, links to folders not
    followed), and the paths refused because they start with ``-`` (they look like options:
    write ``./-name.ipynb`` to mean a file). A path that does not exist raises
    ``FileNotFoundError``."""
    found: list[str] = []
    refused: list[str] = []
    for raw in paths:
        if raw.startswith("-"):
            refused.append(raw)
            continue
        if os.path.isdir(raw) and not os.path.islink(raw):
            found.extend(_walk(raw))
        elif os.path.lexists(raw):
            found.append(raw)
        else:
            raise FileNotFoundError(f"no such file or folder: {printable(raw)}")
    unique, seen = [], set()
    for path in found:
        key = os.path.normpath(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique, refused


def _walk(top: str) -> list[str]:
    """Every ``*.ipynb`` below ``top``, iteratively (a 3,000-deep tree is fine), no links."""
    out, stack = [], [top]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:  # unreadable, or a path too long to open
            continue
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != ".ipynb_checkpoints":
                        subdirs.append(entry.path)
                elif entry.name.endswith(".ipynb"):
                    out.append(entry.path)
            except OSError:
                continue
        stack.extend(reversed(subdirs))
    return sorted(out, key=lambda p: os.fsencode(p))


def display_names(paths: list[str]) -> list[str]:
    """Short, printable, unique names: the path relative to the current folder when below it."""
    names, seen = [], {}
    for path in paths:
        rel = os.path.relpath(os.path.abspath(path))
        name = printable(path if rel.startswith("..") else rel)
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        names.append(name)
    return names


def chapter_from_name(filename: str, known: list[str]) -> str | None:
    """The chapter a file name points to: ``Copy of 02_rnn (3).ipynb`` -> ``02_rnn``.

    A full chapter stem anywhere in the name wins; else a two-digit chapter number followed by
    ``_`` (``02_my_answers.ipynb``). ``None`` when nothing, or more than one chapter, matches.
    """
    norm = re.sub(r"[\s\-]+", "_", Path(printable(filename)).stem.lower())
    stems = [stem for stem in known if stem in norm]
    if stems:
        return stems[0] if len(stems) == 1 else None
    numbers = {m.group(1) for m in re.finditer(r"(?<!\d)(\d\d)_", norm)}
    by_number = {stem[:2]: stem for stem in known}
    matches = {by_number[n] for n in numbers if n in by_number}
    return matches.pop() if len(matches) == 1 else None


def read_bytes(path: str, limit: int = MAX_NOTEBOOK_BYTES) -> tuple[bytes | None, str]:
    """The file's bytes, or ``None`` and why: never through a link, never blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        if os.path.islink(path):
            return None, ("the file is a symbolic link, not a notebook: hand in the notebook "
                          "itself.")
        return None, f"the file could not be opened: {err.strerror or err}."
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file."
        if info.st_size > limit:
            return None, (f"the file is {info.st_size / 2**20:.0f} MB, over the "
                          f"{limit // 2**20} MB a notebook may have: clear its outputs (Edit > "
                          "Clear all outputs), save, and hand it in again.")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                return None, "the file grew while it was read."
            chunks.append(chunk)
        return b"".join(chunks), ""
    except OSError as err:
        return None, f"the file could not be read: {err.strerror or err}."
    finally:
        os.close(fd)


def parse_notebook(data: bytes) -> tuple[dict | None, list | None, str]:
    """``(notebook, code-cell sources, "")`` or ``(None, None, why)``; never raises."""
    if not data.strip():
        return None, None, ("the file is empty: save the notebook in Jupyter/Colab and hand it in "
                            "again.")
    try:
        text = data.decode("utf-8-sig")  # a BOM (some Windows editors write one) is fine
    except UnicodeDecodeError:
        return None, None, ("the file is not UTF-8 text (is it a notebook, or a zip/PDF renamed "
                            "to .ipynb?).")
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as err:
        return None, None, (f"the file is not valid notebook JSON (line {err.lineno}, column "
                            f"{err.colno}: {err.msg}). Was it edited in a text editor or cut "
                            "short? Open it in Jupyter or Colab, save it, and hand it in again.")
    except RecursionError:
        return None, None, "the file's JSON is nested too deeply to be a notebook."
    except (ValueError, MemoryError) as err:  # e.g. an integer of thousands of digits
        return None, None, f"the file's JSON cannot be read as a notebook ({str(err)[:120]})."
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, None, "the file is JSON but not a Jupyter notebook (no list of cells)."
    sources, size = [], 0
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            return None, None, (f"cell {i + 1} of the notebook is malformed (no cell_type): open "
                                "the notebook in Jupyter or Colab, save it, and hand it in "
                                "again.")
        if cell["cell_type"] != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            return None, None, (f"cell {i + 1} of the notebook is malformed (its source is not "
                                "text): open it in Jupyter or Colab, save it, and hand it in "
                                "again.")
        size += len(source)
        if size > MAX_CODE_BYTES:
            return None, None, "the notebook holds more than 4 MB of code."
        sources.append(source)
    return nb, sources, ""


def metadata_chapter(nb: dict) -> str | None:
    meta = nb.get("metadata")
    rnn = meta.get("rnnbook") if isinstance(meta, dict) else None
    chapter = rnn.get("chapter") if isinstance(rnn, dict) else None
    return chapter if isinstance(chapter, str) and chapter else None


def prepare(path: str, name: str, known: list[str], forced: str | None = None) -> Submission:
    """Read one submission and settle its chapter (or the reason it will not be run)."""
    sub = Submission(path=path, name=name)
    base = os.path.basename(path)
    shown = printable(base)
    from_name = chapter_from_name(base, known)
    data, why = read_bytes(path)
    nb = None
    if data is not None:
        nb, sub.sources, why = parse_notebook(data)
    if nb is None:
        sub.status, sub.problem = "unreadable", f"{shown}: {why}"
        sub.chapter = forced or from_name
        return sub
    from_meta = metadata_chapter(nb)
    if forced:
        sub.chapter = forced
        if from_meta and from_meta != forced:
            sub.status = "error"
            sub.problem = (f"this notebook is from chapter {printable(from_meta)} (its metadata "
                           f"says so), not {forced}, the chapter being graded: was the wrong "
                           "notebook handed in?")
        elif from_name and from_name != forced:
            sub.notes.append(f"the file name suggests chapter {from_name}; it was graded as "
                             f"{forced} as the instructor asked.")
        return sub
    if from_meta is not None and from_meta not in known:
        sub.status = "error"
        sub.problem = (f"the notebook's metadata names chapter {printable(from_meta)!r}, which is "
                       f"not a chapter of this course ({', '.join(known)}).")
        return sub
    if from_meta and from_name and from_meta != from_name:
        sub.chapter = from_meta
        sub.status = "error"
        sub.problem = (f"the file name says chapter {from_name} but the notebook's metadata says "
                       f"{from_meta}: was the wrong notebook handed in, or renamed? It was not "
                       "graded. Instructor: grade it with --chapter to settle which chapter it "
                       "is.")
        return sub
    if from_meta:
        sub.chapter = from_meta
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
