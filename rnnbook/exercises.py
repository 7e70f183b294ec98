"""Generate ``exercises/`` from ``solutions/`` -- the solutions are the single source of exercises.

``python -m rnnbook.exercises`` writes ``exercises/NN_topic.ipynb`` for every
``solutions/NN_topic.ipynb`` and stamps the Colab set-up cell into ``book/`` and ``solutions/``;
``python -m rnnbook.exercises --check`` changes nothing and exits 1, naming each stale file. Name
chapter stems (``python -m rnnbook.exercises 02_rnn``) to touch only those chapters.

In a solution notebook:

- every region between a ``# BEGIN SOLUTION`` line and an ``# END SOLUTION`` line becomes
  ``raise NotImplementedError("<hint>")`` at the indentation of the ``BEGIN`` line; the hint is the
  region's first line when that line is ``# HINT: <hint>``;
- cells tagged ``solution`` (explanations of the answer) are dropped;
- outputs and execution counts are cleared;
- the notebook is stamped with ``metadata.rnnbook`` naming its chapter and its source.

The points of an exercise are declared once, in its spec (``rnnbook/checks/chNN.py``); a heading
``## Exercise 2.1 -- ... (2 points)`` must say the same, or the generator stops with an error.
``--check`` also fails when a chapter's answer key (``solutions/keys/``) or its visible store
(``rnnbook/checks/expected/``) is older than its spec, its solution code or its mistakes: rebuild
them with ``python -m rnnbook.checks.build``.

The first cell of every notebook is the set-up cell (tagged ``setup``): on Colab it installs this
package from the repository named in ``_config.yml``; elsewhere it does nothing visible.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
HINT = re.compile(r"^[ \t]*# HINT:\s*(?P<hint>.+?)\s*$")
HEADING = re.compile(r"^##\s+Exercise\s+\d+\.\d+\b.*\((?P<points>\d+(?:\.\d+)?)\s+points?\)\s*$",
                     re.M)
DEFAULT_HINT = "replace this line with your solution"
SETUP_TAG = "setup"

SETUP_CELL = '''\
# Set-up. On Colab this installs the course package `rnnbook`;
# elsewhere it does nothing visible.
import importlib.util, os, subprocess, sys
# before TensorFlow loads:
os.environ.update(TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0")
if importlib.util.find_spec("rnnbook") is None:
    url = "git+{repository}"
    source = os.environ.get("RNNBOOK_SOURCE", url)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", source],
        check=True)'''


class SolutionMarkupError(ValueError):
    """A solution notebook whose markers do not pair up."""


def repository_url(config: Path | None = None) -> str:
    """The repository URL, set once in ``_config.yml`` (``repository: url:``)."""
    config = config or ROOT / "_config.yml"
    text = config.read_text()
    m = re.search(r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:\s*(\S+)", text, re.M)
    if not m:
        raise ValueError(f"{config} has no `repository: url:` entry")
    return m.group(1).strip("\"'")


def setup_cell_source(repository: str) -> str:
    return SETUP_CELL.format(repository=repository)


HINT_MORE = re.compile(r"^[ \t]*#\s{2,}(?P<more>\S.*?)\s*$")
MAX_LINE = 79


def stub_line(indent: str, hint: str) -> str:
    """``raise NotImplementedError("<hint>")``, wrapped over several string literals when the
    line would be longer than :data:`MAX_LINE` characters."""
    def literal(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    one = f"{indent}raise NotImplementedError({literal(hint)})"
    if len(one) <= MAX_LINE:
        return one
    inner = indent + " " * 4
    width = MAX_LINE - len(inner) - 3  # the quotes and a closing parenthesis
    while True:  # narrower until every line fits, escaped quotes included
        parts = textwrap.wrap(hint, width=width, break_long_words=False,
                              break_on_hyphens=False)
        parts = [p + " " for p in parts[:-1]] + parts[-1:]
        lines = [f"{indent}raise NotImplementedError("] + [inner + literal(p) for p in parts]
        lines[-1] += ")"
        if max(map(len, lines)) <= MAX_LINE or width < 20:
            return "\n".join(lines)
        width -= 2


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace each BEGIN/END SOLUTION region of a code cell by a ``NotImplementedError`` stub.

    The stub's message is the region's first line when it is ``# HINT: <hint>``; the hint may go
    on over the next comment lines when they are indented by two spaces or more after the ``#``.
    """
    out, region, indent, hint, state = [], None, "", None, None
    for lineno, line in enumerate(source.split("\n"), 1):
        if region is None:
            m = BEGIN.match(line)
            if m:
                region, indent, hint, state = lineno, m.group("indent"), None, "first"
            elif END.match(line):
                raise SolutionMarkupError(f"{where}, line {lineno}: END SOLUTION without BEGIN")
            else:
                out.append(line)
            continue
        if BEGIN.match(line):
            raise SolutionMarkupError(f"{where}, line {lineno}: BEGIN SOLUTION inside the region "
                                      f"opened at line {region}")
        if END.match(line):
            out.append(stub_line(indent, hint or DEFAULT_HINT))
            region = None
            continue
        if state == "first" and HINT.match(line):
            hint, state = HINT.match(line).group("hint"), "hint"
            continue
        if state == "hint" and HINT_MORE.match(line):
            hint += " " + HINT_MORE.match(line).group("more")
            continue
        state = None
    if region is not None:
        raise SolutionMarkupError(f"{where}, line {region}: BEGIN SOLUTION is never closed")
    return "\n".join(out)


