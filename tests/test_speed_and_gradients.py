"""Unit tests of rnnbook.speed and rnnbook.gradients."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.speed import time_call


def test_time_call_measures_the_median_and_runs_warmup_first(monkeypatch):
    """With a fake clock (no wall-clock assertion: timing belongs in the benchmark)."""
    import rnnbook.speed as speed

    calls, clock = [], iter([0.0, 1.0, 10.0, 13.0, 20.0, 22.0])
    monkeypatch.setattr(speed.time, "perf_counter", lambda: next(clock))

    def work(x):
        calls.append(x)
        return x

    seconds = time_call(work, 3, repeats=3, warmup=2)
    assert len(calls) == 5
    assert seconds == 2.0  # the median of 1, 3 and 2


def test_time_call_rejects_zero_repeats():
    with pytest.raises(ValueError):
        time_call(print, repeats=0)


def test_identity_relu_rnn_passes_the_gradient_unchanged():
    import keras

    from rnnbook.gradients import gradient_norms_over_lag

    cell = keras.layers.SimpleRNNCell(4, activation="relu", use_bias=False,
                                      kernel_initializer="zeros", recurrent_initializer="identity")
    x = np.ones((2, 10, 3), "float32")
    state = [np.ones((2, 4), "float32")]  # positive state: ReLU passes it, W = I copies it
    norms = gradient_norms_over_lag(cell, x, initial_state=state)
    assert norms.shape == (10,)
    np.testing.assert_allclose(norms, norms[0], rtol=1e-6)


def test_a_contracting_tanh_rnn_has_vanishing_gradients():
    import keras

    from rnnbook.gradients import gradient_norms_over_lag

    keras.utils.set_random_seed(0)
    cell = keras.layers.SimpleRNNCell(8, recurrent_initializer=keras.initializers.Orthogonal(0.5))
    norms = gradient_norms_over_lag(cell, np.random.default_rng(0).normal(size=(4, 20, 2)))
    assert norms[-1] < 1e-3 * norms[0]
    assert np.all(np.diff(norms) < 0)
