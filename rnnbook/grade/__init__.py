"""Instructor grading: ``python -m rnnbook.grade SUBMISSION.ipynb... --out grades.csv``.

Each submission's code runs in its own process, sandboxed with bubblewrap
(:mod:`rnnbook.grade.sandbox`), through :mod:`rnnbook.runner`, which only returns the student's
outputs on the chapter's hidden cases as plain arrays. The verdict is computed here, in the
grader's process (:mod:`rnnbook.grade.grading`, with :func:`rnnbook.checks.core.judge`), against
``solutions/expected/<chapter>.npz``, which the sandbox cannot see. :mod:`rnnbook.grade.report`
writes the grades CSV (atomically) and one Markdown feedback report per submission;
:mod:`rnnbook.grade.submissions` finds the notebooks and tells their chapter.
"""

from rnnbook.grade.cli import main
from rnnbook.grade.grading import STATUSES

__all__ = ["main", "STATUSES"]
