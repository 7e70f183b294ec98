"""The ``rnnbook`` command: one entry point for the course's authoring and grading verbs.

    rnnbook [-v | -q] exercises [--check] [CHAPTER ...]   write exercises/ from solutions/
    rnnbook [-v | -q] build-key CHAPTER ... | --all        build answer keys (authors)
    rnnbook [-v | -q] execute NOTEBOOK ...                 execute notebooks, store outputs
    rnnbook [-v | -q] grade [options] [--] SUBMISSION ...  grade a class (see rnnbook grade -h)
    rnnbook [-v | -q] grade merge SHARD.csv ... --out F    merge the CSVs of sharded runs
    rnnbook [-v | -q] gradescope STEM --out autograder.zip a Gradescope autograder (one chapter)
    rnnbook [-v | -q] bench [options]                      the course benchmark

``-v`` shows debugging messages, ``-q`` only warnings and errors (through :mod:`logging`). Each
verb is also ``python -m rnnbook.<module>`` (``rnnbook.exercises``, ``rnnbook.checks.build``,
``rnnbook.notebooks``, ``rnnbook.grade``, ``rnnbook.grade.gradescope``, ``rnnbook.bench``).

Installed as a console script (``[project.scripts]`` in ``pyproject.toml``), the command never
imports a module from the current folder -- a ``csv.py`` beside the submissions stays a file --
and neither does ``python -m rnnbook.cli``, which drops the current folder from ``sys.path``
before importing anything.
"""

import sys

from rnnbook import _drop_cwd_from_path

_drop_cwd_from_path()

import argparse  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402

#: verb -> (module whose main(argv) runs it, one line of help)
VERBS = {
    "exercises": ("rnnbook.exercises",
                  "write exercises/ from solutions/ (--check: change nothing, fail when "
                  "anything, answer keys included, is stale)"),
    "build-key": ("rnnbook.checks.build", "build chapters' answer keys and visible stores from "
                                          "solutions/ (authors)"),
    "execute": ("rnnbook.notebooks", "execute notebooks top to bottom and store their outputs"),
    "grade": ("rnnbook.grade.cli", "grade students' notebooks in a sandbox: a grades CSV and one "
                                   "feedback report per submission"),
    "gradescope": ("rnnbook.grade.gradescope", "build a Gradescope autograder zip for one "
                                                "chapter"),
    "bench": ("rnnbook.bench", "the course benchmark: notebooks, book build, test suite"),
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rnnbook", allow_abbrev=False,
        description="The course's authoring and grading commands. `rnnbook VERB -h` shows a "
                    "verb's options.")
    level = p.add_mutually_exclusive_group()
    level.add_argument("-v", "--verbose", action="store_true", help="debugging messages too")
    level.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    for verb, (_, text) in VERBS.items():
        sub.add_parser(verb, help=text, add_help=False)
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = parser()
    # the global options come before the verb; everything after it belongs to the verb
    split = next((i for i, a in enumerate(argv) if a in VERBS), None)
    if split is None:
        args = p.parse_args(argv)
        p.print_help(sys.stderr)
        return 2
    args = p.parse_args(argv[:split + 1])
    logging.basicConfig(level=logging.DEBUG if args.verbose else
                        logging.WARNING if args.quiet else logging.INFO,
                        format="%(message)s", stream=sys.stderr)
    module = importlib.import_module(VERBS[args.verb][0])
    code = module.main(argv[split + 1:])
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
