"""Compute the known mistakes' outputs on a chapter's hidden cases (a helper process of the grader).

``python -m rnnbook.grade.mistakes 02_rnn OUT.npz`` runs the realistic wrong answers of
``tests/mistakes/<chapter>.py`` (the course's own code, trusted) on the hidden cases and writes
their outputs, so that the grader's feedback can name a mistake ("did you forget the bias b?")
on the hidden cases just as the in-notebook check does on the visible ones. It runs in its own
process because a mistake may use TensorFlow, which the grader keeps out of its memory.
"""

from __future__ import annotations

import sys

import numpy as np

from rnnbook.checks import exercises
from rnnbook.checks.build import load_mistakes
from rnnbook.checks.core import pack


def main(argv=None) -> int:
    chapter, out = (argv if argv is not None else sys.argv[1:])[:2]
    known = load_mistakes(chapter)
    stored: dict = {}
    for name, ex in exercises(chapter).items():
        for key, fn in known.get(name, {}).items():
            for case, args in ex.make_cases(hidden=True).items():
                try:
                    got = ex.run(fn, [np.array(a, copy=True) for a in args])
                except Exception:  # noqa: BLE001 -- a mistake that cannot run on this case
                    continue
                stored.setdefault(name, {}).setdefault(case, {})[f"mistake:{key}"] = got
    np.savez_compressed(out, **pack(stored, {"chapter": chapter}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
