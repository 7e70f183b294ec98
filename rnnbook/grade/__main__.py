"""``python -m rnnbook.grade``: see :mod:`rnnbook.grade.cli`."""

from rnnbook.grade.cli import main

raise SystemExit(main())
