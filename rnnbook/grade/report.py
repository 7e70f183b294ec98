"""What the grader writes: the grades CSV (atomically), one Markdown report per submission, a
progress bar and the summary table on stderr."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

COLUMNS = ["submission", "chapter", "exercise", "points", "max_points", "status", "feedback"]


class GradesFileError(ValueError):
    """``--out`` exists and is not a grades file this tool wrote."""


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``:
    a reader (or a crash) never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_grades(path: Path) -> OrderedDict[str, list[dict]]:
    """Rows of an existing grades file, by submission (empty when there is none)."""
    rows: OrderedDict[str, list[dict]] = OrderedDict()
    path = Path(path)
    if not path.exists():
        return rows
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != COLUMNS:
                raise GradesFileError(
                    f"{path} exists and is not a grades file (its columns are "
                    f"{reader.fieldnames}): choose another --out, or move it away.")
            for row in reader:
                row = {k: _from_cell(v or "") for k, v in row.items() if k in COLUMNS}
                rows.setdefault(row["submission"], []).append(row)
    except (UnicodeDecodeError, csv.Error) as err:
        raise GradesFileError(
            f"{path} exists and cannot be read as a grades file ({err}).") from None
    return rows


def sort_rows(rows_by_submission) -> OrderedDict[str, list[dict]]:
    """The submissions in a fixed order (by name, as bytes), each with its rows in their order:
    a single run and merged shards write the same file."""
    return OrderedDict(sorted(rows_by_submission.items(),
                              key=lambda kv: kv[0].encode("utf-8", "surrogateescape")))


def merge_grades(paths: list[Path]) -> OrderedDict[str, list[dict]]:
    """Merge grades files; raise :class:`GradesFileError` on a submission found in two files
    (a duplicate, or a conflict when the rows differ) or an exercise found twice for one
    submission."""
    merged: OrderedDict[str, list[dict]] = OrderedDict()
    source: dict[str, Path] = {}
    for path in paths:
        if not Path(path).is_file():
            raise GradesFileError(f"{path}: no such grades file")
        for submission, rows in read_grades(path).items():
            exercises = [r["exercise"] for r in rows]
            if len(set(exercises)) != len(exercises):
                raise GradesFileError(f"{path}: submission {submission!r} has an exercise "
                                      "twice: a damaged grades file?")
            if submission in merged:
                what = "a duplicate" if merged[submission] == rows else "conflicting rows"
                raise GradesFileError(
                    f"submission {submission!r} is in both {source[submission]} and {path} "
                    f"({what}): did two shards grade it? Merge the shards of one run only "
                    "(rnnbook grade --shard K/N with the same N and the same submissions).")
            merged[submission] = rows
            source[submission] = path
    return sort_rows(merged)


def grades_csv(rows_by_submission: OrderedDict[str, list[dict]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for rows in rows_by_submission.values():
        for row in rows:
            writer.writerow({k: _no_formula(row[k]) for k in COLUMNS})
    return buf.getvalue()


FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _no_formula(value) -> str:
    """Student-controlled text (a file name, an exception message) must not start a spreadsheet
    formula when the CSV is opened in Excel or LibreOffice: prefix a quote. A value that starts
    with a quote gets one too, so that :func:`_from_cell` can undo it exactly."""
    value = str(value)
    return "'" + value if value[:1] in FORMULA or value[:1] == "'" else value


def _from_cell(value: str) -> str:
    """The inverse of :func:`_no_formula` (a re-run must find the rows it replaces)."""
    return value[1:] if value[:1] == "'" else value


def fmt_points(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.2f}"


def report_name(submission: str) -> str:
    """The file name of a submission's report: stable across runs (the same submission always
    gets the same name) and unique (a hash of the whole name), short enough for any file
    system, and made of safe characters only."""
    digest = hashlib.sha256(submission.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    base = re.sub(r"\.ipynb$", "", submission)
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base.replace(os.sep, "__")).strip("._-")[:60]
    return f"{base or 'submission'}-{digest}.md"


def markdown_report(submission: str, chapter: str | None, grades: list, notes: list,
                    cell_errors: list, seconds: float | None) -> str:
    """The feedback a student reads: score, a table, then what to fix for each failure."""
    total = sum(g.points for g in grades)
    max_total = sum(g.max_points for g in grades)
    lines = [f"# Feedback: {md_escape(submission)}", ""]
    lines.append(f"Chapter **{chapter or 'unknown'}** -- score **{fmt_points(total)} / "
                 f"{fmt_points(max_total)}**.")
    lines += ["", "Each exercise was run on *hidden* test cases, different from the ones the "
              "notebook's own checks use; partial credit is the share of hidden cases your "
              "function gets right, except that a known mistake (named below) earns no points.",
              ""]
    if grades:
        lines += ["| exercise | points | status |", "| --- | --- | --- |"]
        for g in grades:
            mark = "✓" if g.status == "passed" else "✗"
            lines.append(f"| {g.exercise or '-'} | {fmt_points(g.points)} / "
                         f"{fmt_points(g.max_points)} | {mark} {g.status} |")
        lines.append("")
    passed = [g.exercise for g in grades if g.status == "passed"]
    if passed:
        lines += [f"**Passed:** {', '.join(passed)}.", ""]
    for g in grades:
        if g.status == "passed":
            continue
        title = g.exercise or "the notebook"
        lines += [f"## {title} ({g.status}, {fmt_points(g.points)} / "
                  f"{fmt_points(g.max_points)})", ""]
        if g.total:
            lines += [f"{g.passed} of {g.total} hidden cases pass.", ""]
        for msg in g.details[:5]:
            lines.append(f"- {_md(msg)}")
        if len(g.details) > 5:
            lines.append(f"- ... and {len(g.details) - 5} more case(s) like these.")
        lines.append("")
    if cell_errors:
        lines += ["## Cells that raised an error", "",
                  "The grader runs every code cell in order, like *Restart & Run All*; these "
                  "cells failed (the notebook went on with the next cell):", ""]
        for e in cell_errors[:10]:
            lines.append(f"- cell {e.get('cell', '?')}: {_md(str(e.get('error', '')))}")
        lines.append("")
    if notes:
        lines += ["## Notes", ""] + [f"- {_md(n)}" for n in notes] + [""]
    if seconds is not None:
        lines += [f"*The notebook ran in {seconds:.1f} s.*", ""]
    return "\n".join(lines)


def _md(text: str) -> str:
    """One line of text for a Markdown list item or table cell: no line breaks, no HTML, no
    table breaks."""
    text = " ".join(str(text).split())
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def md_escape(text: str) -> str:
    """Text shown verbatim in Markdown (a file name): every character Markdown could read as
    markup is backslash-escaped."""
    text = " ".join(str(text).split())
    text = re.sub(r"([\\`*_{}\[\]#|~])", r"\\\1", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


class ProgressBar:
    """``[#########-----------]  12/100  2 running  0:45`` on stderr; one line per submission
    when stderr is not a terminal (a log file, CI)."""

    def __init__(self, total: int, stream=None, width: int = 30):
        self.total, self.done, self.width = total, 0, width
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()

    def _elapsed(self) -> str:
        s = int(time.monotonic() - self.start)
        return f"{s // 60}:{s % 60:02d}"

    def update(self, running: int, last: str = "") -> None:
        if self.tty:
            filled = int(self.width * self.done / max(self.total, 1))
            bar = "#" * filled + "-" * (self.width - filled)
            done = f"{self.done:>{len(str(self.total))}}/{self.total}"
            line = f"\r[{bar}] {done}  {running} running  {self._elapsed()}"
            self.stream.write(line + " " * 4)
        elif last:
            done = f"{self.done:>{len(str(self.total))}}/{self.total}"
            self.stream.write(f"[{done} {self._elapsed()}] {last}\n")
        self.stream.flush()

    def advance(self, running: int, last: str) -> None:
        self.done += 1
        self.update(running, last)

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def summary_table(rows: list[dict], submissions: int) -> str:
    """Per chapter and exercise: how many submissions passed, the mean score, and the statuses."""
    by_ex: OrderedDict[tuple, list[dict]] = OrderedDict()
    for row in rows:
        key = (row["chapter"] or "?", row["exercise"] or "(whole notebook)")
        by_ex.setdefault(key, []).append(row)
    header = ("chapter", "exercise", "passed", "mean score", "statuses")
    body = []
    for (chapter, exercise), rs in by_ex.items():
        n = len(rs)
        passed = sum(r["status"] == "passed" for r in rs)
        mean = sum(float(r["points"]) for r in rs) / n
        max_points = max(float(r["max_points"]) for r in rs)
        counts: dict = {}
        for r in rs:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
        body.append((chapter, exercise, f"{passed}/{n}", f"{mean:.2f} / {fmt_points(max_points)}",
                     statuses))
    widths = [max(len(str(r[i])) for r in [header] + body) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    out = [f"Summary: {submissions} submission(s)", line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in body]
    return "\n".join(out)
