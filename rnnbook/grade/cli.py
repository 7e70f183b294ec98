"""``rnnbook grade``: grade a class's notebooks, safely.

    rnnbook grade [options] [--] SUBMISSION.ipynb|FOLDER ...
        --out grades.csv [--jobs N] [--timeout SECONDS] [--chapter STEM] [--feedback-dir DIR]
        [--cold] [--sandbox bubblewrap|user|none] [--shard K/N]
    rnnbook grade merge SHARD.csv ... --out grades.csv

(``merge`` as the first argument is the merge verb: a folder of submissions called ``merge`` is
written ``./merge``.)

(``python -m rnnbook.grade`` is an alias.) Exit status: 0 when grading ran (whatever the students
scored); 2 when the grader itself cannot run (bad arguments, no submissions, a missing or stale
answer key, no working sandbox); 130 when interrupted (the grades of the submissions finished so
far are written).

One submission can hurt neither another's grade nor the batch: whatever happens to it -- a file
that cannot be read, a crash of its process, a bug of the grader on it -- becomes that
submission's own rows, and the batch goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections import OrderedDict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from rnnbook.checks import chapters as spec_chapters
from rnnbook.checks import exercises
from rnnbook.grade import report
from rnnbook.grade.grading import (
    ChapterKey,
    ExerciseGrade,
    GraderError,
    default_key_dir,
    grade_result,
    key_chapters,
    load_key,
    whole_submission,
)
from rnnbook.grade.results import ResultError, load_result, meta_list, short
from rnnbook.grade.sandbox import SANDBOXES, Limits, SandboxUnavailable, make_sandbox, remove_tree
from rnnbook.grade.submissions import Submission, display_names, find_notebooks, prepare
from rnnbook.grade.warm import WarmPool
from rnnbook.runner import write_cases

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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rnnbook grade", allow_abbrev=False,
        description="Grade students' exercise notebooks: run each one in a bubblewrap sandbox, "
                    "judge its functions on hidden cases outside the sandbox, and write a grades "
                    "CSV plus one Markdown feedback report per submission. Put `--` before the "
                    "submissions when they come from a shell pattern (*.ipynb).")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help="notebooks (.ipynb) or folders to search for notebooks; a path that "
                        "starts with '-' is refused (write ./-name.ipynb)")
    p.add_argument("--out", required=True, help="the grades CSV to write (rows of other "
                   "submissions already in it are kept; this run's submissions are replaced)")
    p.add_argument("--jobs", type=int, default=cores(), help="submissions run at once "
                   "(default: the cores, %(default)s here)")
    p.add_argument("--timeout", type=float, default=Limits.timeout,
                   help="wall-clock seconds per submission (default %(default)g)")
    p.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout,
                   help="seconds per code cell (default %(default)g)")
    p.add_argument("--call-timeout", type=float, default=Limits.call_timeout,
                   help="seconds per call of an exercise function on one case (default "
                        "%(default)g; a training exercise may have a longer limit of its own; "
                        "never more than --timeout)")
    p.add_argument("--memory-mb", type=int, default=Limits.memory_mb,
                   help="memory per submission, MB: the address space of each process and the "
                        "resident memory of all its processes together (default %(default)s)")
    p.add_argument("--max-procs", type=int, default=Limits.max_procs,
                   help="processes and threads per submission (default %(default)s)")
    p.add_argument("--disk-mb", type=int, default=Limits.disk_mb,
                   help="the size of a submission's home folder, a tmpfs (default %(default)s)")
    p.add_argument("--chapter", help="grade every submission as this chapter (e.g. 02_rnn)")
    p.add_argument("--feedback-dir", help="where the per-submission reports go "
                   "(default: <out without .csv>-feedback/)")
    p.add_argument("--key-dir", type=Path, default=None,
                   help="folder holding the answer keys <chapter>.npz (default: solutions/keys "
                        "of the checkout)")
    p.add_argument("--sandbox", choices=list(SANDBOXES), default="bubblewrap",
                   help="how students' code is isolated: bubblewrap (default; namespaces), user "
                        "(the grader runs as root and the code as an unprivileged user id that "
                        "cannot read the keys), none (UNSAFE, no isolation)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="UNSAFE, the same as --sandbox none: run students' code without any "
                        "isolation (only for code you trust)")
    p.add_argument("--cold", action="store_true",
                   help="one fresh sandbox per submission (slower) instead of warm workers that "
                        "import TensorFlow once and fork a child per submission (bubblewrap only)")
    p.add_argument("--shard", type=shard_spec, default=None, metavar="K/N",
                   help="grade only the K-th of N deterministic slices of the submissions "
                        "(K from 0 to N-1; merge the shards' CSVs with `rnnbook grade merge`)")
    return p


def shard_spec(text: str) -> tuple[int, int]:
    """``"2/8"`` -> ``(2, 8)``: the shard K (0 <= K < N) of N."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N (e.g. 0/4)") from None
    if n < 1 or not 0 <= k < n:
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 <= K < N")
    return k, n


