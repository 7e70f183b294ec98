"""Helpers for the course *Recurrent Neural Networks with TensorFlow*.

One module per concern:

- :mod:`rnnbook.setup` -- quiet TensorFlow, seed everything, choose CPU or GPU settings;
- :mod:`rnnbook.data` -- the datasets and the windowing code taught in chapter 1;
- :mod:`rnnbook.plotting` -- a colour-blind-safe palette and labelled axes;
- :mod:`rnnbook.gradients` -- gradient norms over time lag, taught in chapter 5;
- :mod:`rnnbook.checks` -- the checks the exercise notebooks call;
- :mod:`rnnbook.exercises` -- generate ``exercises/`` from ``solutions/``;
- :mod:`rnnbook.runner` -- execute a notebook and collect an exercise's outputs;
- :mod:`rnnbook.grade` -- grade a class's submitted notebooks.

Importing the package imports neither TensorFlow nor Keras.
"""

__version__ = "0.1.0"
