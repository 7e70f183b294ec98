"""Helpers for the course *Recurrent Neural Networks with TensorFlow*.

One module per concern:

- :mod:`rnnbook.setup` -- quiet TensorFlow, seed everything, choose CPU or GPU settings;
- :mod:`rnnbook.data` -- the datasets and the windowing code taught in chapter 1;
- :mod:`rnnbook.plotting` -- a colour-blind-safe palette and labelled axes;
- :mod:`rnnbook.gradients` -- gradient norms over time lag, taught in chapter 5;
- :mod:`rnnbook.checks` -- the checks the exercise notebooks call, and the answer keys' build;
- :mod:`rnnbook.exercises` -- generate ``exercises/`` from ``solutions/``;
- :mod:`rnnbook.runner` -- execute a notebook and collect an exercise's outputs;
- :mod:`rnnbook.grade` -- grade a class's submitted notebooks;
- :mod:`rnnbook.cli` -- the ``rnnbook`` command (``rnnbook grade``, ``rnnbook build-key``...).

Importing the package imports neither TensorFlow nor Keras (nor anything else).
"""

__version__ = "0.1.0"


def _drop_cwd_from_path() -> None:
    """Remove the current folder from ``sys.path`` (``python -m`` puts it first), unless this
    package was imported from it. Entry points call it before importing anything else, so that
    a ``csv.py`` or ``json.py`` in the folder being graded is never imported by the grader."""
    import os
    import sys

    cwd = os.path.realpath(os.getcwd())
    here = os.path.realpath(os.path.dirname(os.path.dirname(__file__)))
    if here == cwd:
        return
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != cwd]
