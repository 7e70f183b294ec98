"""The ``python -m rnnbook.grade`` command: grade a class's notebooks, safely.

    python -m rnnbook.grade SUBMISSION.ipynb|FOLDER ... --out grades.csv
        [--jobs N] [--timeout SECONDS] [--chapter STEM] [--feedback-dir DIR]

Exit status: 0 when grading ran (whatever the students scored); 2 when the grader itself cannot
run (bad arguments, no submissions, missing hidden expected outputs, no working sandbox); 130
when interrupted (the grades of the submissions finished so far are written).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import OrderedDict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from rnnbook.checks import exercises
from rnnbook.grade import report
from rnnbook.grade.grading import (ChapterKey, ExerciseGrade, GraderError, default_expected_dir,
                                   grade_result, load_key, whole_submission)
from rnnbook.grade.results import ResultError, load_result, meta_list, short
from rnnbook.grade.sandbox import Limits, Sandbox, SandboxUnavailable
from rnnbook.grade.submissions import (Submission, display_names, find_notebooks, prepare,
                                      read_submission)

SIGNALS = {6: "SIGABRT (abort)", 9: "SIGKILL (killed -- out of memory?)", 11: "SIGSEGV (a crash)",
           7: "SIGBUS (a crash)", 8: "SIGFPE", 4: "SIGILL", 25: "SIGXFSZ (file too large)"}


def _where(progress: str) -> str:
    """ "cell 7" -> " in cell 7"; "exercise forward" -> " while running exercise forward"."""
    if progress.startswith("cell "):
        return f" in {progress}"
    if progress.startswith("exercise "):
        return f" while running {progress}"
    return f" (at: {progress})" if progress and progress != "done" else ""


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover -- not Linux
        return os.cpu_count() or 1


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m rnnbook.grade",
        description="Grade students' exercise notebooks: run each one in a bubblewrap sandbox, "
                    "judge its functions on hidden cases outside the sandbox, and write a grades "
                    "CSV plus one Markdown feedback report per submission.")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help="notebooks (.ipynb) or folders to search for notebooks")
    p.add_argument("--out", required=True, help="the grades CSV to write (rows of other "
                   "submissions already in it are kept; this run's submissions are replaced)")
    p.add_argument("--jobs", type=int, default=cores(), help="submissions run at once "
                   "(default: the cores, %(default)s here)")
    p.add_argument("--timeout", type=float, default=Limits.timeout,
                   help="wall-clock seconds per submission (default %(default)g)")
    p.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout,
                   help="seconds per code cell (default %(default)g)")
    p.add_argument("--call-timeout", type=float, default=Limits.call_timeout,
                   help="seconds per call of an exercise function on one case (default %(default)g)")
    p.add_argument("--memory-mb", type=int, default=Limits.memory_mb,
                   help="address-space limit per submission, MB (default %(default)s)")
    p.add_argument("--chapter", help="grade every submission as this chapter (e.g. 02_rnn)")
    p.add_argument("--feedback-dir", help="where the per-submission reports go "
                   "(default: <out without .csv>-feedback/)")
    p.add_argument("--expected-dir", type=Path, default=None,
                   help="folder holding <chapter>.npz hidden expected outputs "
                        "(default: solutions/expected of the repository)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="UNSAFE: run students' code without bubblewrap (no isolation at all; "
                        "only for code you trust, or where namespaces are unavailable)")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    for name in ("timeout", "cell_timeout", "call_timeout"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if args.memory_mb < 256:
        p.error("--memory-mb must be at least 256")
    if args.chapter:
        try:
            exercises(args.chapter)
        except KeyError as err:
            p.error(str(err).strip("'\""))
        except ImportError:
            p.error(f"chapter {args.chapter} has no exercises in this version of rnnbook")
    return args


class Grader:
    """Grades a batch: prepares submissions, runs them N at once, writes as each finishes."""

    def __init__(self, args: argparse.Namespace, stderr=None):
        self.args = args
        self.err = stderr or sys.stderr
        self.out = Path(args.out)
        self.feedback_dir = Path(args.feedback_dir) if args.feedback_dir else \
            self.out.with_name(self.out.stem + "-feedback")
        self.expected_dir = (args.expected_dir or default_expected_dir()).resolve()
        self.limits = Limits(timeout=args.timeout, cell_timeout=args.cell_timeout,
                             call_timeout=args.call_timeout, memory_mb=args.memory_mb)
        secret = [self.expected_dir, self.expected_dir.parent]
        self.sandbox = Sandbox(self.limits, secret, sandboxed=not args.no_sandbox)
        self.keys: dict[str, ChapterKey] = {}
        self.unknown_chapters: dict[str, str] = {}

    # -- before anything runs -----------------------------------------------------------------
    def prepare(self) -> list[Submission]:
        paths = find_notebooks(self.args.submissions)
        if not paths:
            raise GraderError("no notebooks (.ipynb) found in " + ", ".join(self.args.submissions))
        subs = [prepare(p, n, self.args.chapter) for p, n in zip(paths, display_names(paths))]
        needed = sorted({s.chapter for s in subs if s.chapter})
        for chapter in needed:
            try:
                exercises(chapter)
            except (KeyError, ImportError):
                self.unknown_chapters[chapter] = (
                    f"chapter {chapter} has no exercises in this version of rnnbook, so it "
                    "cannot be graded.")
                continue
            self.keys[chapter] = load_key(chapter, self.expected_dir)  # GraderError if missing
        return subs

    # -- one submission (in a worker thread) -----------------------------------------------------
    def grade_one(self, sub: Submission, workdir: Path) -> tuple[list[ExerciseGrade], dict]:
        info = {"cell_errors": [], "seconds": None}
        key = self.keys.get(sub.chapter) if sub.chapter else None
        if sub.status or key is None:
            status = sub.status or "error"
            message = sub.problem or self.unknown_chapters.get(sub.chapter, "cannot be graded")
            if key is None:
                return [ExerciseGrade("", 0.0, 0.0, status, short(message, 400), [message])], info
            return whole_submission(key.exercises, key.points, status, message), info
        data, _, why = read_submission(sub.path)  # read again: not every notebook is kept in memory
        if data is None:
            return whole_submission(key.exercises, key.points, "unreadable", f"{sub.path.name}: {why}"), info
        scratch = Path(tempfile.mkdtemp(prefix="sub-", dir=workdir))
        try:
            os.chmod(scratch, 0o755)
            (scratch / "submission.ipynb").write_bytes(data)
            outcome = self.sandbox.run(scratch, sub.chapter, workdir / f"{scratch.name}.log")
            info["seconds"] = outcome.seconds
            where = _where(outcome.progress)
            if outcome.timed_out:
                msg = (f"the notebook ran longer than the {self.limits.timeout:g} s allowed and was "
                       f"stopped{where}. Is there an endless loop, or a cell that waits for input? "
                       "Run it with Restart & Run All and make sure it finishes.")
                return whole_submission(key.exercises, key.points, "timeout", msg), info
            try:
                results, meta = load_result(scratch / ".result.npz", self.limits.max_file_mb * 2**20)
            except ResultError as err:
                msg = self._death_message(outcome, where, str(err))
                return whole_submission(key.exercises, key.points, "error", msg), info
            info["cell_errors"] = [e for e in meta_list(meta, "cell_errors") if isinstance(e, dict)]
            return grade_result(key, results, meta), info
        finally:
            self.sandbox.remove_scratch(scratch)
            try:
                (workdir / f"{scratch.name}.log").unlink()
            except OSError:
                pass

    def _death_message(self, outcome, where: str, why: str) -> str:
        rc = outcome.returncode
        if rc is not None and rc > 128 and rc - 128 in SIGNALS:
            how = f"was killed by {SIGNALS[rc - 128]}"
        elif rc is not None and rc > 128:
            how = f"was killed by signal {rc - 128}"
        else:
            how = f"exited (code {rc})"
        mem = self.limits.memory_mb
        tail = outcome.log_tail.lower()
        hint = ("Did a cell call os._exit() or exit the interpreter, crash it, or run out of memory "
                f"(the limit is {mem} MB)? Run the notebook with Restart & Run All.")
        if "memoryerror" in tail or "bad_alloc" in tail or "resource exhausted" in tail:
            hint = f"It ran out of memory (the limit is {mem} MB): are you building a huge array?"
        detail = "" if why == "no result file was written" else f" ({why})"
        return f"the notebook's process {how}{where} without returning any outputs{detail}. {hint}"

    # -- the batch -----------------------------------------------------------------------------
    def run(self) -> int:
        subs = self.prepare()
        existing = report.read_grades(self.out)
        workdir = Path(tempfile.mkdtemp(prefix="rnnbook-grade-"))
        try:
            if any(not s.status and s.chapter in self.keys for s in subs):
                self.sandbox.probe(workdir)
            return self._run_batch(subs, existing, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _run_batch(self, subs, existing, workdir) -> int:
        rows = OrderedDict((k, v) for k, v in existing.items() if k not in {s.name for s in subs})
        this_run: "OrderedDict[str, list[dict]]" = OrderedDict((s.name, None) for s in subs)
        taken: set = set()  # report names, fixed in submission order (re-runs overwrite them)
        names = {s.name: report.report_name(s.name, taken) for s in subs}
        bar = report.ProgressBar(len(subs), self.err)
        mode = "sandboxed (bubblewrap)" if self.sandbox.sandboxed else "UNSANDBOXED (--no-sandbox)"
        print(f"Grading {len(subs)} submission(s), {self.args.jobs} at once, {mode}; "
              f"{self.limits.timeout:g} s and {self.limits.memory_mb} MB each.", file=self.err)
        interrupted = False
        pool = ThreadPoolExecutor(max_workers=self.args.jobs)
        try:
            pending = {pool.submit(self.grade_one, s, workdir): s for s in subs}
            bar.update(min(len(pending), self.args.jobs))
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    sub = pending.pop(fut)
                    try:
                        grades, info = fut.result()
                    except Exception as err:  # noqa: BLE001 -- a grader bug must not stop the batch
                        msg = f"the grader failed on this submission ({type(err).__name__}: {err})"
                        grades, info = [ExerciseGrade("", 0.0, 0.0, "error", short(msg), [msg])], {}
                    this_run[sub.name] = self._rows(sub, grades)
                    self._write_report(sub, grades, info, names[sub.name])
                    self._write_csv(rows, this_run)
                    total = sum(g.points for g in grades)
                    max_total = sum(g.max_points for g in grades)
                    bar.advance(min(len(pending), self.args.jobs),
                                f"{sub.name}: {report.fmt_points(total)}/{report.fmt_points(max_total)}")
        except KeyboardInterrupt:
            interrupted = True
            self.sandbox.kill_all()
            pool.shutdown(wait=False, cancel_futures=True)
        finally:
            pool.shutdown(wait=not interrupted, cancel_futures=True)
            bar.close()
        graded = [r for rs in this_run.values() if rs for r in rs]
        print(report.summary_table(graded, sum(1 for rs in this_run.values() if rs)), file=self.err)
        print(f"Grades: {self.out}   Feedback: {self.feedback_dir}/", file=self.err)
        if interrupted:
            print("Interrupted: the submissions finished so far are in the grades file.", file=self.err)
            return 130
        return 0

    def _rows(self, sub: Submission, grades: list[ExerciseGrade]) -> list[dict]:
        return [{"submission": sub.name, "chapter": sub.chapter or "", "exercise": g.exercise,
                 "points": report.fmt_points(g.points), "max_points": report.fmt_points(g.max_points),
                 "status": g.status, "feedback": g.feedback} for g in grades]

    def _write_csv(self, rows, this_run) -> None:
        merged = OrderedDict(rows)
        merged.update((k, v) for k, v in this_run.items() if v)
        report.write_atomic(self.out, report.grades_csv(merged))

    def _write_report(self, sub, grades, info, name: str) -> None:
        text = report.markdown_report(sub.name, sub.chapter, grades, sub.notes,
                                      info.get("cell_errors", []), info.get("seconds"))
        report.write_atomic(self.feedback_dir / name, text)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return Grader(args).run()
    except (GraderError, SandboxUnavailable, report.GradesFileError, FileNotFoundError) as err:
        print(f"rnnbook.grade: error: {err}", file=sys.stderr)
        return 2
