"""Timing helpers for the speed comparisons in chapters 7 and 8 and for ``rnnbook.bench``.

Timings vary from run to run and machine to machine, so a notebook cell that shows them starts
with ``# NBVAL_IGNORE_OUTPUT``; ratios between two timings measured together are the stabler
number to quote.
"""

from __future__ import annotations

import statistics
import time


def time_call(fn, *args, repeats: int = 5, warmup: int = 1, **kwargs) -> float:
    """Median wall-clock seconds of ``fn(*args, **kwargs)`` over ``repeats`` calls.

    The ``warmup`` calls first absorb one-off costs (tracing a ``tf.function``, building a layer).
    A result with a ``.numpy()`` method is converted, so TensorFlow's asynchronous work is counted.
    """
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    for _ in range(warmup):
        _materialise(fn(*args, **kwargs))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _materialise(fn(*args, **kwargs))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _materialise(result):
    if hasattr(result, "numpy"):
        result.numpy()
    elif isinstance(result, (list, tuple)):
        for item in result:
            _materialise(item)
    return result