def stamp_setup(nb, repository: str) -> None:
    """Make the first cell the set-up cell (replace an existing one, or insert it)."""
    source = setup_cell_source(repository)
    first = nb.cells[0] if nb.cells else None
    if first is not None and SETUP_TAG in first.metadata.get("tags", []):
        first.source = source
        return
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [SETUP_TAG, "remove-cell"]})
    cell.id = "setup"
    nb.cells.insert(0, cell)


EDITOR_METADATA = ("jupytext", "lines_to_next_cell", "collapsed", "scrolled", "ExecuteTime",
                   "execution")  # "execution": nbclient's per-cell timestamps


def clean_metadata(nb) -> None:
    """Drop editor metadata (jupytext, collapsed) and execution timestamps: noise in a diff."""
    for key in EDITOR_METADATA:
        nb.metadata.pop(key, None)
        for cell in nb.cells:
            cell.metadata.pop(key, None)


def make_exercise(solution, chapter: str, repository: str, where: str = "notebook"):
    """The student copy of a solution notebook (a new object; the input is not changed)."""
    nb = copy.deepcopy(solution)
    stamp_setup(nb, repository)
    clean_metadata(nb)
    cells = []
    for i, cell in enumerate(nb.cells):
        if "solution" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, f"{where}, cell {i}")
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    nb.cells = cells
    meta = nb.metadata.setdefault("rnnbook", {})
    meta["chapter"] = chapter
    meta["generated_from"] = f"solutions/{chapter}.ipynb"
    meta["note"] = "Generated by `python -m rnnbook.exercises`; edit the solution, not this file."
    return nb


def check_points(nb, chapter: str, where: str = "notebook") -> None:
    """Every exercise heading's "(N points)" must equal the points of the exercise's spec: the
    heading is followed by the cell that defines the exercise's function."""
    from rnnbook.checks import exercises

    try:
        specs = {ex.target: ex for ex in exercises(chapter).values()}
    except KeyError:
        return  # a notebook without exercise specs (a test fixture)
    seen = set()
    pending = None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = HEADING.search(cell.source)
            if m:
                pending = float(m.group("points"))
            continue
        for target, ex in specs.items():
            if re.search(rf"^def {re.escape(target)}\(", cell.source, re.M):
                seen.add(target)
                if pending is None:
                    raise ValueError(f"{where}: the function `{target}` has no exercise heading "
                                     "with its points before it ('## Exercise N.M -- ... "
                                     f"({ex.points:g} points)')")
                if pending != float(ex.points):
                    raise ValueError(f"{where}: the heading before `{target}` says {pending:g} "
                                     f"points, its spec (rnnbook/checks/ch{chapter[:2]}.py) "
                                     f"{ex.points:g}: change one of them")
                pending = None
    missing = sorted(set(specs) - seen)
    if missing:
        raise ValueError(f"{where}: no cell defines {', '.join(missing)}, which the spec of "
                         f"chapter {chapter} names")


def read_notebook(path: Path):
    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:
        raise ValueError(f"{path} is not a readable notebook: {err}") from None


def render(nb) -> str:
    return nbformat.writes(nb) + "\n"


def planned(root: Path = ROOT, chapters: list[str] | None = None) -> dict[Path, str]:
    """Every file the generator owns (or only those of ``chapters``), with the text it should
    have."""
    repository = repository_url(root / "_config.yml")
    files = {}
    for folder in ("book", "solutions"):
        for path in sorted((root / folder).glob("*.ipynb")):
            if chapters and path.stem not in chapters:
                continue
            nb = read_notebook(path)
            stamp_setup(nb, repository)
            clean_metadata(nb)
            files[path] = render(nb)
    for path in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb")):
        if chapters and path.stem not in chapters:
            continue
        chapter = path.stem
        rel = path.relative_to(root)
        solution = read_notebook(path)
        check_points(solution, chapter, str(rel))
        nb = make_exercise(solution, chapter, repository, str(rel))
        files[root / "exercises" / path.name] = render(nb)
    return files


def stale(root: Path = ROOT, chapters: list[str] | None = None) -> list[str]:
    """Files that ``python -m rnnbook.exercises`` would change, create or delete."""
    files = planned(root, chapters)
    problems = []
    for path, text in files.items():
        if not path.exists():
            problems.append(f"{path.relative_to(root)} is missing")
        elif path.read_text() != text:
            problems.append(f"{path.relative_to(root)} is out of date")
    for path in sorted((root / "exercises").glob("*.ipynb")):
        if chapters and path.stem not in chapters:
            continue
        if path not in files:
            problems.append(f"{path.relative_to(root)} has no solution notebook")
    if (root / "_toc.yml").is_file():
        from rnnbook.checks.store import stale_keys

        problems += stale_keys(root, chapters)
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="rnnbook exercises",
                                description="Generate exercises/ from solutions/.")
    p.add_argument("chapters", nargs="*", help="only these chapter stems (default: all)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    p.add_argument("--root", type=Path, default=ROOT)
    args = p.parse_args(argv)
    try:
        if args.check:
            problems = stale(args.root, args.chapters)
            for line in problems:
                print(line, file=sys.stderr)
            if problems:
                print("run `python -m rnnbook.exercises` to regenerate (and "
                      "`python -m rnnbook.checks.build CHAPTER` for a stale key)", file=sys.stderr)
                return 1
            print("exercises/ and the answer keys are in sync with solutions/")
            return 0
        for path, text in planned(args.root, args.chapters).items():
            if not path.exists() or path.read_text() != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                print(f"wrote {path.relative_to(args.root)}")
    except (ValueError, SolutionMarkupError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
