"""The measured gradient norms respect the BPTT bound of chapter 5.

``||dL/ds_k|| <= ||dL/ds_t|| (beta_W beta_phi)^(t-k)`` with ``beta_W = ||W||_2`` and
``beta_phi = 1`` for tanh and ReLU, below, at and above a spectral norm of 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.gradients import gradient_norms_over_lag, scaled_orthogonal


@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_scaled_orthogonal_has_all_singular_values_equal_to_the_scale(scale):
    W = scaled_orthogonal(7, scale, seed=3)
    assert W.shape == (7, 7) and W.dtype == np.float32
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), scale, rtol=1e-5)


def test_scaled_orthogonal_is_seeded_and_rejects_no_units():
    np.testing.assert_array_equal(scaled_orthogonal(4, 1.0, seed=1),
                                  scaled_orthogonal(4, 1.0, seed=1))
    assert not np.array_equal(scaled_orthogonal(4, 1.0, seed=1), scaled_orthogonal(4, 1.0, seed=2))
    with pytest.raises(ValueError):
        scaled_orthogonal(0, 1.0)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("scale", [0.8, 1.0, 1.25])
def test_measured_gradient_norms_respect_the_bound(activation, scale):
    import keras

    units, steps = 8, 30
    x = np.random.default_rng(0).normal(size=(4, steps, 2)).astype("float32")
    U = np.random.default_rng(1).normal(scale=0.5, size=(2, units)).astype("float32")
    W = scaled_orthogonal(units, scale)
    cell = keras.layers.SimpleRNNCell(units, activation=activation)
    cell.build((4, 2))
    cell.set_weights([U, W, np.zeros(units, "float32")])
    norms = gradient_norms_over_lag(cell, x)
    beta_w, beta_phi = np.linalg.norm(W, 2), 1.0  # |tanh'| <= 1 and |relu'| <= 1
    bound = norms[0] * (beta_w * beta_phi) ** np.arange(steps)
    assert np.all(norms <= bound * (1 + 1e-5))
    if scale < 1:  # below 1 the bound forces the gradient to vanish
        assert norms[-1] < 1e-2 * norms[0]


def test_the_bound_is_attained_by_a_relu_rnn_with_a_scaled_identity_and_positive_states():
    import keras

    units, steps, scale = 3, 12, 1.1
    cell = keras.layers.SimpleRNNCell(units, activation="relu", use_bias=False)
    cell.build((2, 1))
    cell.set_weights([np.ones((1, units), "float32"), scale * np.eye(units, dtype="float32")])
    norms = gradient_norms_over_lag(cell, np.ones((2, steps, 1), "float32"))
    np.testing.assert_allclose(norms, norms[0] * scale ** np.arange(steps), rtol=1e-4)