def option_files(argv: list[str]) -> list[str]:
    """Arguments before ``--`` that look like options but name existing files: a shell pattern
    such as ``*.ipynb`` expanded to a file named ``--key-dir=x.ipynb``."""
    found = []
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith("-") and os.path.lexists(arg):
            found.append(arg)
    return found


def parse_args(argv=None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = parser()
    tricks = option_files(argv)
    if tricks:
        p.error(f"{', '.join(map(repr, tricks))} is both an option and a file here: a "
                "submission named like an option (did a pattern such as *.ipynb expand to it?). "
                "Put `--` before the submissions (rnnbook grade --out grades.csv -- *.ipynb) "
                "or write them as ./*.ipynb.")
    args = p.parse_args(argv)
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    for name in ("timeout", "cell_timeout", "call_timeout"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if args.memory_mb < 256:
        p.error("--memory-mb must be at least 256")
    if args.max_procs < 16:
        p.error("--max-procs must be at least 16")
    if args.disk_mb < 16:
        p.error("--disk-mb must be at least 16")
    if args.chapter:
        try:
            exercises(args.chapter)
        except KeyError as err:
            p.error(str(err).strip("'\""))
    if args.no_sandbox:
        if args.sandbox not in ("bubblewrap", "none"):
            p.error("--no-sandbox contradicts --sandbox " + args.sandbox)
        args.sandbox = "none"
    return args


def shard(items: list[tuple], k: int, n: int) -> list[tuple]:
    """The K-th of N deterministic slices of ``(path, name, ...)`` items: sorted by name, every
    N-th from the K-th. The same submissions give the same slices on every machine, whatever the
    order of the arguments; the N slices together hold every submission exactly once."""
    ordered = sorted(items, key=lambda item: item[1].encode("utf-8", "surrogateescape"))
    return ordered[k::n]


class Grader:
    """Grades a batch: prepares submissions, runs them N at once, writes as each finishes."""

    def __init__(self, args: argparse.Namespace, stderr=None):
        self.args = args
        self.err = stderr or sys.stderr
        self.out = Path(args.out)
        self.feedback_dir = Path(args.feedback_dir) if args.feedback_dir else \
            self.out.with_name(self.out.stem + "-feedback")
        self.key_dir = Path(args.key_dir or default_key_dir()).resolve()
        self.limits = Limits(timeout=args.timeout, cell_timeout=args.cell_timeout,
                             call_timeout=args.call_timeout, memory_mb=args.memory_mb,
                             max_procs=args.max_procs, disk_mb=args.disk_mb)
        secret = [self.key_dir, self.key_dir.parent]
        self.sandbox = make_sandbox(args.sandbox, self.limits, secret)
        self.warm = not args.cold and self.sandbox.kind == "bubblewrap"
        self.pool: WarmPool | None = None
        self.probed = False  # True when the caller has probed the sandbox already
        self.keys: dict[str, ChapterKey] = {}
        self.cases_files: dict[str, Path] = {}
        self.unknown_chapters: dict[str, str] = {}
        self.csv_failed = self.report_failed = False

    # -- before anything runs -----------------------------------------------------------------
    def known_chapters(self) -> list[str]:
        try:
            listed = spec_chapters()
        except (OSError, ValueError):
            listed = []
        return sorted(set(listed) | set(key_chapters(self.key_dir)))

    def prepare(self) -> list[Submission]:
        paths, refused = find_notebooks(self.args.submissions)
        if not paths and not refused:
            raise GraderError("no notebooks (.ipynb) found in "
                              + ", ".join(map(repr, self.args.submissions)))
        known = self.known_chapters()
        found = list(zip(paths, display_names(paths), [False] * len(paths)))
        found += zip(refused, display_names(refused), [True] * len(refused))
        if self.args.shard:
            found = shard(found, *self.args.shard)
        subs = []
        for path, name, is_refused in found:
            if is_refused:
                subs.append(Submission(path=path, name=name, status="error", problem=(
                    "refused: the path starts with '-', like an option. Rename the file, or "
                    "pass it as ./NAME (after `--`).")))
            else:
                subs.append(prepare(path, name, known, self.args.chapter))
        needed = sorted({s.chapter for s in subs if s.chapter and not s.status})
        for chapter in needed:
            try:
                exercises(chapter)
            except KeyError:
                self.unknown_chapters[chapter] = (
                    f"chapter {chapter} has no exercises in this version of rnnbook, so it "
                    "cannot be graded.")
                continue
            self.keys[chapter] = load_key(chapter, self.key_dir)  # GraderError if missing
        for sub in subs:  # rows of a known chapter show its exercises, even for a broken file
            if sub.chapter and sub.chapter not in self.keys and sub.chapter in known \
                    and sub.chapter not in self.unknown_chapters:
                try:
                    self.keys[sub.chapter] = load_key(sub.chapter, self.key_dir)
                except GraderError:
                    pass
        return subs

    def cases_file(self, chapter: str, workdir: Path) -> Path:
        """The chapter's hidden inputs, written once per batch (the sandbox gets a copy)."""
        if chapter not in self.cases_files:
            path = workdir / f"cases-{chapter}.npz"
            write_cases(path, self.keys[chapter].inputs())
            os.chmod(path, 0o644)
            self.cases_files[chapter] = path
        return self.cases_files[chapter]

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
        inputs = Path(tempfile.mkdtemp(prefix="sub-", dir=workdir))
        result = inputs.with_name(inputs.name + "-result.npz")
        scratch = inputs.with_name(inputs.name + "-home")
        try:
            os.chmod(inputs, 0o755)
            (inputs / "cells.json").write_text(json.dumps(sub.sources), encoding="utf-8")
            shutil.copyfile(self.cases_file(sub.chapter, workdir), inputs / "cases.npz")
            if self.pool is not None:
                outcome = self.pool.run(inputs, sub.chapter, result)
            else:
                if self.sandbox.kind != "bubblewrap":
                    scratch.mkdir()
                outcome = self.sandbox.run(inputs, sub.chapter, result, scratch)
            info["seconds"] = outcome.seconds
            where = _where(outcome.progress)
            if outcome.timed_out:
                msg = (f"the notebook ran longer than the {self.limits.timeout:g} s allowed and "
                       f"was stopped{where}. Is there an endless loop, or a cell that waits for "
                       "input? "
                       "Run it with Restart & Run All and make sure it finishes.")
                return whole_submission(key.exercises, key.points, "timeout", msg), info
            if outcome.killed_for:
                if outcome.killed_for == "memory":
                    what = (f"more than {self.limits.memory_mb} MB of memory (all its processes "
                            "together). Are you building a huge array, or copying it in many "
                            "processes?")
                else:
                    what = (f"more than {self.limits.max_procs} processes and threads. Are you "
                            "starting processes in a loop?")
                msg = f"the notebook was stopped{where}: it used {what}"
                return whole_submission(key.exercises, key.points, "error", msg), info
            try:
                results, meta = load_result(result, self.limits.max_file_mb * 2**20)
            except ResultError as err:
                msg = self._death_message(outcome, where, str(err))
                return whole_submission(key.exercises, key.points, "error", msg), info
            info["cell_errors"] = [e for e in meta_list(meta, "cell_errors")
                                   if isinstance(e, dict)]
            return grade_result(key, results, meta), info
        finally:
            for path in (inputs, scratch, result, result.with_name(result.name + ".progress")):
                try:
                    remove_tree(path)
                except OSError:
                    pass

    def _death_message(self, outcome, where: str, why: str) -> str:
        rc = outcome.returncode
        if rc is not None and rc > 128 and rc - 128 in SIGNALS:
            how = f"was killed by {SIGNALS[rc - 128]}"
        elif rc is not None and rc < 0 and -rc in SIGNALS:
            how = f"was killed by {SIGNALS[-rc]}"
        elif rc is not None and (rc > 128 or rc < 0):
            how = f"was killed by signal {abs(rc) % 128}"
        else:
            how = f"exited (code {rc})"
        mem = self.limits.memory_mb
        tail = outcome.log_tail.lower()
        hint = ("Did a cell call os._exit() or exit the interpreter, crash it, or run out of "
                f"memory (the limit is {mem} MB)? Run the notebook with Restart & Run All.")
        if "memoryerror" in tail or "bad_alloc" in tail or "resource exhausted" in tail:
            hint = f"It ran out of memory (the limit is {mem} MB): are you building a huge array?"
        elif "no space left" in tail:
            hint = (f"It filled its disk space ({self.limits.disk_mb} MB in the home folder, "
                    f"{self.limits.tmp_mb} MB in /tmp): are you writing large files?")
        detail = "" if why == "no result file was written" else f" ({why})"
        return f"the notebook's process {how}{where} without returning any outputs{detail}. {hint}"

    # -- the batch -----------------------------------------------------------------------------
    def run(self) -> int:
        subs = self.prepare()
        existing = report.read_grades(self.out)
        workdir = Path(tempfile.mkdtemp(prefix="rnnbook-grade-"))
        try:
            os.chmod(workdir, 0o755)
            for chapter in self.keys:  # before the worker threads start
                self.cases_file(chapter, workdir)
            runnable = sum(1 for s in subs if not s.status and s.chapter in self.keys)
            if runnable and not self.probed:
                self.sandbox.probe(workdir)
            if self.warm and runnable:
                self.pool = WarmPool(self.sandbox, workdir, self.cases_files,
                                     min(self.args.jobs, runnable))
            return self._run_batch(subs, existing, workdir)
        finally:
            if self.pool is not None:
                self.pool.close()
            remove_tree(workdir)

    def _run_batch(self, subs, existing, workdir) -> int:
        names_now = {s.name for s in subs}
        rows = OrderedDict((k, v) for k, v in existing.items() if k not in names_now)
        this_run: OrderedDict[str, list[dict] | None] = OrderedDict((s.name, None) for s in subs)
        bar = report.ProgressBar(len(subs), self.err)
        mode = self.sandbox.description
        if self.sandbox.kind == "bubblewrap":
            mode += ", warm workers" if self.warm else ", one sandbox each (cold)"
        print(f"Grading {len(subs)} submission(s), {self.args.jobs} at once, {mode}; "
              f"{self.limits.timeout:g} s, {self.limits.memory_mb} MB, {self.limits.max_procs} "
              f"tasks and {self.limits.disk_mb} MB of disk each.", file=self.err)
        if not subs:  # an empty shard still writes its (empty) grades file, for the merge
            self._write_csv(rows, this_run)
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
                    except Exception as err:  # noqa: BLE001 -- a grader bug must not stop it
                        msg = f"the grader failed on this submission ({type(err).__name__}: {err})"
                        grades = [ExerciseGrade("", 0.0, 0.0, "error", short(msg), [msg])]
                        info = {}
                    this_run[sub.name] = self._rows(sub, grades)
                    self._write_report(sub, grades, info)
                    self._write_csv(rows, this_run)
                    total = sum(g.points for g in grades)
                    max_total = sum(g.max_points for g in grades)
                    bar.advance(min(len(pending), self.args.jobs),
                                f"{sub.name}: {report.fmt_points(total)}/"
                                f"{report.fmt_points(max_total)}")
        except KeyboardInterrupt:
            interrupted = True
            self.sandbox.kill_all()
            pool.shutdown(wait=False, cancel_futures=True)
        finally:
            pool.shutdown(wait=not interrupted, cancel_futures=True)
            bar.close()
        if self.pool is not None and self.pool.lost:
            print(f"{self.pool.lost} submission(s) stopped their warm worker and were graded "
                  "again, each in a cold sandbox of its own.", file=self.err)
        graded = [r for rs in this_run.values() if rs for r in rs]
        print(report.summary_table(graded, sum(1 for rs in this_run.values() if rs)),
              file=self.err)
        print(f"Grades: {self.out}   Feedback: {self.feedback_dir}/", file=self.err)
        if interrupted:
            print("Interrupted: the submissions finished so far are in the grades file.",
                  file=self.err)
            return 130
        if self.csv_failed or self.report_failed:
            print("rnnbook grade: error: the grades file or a report could not be written (see "
                  "above).", file=self.err)
            return 2
        return 0

    def _rows(self, sub: Submission, grades: list[ExerciseGrade]) -> list[dict]:
        return [{"submission": sub.name, "chapter": sub.chapter or "", "exercise": g.exercise,
                 "points": report.fmt_points(g.points),
                 "max_points": report.fmt_points(g.max_points),
                 "status": g.status, "feedback": g.feedback} for g in grades]

    def _write_csv(self, rows, this_run) -> None:
        merged = OrderedDict(rows)
        merged.update((k, v) for k, v in this_run.items() if v)
        merged = report.sort_rows(merged)
        try:
            report.write_atomic(self.out, report.grades_csv(merged))
            self.csv_failed = self.report_failed = False
        except OSError as err:
            print(f"rnnbook grade: cannot write {self.out} ({err.strerror or err}); trying again "
                  "after the next submission.", file=self.err)
            self.csv_failed = True

    def _write_report(self, sub, grades, info) -> None:
        text = report.markdown_report(sub.name, sub.chapter, grades, sub.notes,
                                      info.get("cell_errors", []), info.get("seconds"))
        try:
            report.write_atomic(self.feedback_dir / report.report_name(sub.name), text)
        except OSError as err:
            print(f"rnnbook grade: cannot write the report of {sub.name} "
                  f"({err.strerror or err}).", file=self.err)
            self.report_failed = True


def merge_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rnnbook grade merge", allow_abbrev=False,
        description="Merge the grades CSVs of shards (rnnbook grade --shard K/N) into one. "
                    "Refuses a submission found in two files (a duplicate, or a conflict when "
                    "the rows differ) and an exercise found twice for one submission.")
    p.add_argument("inputs", nargs="+", metavar="GRADES.csv")
    p.add_argument("--out", required=True, help="the merged grades CSV (sorted by submission)")
    return p


def merge_main(argv) -> int:
    args = merge_parser().parse_args(argv)
    try:
        merged = report.merge_grades([Path(p) for p in args.inputs])
        out = Path(args.out)
        report.read_grades(out)  # refuse to overwrite a file that is not a grades file
        report.write_atomic(out, report.grades_csv(merged))
    except (report.GradesFileError, OSError) as err:
        print(f"rnnbook grade merge: error: {err}", file=sys.stderr)
        return 2
    rows = sum(len(r) for r in merged.values())
    print(f"Merged {len(args.inputs)} file(s): {len(merged)} submission(s), {rows} row(s) -> "
          f"{args.out}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["merge"]:
        return merge_main(argv[1:])
    args = parse_args(argv)
    try:
        return Grader(args).run()
    except (GraderError, SandboxUnavailable, report.GradesFileError, FileNotFoundError) as err:
        print(f"rnnbook grade: error: {err}", file=sys.stderr)
        return 2
