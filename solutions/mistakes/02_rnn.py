"""Realistic wrong answers to chapter 2's exercises.

Each function is a mistake a student makes; `python -m rnnbook.checks.build` stores their outputs
so that a check can name the mistake, and tests/test_checks.py asserts that every check rejects
every one of them with its own message.
"""

import numpy as np


def cell_step_no_bias(x, s, U, W, b):
    return np.tanh(x @ U + s @ W)


def cell_step_no_recurrence(x, s, U, W, b):
    return np.tanh(x @ U + b)


def cell_step_transposed_W(x, s, U, W, b):
    return np.tanh(x @ U + s @ W.T + b)


def cell_step_no_activation(x, s, U, W, b):
    return x @ U + s @ W + b


def cell_step_relu(x, s, U, W, b):
    return np.maximum(x @ U + s @ W + b, 0)


def _forward(x, s0, U, W, b, reverse=False, include_s0=False, carry=True, bias=True):
    steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
    s, states = s0, [s0] if include_s0 else []
    for t in steps:
        prev = s if carry else s0
        s = np.tanh(x[:, t] @ U + prev @ W + (b if bias else 0))
        states.append(s)
    if include_s0:
        states = states[:-1]
    return np.stack(states, axis=1)


def _readout(x, s0, U, W, b, V, c):
    states = _forward(x, s0, U, W, b)
    return states @ V + c


MISTAKES = {
    "cell_step": {
        "no_bias": cell_step_no_bias,
        "no_recurrence": cell_step_no_recurrence,
        "transposed_W": cell_step_transposed_W,
        "no_activation": cell_step_no_activation,
        "relu": cell_step_relu,
    },
    "forward": {
        "reversed": lambda *a: _forward(*a, reverse=True),
        "includes_s0": lambda *a: _forward(*a, include_s0=True),
        "state_not_carried": lambda *a: _forward(*a, carry=False),
        "no_bias": lambda *a: _forward(*a, bias=False),
    },
    "param_count": {
        "no_bias": lambda f, u: u * (f + u),
        "no_recurrent": lambda f, u: u * (f + 1),
        "swapped": lambda f, u: u * f + f * f + u,
        "two_biases": lambda f, u: u * (f + u + 2),
    },
    "readout": {
        "first_not_last": lambda *a: (_readout(*a), _readout(*a)[:, 0]),
        "no_output_bias": lambda *a: (_readout(*a[:-1], 0 * a[-1]), _readout(*a[:-1], 0 * a[-1])[:, -1]),
        "tanh_output": lambda *a: (np.tanh(_readout(*a)), np.tanh(_readout(*a))[:, -1]),
    },
    "keras_forward": {
        "last_only": lambda x, U, W, b: _forward(x, np.zeros((x.shape[0], U.shape[1]), "float32"), U, W, b)[:, -1],
        "go_backwards": lambda x, U, W, b: _forward(x, np.zeros((x.shape[0], U.shape[1]), "float32"), U, W, b, reverse=True),
        "transposed_W": lambda x, U, W, b: _forward(x, np.zeros((x.shape[0], U.shape[1]), "float32"), U, W.T, b),
        "no_bias": lambda x, U, W, b: _forward(x, np.zeros((x.shape[0], U.shape[1]), "float32"), U, W, b, bias=False),
    },
}
