"""Realistic wrong answers to chapter 3's exercises (bidirectional RNNs).

`python -m rnnbook.checks.build 03_bidirectional_rnn` stores their outputs, and
tests/test_checks.py asserts that every check rejects each one with its own message.
"""

import numpy as np


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


def _shape(batch, time, features, units, mode, return_sequences, wrong=None):
    last = 2 * units if mode == "concat" else units
    if wrong == "concat_not_doubled":
        last = units
    elif wrong == "all_doubled":
        last = 2 * units
    elif wrong == "features_last":
        last = 2 * features if mode == "concat" else features
    if return_sequences or wrong == "ignores_return_sequences":
        shape = (batch, time, last)
    else:
        shape = (batch, last)
    if mode is None and wrong != "none_single":
        return shape, shape
    return shape


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
    "output_shape": {
        key: (lambda *args, key=key: _shape(*args, wrong=key))
        for key in ["concat_not_doubled", "all_doubled", "ignores_return_sequences",
                    "none_single", "features_last"]
    },
    "sees_target": {
        key: (lambda *args, key=key: _sees(*args, wrong=key))
        for key in ["same_for_both", "off_by_one_end", "bidirectional_all", "unidirectional_never"]
    },
    "bidirectional_params": {
        "one_direction": lambda f, u: f * u + u * u + u,
        "no_bias": lambda f, u: 2 * (f * u + u * u),
        "shared_recurrent": lambda f, u: 2 * (f * u + u) + u * u,
    },
}
