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


def _choose(depths, train_loss, val_loss, test_loss, tol, wrong=None):
    """The rule, or one known way to get it wrong."""
    logs = {"on_training": train_loss, "on_test": test_loss}.get(wrong, val_loss)
    if wrong == "last_epoch":
        epoch = np.full(val_loss.shape[:2], val_loss.shape[2] - 1)
    else:
        epoch = np.argmin(val_loss, axis=2)  # (depths, seeds): each run's best epoch
    runs = np.arange(val_loss.shape[1])
    at_best = np.stack([logs[i, runs, epoch[i]] for i in range(len(depths))])
    if wrong == "on_training":
        at_best = logs.min(axis=2)
    score = at_best.min(axis=1) if wrong == "best_seed" else at_best.mean(axis=1)
    if wrong == "ignores_tol":
        i = int(np.argmin(score))
    else:
        near = np.flatnonzero(score <= score.min() + tol)
        i = int(near[-1] if wrong == "ties_deeper" else near[0])
    test = test_loss[i, runs, epoch[i]]
    if wrong == "test_own_best":
        test = test_loss[i].min(axis=1)
    return (i if wrong == "index_not_depth" else depths[i]), float(test.mean())


MISTAKES = {
    "stack_forward": {
        key: (lambda x, layers, key=key: _stack(x, layers, key))
        for key in ["first_layer_only", "last_state_repeated", "no_bias_upper", "one_step_late"]
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
    "choose_depth": {
        key: (lambda *args, key=key: _choose(*args, wrong=key))
        for key in ["on_training", "on_test", "best_seed", "ties_deeper", "ignores_tol",
                    "last_epoch", "index_not_depth", "test_own_best"]
    },
}
