"""Realistic wrong answers to chapter 3's exercises (bidirectional RNNs).

`python -m rnnbook.checks.build 03_bidirectional_rnn` stores their outputs, and
tests/test_checks.py asserts that every check rejects each one with its own message.
"""

import numpy as np

from rnnbook.checks.ch03 import near_markers


def _run(x, s0, U, W, b):
    s, states = s0, []
    for t in range(x.shape[1]):
        s = np.tanh(x[:, t] @ U + s @ W + b)
        states.append(s)
    return np.stack(states, axis=1)


def _merge(fw, bw, mode, wrong=None):
    if mode == "concat":
        if wrong == "concat_time_axis":
            return np.concatenate([fw, bw], axis=1)
        if wrong == "concat_backward_first":
            return np.concatenate([bw, fw], axis=-1)
        return np.concatenate([fw, bw], axis=-1)
    if mode == "sum":
        return fw + bw
    if mode == "mul":
        return fw * bw
    if mode == "ave":
        return fw + bw if wrong == "ave_is_sum" else (fw + bw) / 2
    if mode is None:
        return np.concatenate([fw, bw], axis=-1) if wrong == "none_concat" else (fw, bw)
    raise ValueError(mode)


def _sees(time_steps, offset, bidirectional, wrong=None):
    t = np.arange(time_steps)
    target = t + offset
    end = time_steps + 1 if wrong == "off_by_one_end" else time_steps
    inside = (target >= 0) & (target < end)
    if bidirectional and wrong == "bidirectional_all":
        return np.ones(time_steps, bool)
    if bidirectional or wrong == "same_for_both":
        return inside
    if wrong == "unidirectional_never":
        return np.zeros(time_steps, bool)
    return inside & (target <= t)


# ---- tag_near_markers: tags for X_new (training exercise; cheap NumPy stand-ins for a model) ----

def _rule(X_train, y_train, X_new):
    """The tagging rule read off the training data: the markers of X_new and the window k."""
    markers = X_train[..., 0] > 0.5
    k = min(range(1, 7), key=lambda k: np.mean(near_markers(markers, k)[0] != y_train))
    return near_markers(X_new[..., 0] > 0.5, k)


def tag_unidirectional(X_train, y_train, X_new):
    """A perfect model that reads only x_0..x_t: it cannot know a marker still to come."""
    near, future_only = _rule(X_train, y_train, X_new)
    return (near & ~future_only).astype("int64")


def tag_shifted(X_train, y_train, X_new):
    """Right tags, one step late (targets shifted against the inputs)."""
    near = _rule(X_train, y_train, X_new)[0].astype("int64")
    return np.concatenate([np.zeros_like(near[:, :1]), near[:, :-1]], axis=1)


MISTAKES = {
    "backward_states": {
        "not_reversed_back": lambda x, s0, U, W, b: _run(x[:, ::-1], s0, U, W, b),
        "forward_pass": lambda x, s0, U, W, b: _run(x, s0, U, W, b),
        "reversed_features": lambda x, s0, U, W, b: _run(x[:, ::-1, ::-1], s0, U, W, b)[:, ::-1],
        "reversed_batch": lambda x, s0, U, W, b: _run(x[::-1], s0, U, W, b)[::-1],
        "no_bias": lambda x, s0, U, W, b: _run(x[:, ::-1], s0, U, W, 0 * b)[:, ::-1],
    },
    "merge_directions": {
        key: (lambda fw, bw, mode, key=key: _merge(fw, bw, mode, key))
        for key in ["ave_is_sum", "concat_time_axis", "concat_backward_first", "none_concat"]
    },
    "sees_target": {
        key: (lambda *args, key=key: _sees(*args, wrong=key))
        for key in ["same_for_both", "off_by_one_end", "bidirectional_all", "unidirectional_never"]
    },
    "tag_near_markers": {
        "unidirectional": tag_unidirectional,
        "constant": lambda X, y, X_new: np.zeros(X_new.shape[:2], "int64"),
        "shifted": tag_shifted,
        "probabilities": lambda X, y, X_new: np.where(_rule(X, y, X_new)[0], 0.9, 0.1),
        "column": lambda X, y, X_new: _rule(X, y, X_new)[0][..., None].astype("int64"),
    },
}
