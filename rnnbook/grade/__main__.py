"""``python -m rnnbook.grade``: an alias of ``rnnbook grade`` (see :mod:`rnnbook.grade.cli`).

``python -m`` puts the current folder first on ``sys.path``, so a ``csv.py`` among the
submissions would be imported by the grader itself, outside any sandbox. The folder is dropped
before anything else is imported (unless ``rnnbook`` itself was found there: a checkout run
from its root is trusted code).
"""

import sys

from rnnbook import _drop_cwd_from_path

_drop_cwd_from_path()

from rnnbook.grade.cli import main  # noqa: E402

sys.exit(main())
