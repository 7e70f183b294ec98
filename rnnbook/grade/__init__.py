"""Instructor grading: ``rnnbook grade SUBMISSION.ipynb... --out grades.csv``.

Each submission's code runs in its own process, sandboxed (:mod:`rnnbook.grade.sandbox`:
bubblewrap, or an unprivileged user), through :mod:`rnnbook.runner`, which only returns the
student's outputs on the chapter's hidden cases as plain arrays. The verdict is computed in the
grader's process (:mod:`rnnbook.grade.grading`, with :func:`rnnbook.checks.judge.judge`)
against the chapter's answer key (``solutions/keys/<chapter>.npz``), which the sandbox cannot see.
:mod:`rnnbook.grade.report` writes the grades CSV (atomically) and one Markdown feedback report
per submission; :mod:`rnnbook.grade.submissions` finds the notebooks and tells their chapter;
:mod:`rnnbook.grade.cli` is the command (with ``--shard K/N`` and ``merge``);
:mod:`rnnbook.grade.warm` runs submissions in warm workers (one sandbox imports TensorFlow once
and forks a child per submission); :mod:`rnnbook.grade.gradescope` builds and runs a Gradescope
autograder.

This module imports nothing, so that ``python -m rnnbook.grade`` can drop the current folder
from ``sys.path`` before any other module is imported (see ``__main__``).
"""

STATUSES = ("passed", "failed", "error", "timeout", "missing", "unreadable")


def main(argv=None) -> int:
    from rnnbook.grade.cli import main as cli_main

    return cli_main(argv)
