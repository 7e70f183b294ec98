"""Benchmark the grader: N submissions of chapter 2 (default 100), mixed, graded cold and warm.

    python scripts/bench_grade.py [--n 100] [--jobs N] [--keep DIR] [--only cold|warm]

Writes N submissions into a temporary folder -- solved, partly right, realistic mistakes,
untouched stubs, a raising cell, a crashing kernel (in that rotation, from
tests/grading_corpus/corpus.py) -- and grades the same folder twice with ``rnnbook grade``
exactly as an instructor would (one process, sandboxed, --jobs N): first ``--cold`` (one fresh
sandbox, Python and TensorFlow per submission), then with warm workers (the default: one sandbox
per job imports TensorFlow once and forks a child per submission). For each it prints the wall
time, submissions per minute, the peak RSS of the grader's own process (``ru_maxrss``, measured
inside it: the students' code runs in the sandboxes) and the machine's load average during the
run (sampled every 5 s: on a shared machine other work slows a batch down); then the speed-up
and whether both runs gave the same grades, row for row.

The floors: 100 submissions in <= 10 minutes cold on the 2-core machine, <= 1 GB for the grader's
process, and warm >= 3x cold. Timing is measured here, never asserted by a test.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading_corpus"))
import corpus  # noqa: E402

ROTATION = ["solved.ipynb", "partly_right.ipynb", "mistakes_a.ipynb", "solved.ipynb",
            "mistakes_b.ipynb", "blank.ipynb", "raises.ipynb", "solved.ipynb", "os_exit.ipynb",
            "partly_right.ipynb"]

# Runs the grader in-process and reports its own peak RSS on the last line of stderr.
DRIVER = """
import json, resource, sys
from rnnbook.cli import main
try:
    code = main(["grade"] + sys.argv[1:])
finally:
    me = resource.getrusage(resource.RUSAGE_SELF)
    print("BENCH " + json.dumps({"maxrss_kb": me.ru_maxrss, "cpu_s": me.ru_utime + me.ru_stime}),
          file=sys.stderr)
