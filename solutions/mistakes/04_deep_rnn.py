"""Realistic wrong answers to chapter 4's exercises (deep RNNs).

`python -m rnnbook.checks.build 04_deep_rnn` stores their outputs, and tests/test_checks.py
asserts that every check rejects each one with its own message.
"""

import numpy as np


def _run(h, U, W, b):
    s, states = np.zeros((h.shape[0], W.shape[0]), h.dtype), []
    for t in range(h.shape[1]):
        s = np.tanh(h[:, t] @ U + s @ W + b)
        states.append(s)
    return np.stack(states, axis=1)


def _stack(x, layers, wrong=None):
    h = x
    for i, (U, W, b) in enumerate(layers):
        if i > 0 and wrong == "last_state_repeated":
            h = np.repeat(h[:, -1:], h.shape[1], axis=1)
        if i > 0 and wrong == "one_step_late":
            h = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
        if i > 0 and wrong == "no_bias_upper":
            b = 0 * b
        h = _run(h, U, W, b)
        if wrong == "first_layer_only":
            return h
    return h


def _params(features, units, bidirectional, wrong=None):
    total, inputs = 0, features
    directions = 2 if bidirectional else 1
    for n in units:
        if wrong == "input_always_features":
            inputs = features
        per = inputs * n + n * n + (0 if wrong == "no_bias" else n)
        total += per if wrong == "bi_one_direction" else directions * per
        inputs = n if wrong == "bi_input_not_doubled" else directions * n
    return total


def _shape(batch, time, features, units, top_sequences, bidirectional, wrong=None):
    n = units[0] if wrong == "first_layer_units" else units[-1]
    last = 2 * n if bidirectional and wrong != "ignores_bidirectional" else n
    if top_sequences or wrong == "ignores_return_sequences":
        return batch, time, last
    return batch, last


def _fix(flags, many_to_many, wrong=None):
    if wrong == "all_true":
        return [True] * len(flags)
    if wrong == "last_unchanged":
        return [True] * (len(flags) - 1) + [bool(flags[-1])]
    if wrong == "top_only":
        return list(flags[:-1]) + [bool(many_to_many)]
    raise ValueError(wrong)


def _backwards_stack(x, layers):
    h = x
    for U, W, b in layers:
        h = _run(h[:, ::-1], U, W, b)  # go_backwards returns states in reading order
    return h


MISTAKES = {
    "stack_forward": {
        key: (lambda x, layers, key=key: _stack(x, layers, key))
        for key in ["first_layer_only", "last_state_repeated", "no_bias_upper", "one_step_late"]
    },
    "stack_params": {
        key: (lambda f, u, bi, key=key: _params(f, u, bi, key))
        for key in ["input_always_features", "bi_input_not_doubled", "no_bias", "bi_one_direction"]
    },
    "stack_output_shape": {
        key: (lambda *args, key=key: _shape(*args, wrong=key))
        for key in ["first_layer_units", "ignores_bidirectional", "ignores_return_sequences"]
    },
    "fix_return_sequences": {
        key: (lambda flags, m, key=key: _fix(flags, m, key))
        for key in ["all_true", "last_unchanged", "top_only"]
    },
    "keras_stack": {
        "last_only": lambda x, layers: _stack(x, layers)[:, -1],
        "first_layer_only": lambda x, layers: _stack(x, layers, "first_layer_only"),
        "go_backwards": _backwards_stack,
    },
}