raise SystemExit(code)
"""


def make_submissions(folder: Path, n: int) -> dict:
    source = folder / "_corpus"
    corpus.build(source, grades_path=str(folder / "grades.csv"), token="bench", port=9)
    subs = folder / "submissions"
    subs.mkdir()
    kinds: dict = {}
    for i in range(n):
        kind = ROTATION[i % len(ROTATION)]
        name = f"student_{i:03d}_02_rnn.ipynb"
        (subs / name).write_bytes((source / kind).read_bytes())
        kinds[name] = kind
    return kinds


def cpu_of_one_run(notebook: Path, folder: Path) -> float:
    """CPU seconds (user + system) of one runner process on ``notebook``, as the grader starts it
    but without the sandbox (bwrap's PID namespace hides its children's CPU time from rusage)."""
    import resource

    from rnnbook.grade.grading import default_key_dir, load_key
    from rnnbook.grade.sandbox import Limits, package_dir, runner_args, sandbox_env
    from rnnbook.grade.submissions import parse_notebook
    from rnnbook.runner import write_cases

    work = folder / "_cpu"
    work.mkdir()
    _, sources, _ = parse_notebook(notebook.read_bytes())
    (work / "cells.json").write_text(json.dumps(sources))
    write_cases(work / "cases.npz", load_key("02_rnn", default_key_dir()).inputs())
    env = {**sandbox_env(Limits()), "HOME": str(work), "TMPDIR": str(work),
           "MPLCONFIGDIR": str(work), "IPYTHONDIR": str(work), "XDG_CACHE_HOME": str(work),
           "KERAS_HOME": str(work)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(runner_args(Limits(), "02_rnn", str(work), None, str(package_dir().parent),
                               out=str(work / "result.npz")),
                   cwd=work, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def grade_once(folder: Path, mode: str, args) -> dict:
    """Grade ``folder/submissions`` in ``mode`` (``cold`` or ``warm``); time it."""
    out = folder / f"grades-{mode}.csv"
    cmd = [sys.executable, "-c", DRIVER, "--out", str(out), "--timeout", str(args.timeout),
           "--call-timeout", "10"]
    if mode == "cold":
        cmd.append("--cold")
    if args.jobs:
        cmd += ["--jobs", str(args.jobs)]
    cmd += ["--", str(folder / "submissions")]
    loads, done = [os.getloadavg()[0]], threading.Event()

    def sample():
        while not done.wait(5):
            loads.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    wall = time.monotonic() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"rnnbook grade ({mode}) failed:\n{proc.stderr[-3000:]}")
    bench = json.loads(proc.stderr.strip().splitlines()[-1].split("BENCH ", 1)[1])
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    summary = proc.stderr[proc.stderr.find("Summary:"):].rsplit("BENCH", 1)[0].rstrip()
    return {"wall": wall, "bench": bench, "rows": rows, "loads": loads, "summary": summary}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--jobs", type=int, default=None, help="default: the grader's (the cores)")
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--only", choices=["cold", "warm"], help="grade in one mode only")
    p.add_argument("--keep", type=Path, help="keep the submissions and grades in this folder")
    args = p.parse_args(argv)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-grade-"))
    folder.mkdir(parents=True, exist_ok=True)
    kinds = make_submissions(folder, args.n)
    modes = [args.only] if args.only else ["cold", "warm"]
    runs = {mode: grade_once(folder, mode, args) for mode in modes}
    last = runs[modes[-1]]
    print(last["summary"])
    print()
    per_kind: dict = {}
    for row in last["rows"]:
        kind = kinds[Path(row["submission"]).name]
        per_kind.setdefault(kind, {}).setdefault(row["submission"], 0.0)
        per_kind[kind][row["submission"]] += float(row["points"])
    print(f"submissions:            {args.n} (chapter 02_rnn; "
          + ", ".join(f"{len(v)} {k[:-6]}" for k, v in sorted(per_kind.items())) + ")")
    print("scores by kind:         " + ", ".join(
        f"{k[:-6]} {sorted(set(round(s, 2) for s in v.values()))}"
        for k, v in sorted(per_kind.items())))
    for mode, run in runs.items():
        wall, loads = run["wall"], run["loads"]
        print(f"{mode}:")
        print(f"  wall time:            {wall:.1f} s ({wall / 60:.2f} min; floor: 10 min)")
        print(f"  throughput:           {args.n / wall * 60:.1f} submissions/minute")
        print(f"  grader peak RSS:      {run['bench']['maxrss_kb'] / 1024:.0f} MB "
              "(floor: 1024 MB)")
        print(f"  grader CPU time:      {run['bench']['cpu_s']:.1f} s")
        print(f"  load average:         1-minute, during the run: mean "
              f"{sum(loads) / len(loads):.1f}, min {min(loads):.1f}, max {max(loads):.1f}")
    if len(runs) == 2:
        cold, warm = runs["cold"], runs["warm"]
        same = _comparable(cold["rows"]) == _comparable(warm["rows"])
        print(f"warm / cold:            {cold['wall'] / warm['wall']:.1f}x faster "
              "(floor: 3x)")
        print(f"same grades:            {same} (every row: points, status, feedback)")
    cpu = cpu_of_one_run(folder / "_corpus" / "solved.ipynb", folder)
    cores = os.cpu_count() or 1
    print(f"one cold submission:    {cpu:.1f} s of CPU (a solved one; -> about "
          f"{args.n * cpu / cores / 60:.1f} min for {args.n} cold on an otherwise idle machine "
          f"with {cores} cores)")
    print(f"machine:                {cores} cores (other work on the machine slows this down)")
    if args.keep:
        print(f"kept: {folder}")
    return 0


def _comparable(rows: list[dict]) -> list[tuple]:
    """The rows without what legitimately differs between two runs (nothing, today)."""
    return sorted((r["submission"], r["exercise"], r["points"], r["status"], r["feedback"])
                  for r in rows)


if __name__ == "__main__":
    raise SystemExit(main())
