"""Realistic wrong answers to chapter 6's exercises (gate behaviour).

Each function is a mistake a student makes; `python -m rnnbook.checks.build` stores their outputs
so that a check can name the mistake, and tests/test_checks.py asserts that every check rejects
every one of them with its own message.
"""

import numpy as np


def _fit_to(grad, like):
    """Sum a gradient over the axes that `like` was broadcast along (the correct reduction)."""
    return grad.sum(axis=0) if like.ndim < grad.ndim else grad


# ---- add gate ------------------------------------------------------------------------------

def add_split_in_half(x, y, g):
    return g / 2, _fit_to(g / 2, y)


def add_multiply_rule(x, y, g):
    return g * y, _fit_to(g * x, y)


def add_local_only(x, y, g):
    return np.ones_like(x), np.ones_like(y)


def add_no_sum_over_batch(x, y, g):
    return g, g


def add_mean_over_batch(x, y, g):
    return g, (g.mean(axis=0) if y.ndim < g.ndim else g)


# ---- sigmoid gate --------------------------------------------------------------------------

def _sigmoid(a):
    return 1 / (1 + np.exp(-a.astype("float64")))


def sigmoid_no_derivative(x, a, g):
    s = _sigmoid(a)
    return s * x, g * s, g * x


def sigmoid_missing(x, a, g):
    return a * x, g * a, g * x


def sigmoid_add_rule(x, a, g):
    s = _sigmoid(a)
    return s * x, g, g * x * s * (1 - s)


def sigmoid_tanh_gate(x, a, g):
    t = np.tanh(a.astype("float64"))
    return t * x, g * t, g * x * (1 - t ** 2)


# ---- forget value for a memory -------------------------------------------------------------

def _logit(f):
    return np.log(f / (1 - f))


def memory_level_to_the_n(steps, level):
    f = level ** steps
    return f, _logit(f)


def memory_linear(steps, level):
    f = 1 - (1 - level) / steps
    return f, _logit(f)


def memory_no_logit(steps, level):
    f = level ** (1 / steps)
    return f, f


def memory_inverted_logit(steps, level):
    f = level ** (1 / steps)
    return f, -_logit(f)


# ---- smallest forget value for a gradient: backpropagation by hand -------------------------

def _norms(x, U, W, forgets, lag, write_full=False, lag_shift=0, whole_batch=False):
    T = x.shape[1]
    k = T - max(int(lag) - lag_shift, 0)
    out = []
    for f in forgets:
        f = float(f)
        write = 1.0 if write_full else 1 - f
        c, cs = np.zeros((x.shape[0], W.shape[0])), []
        for t in range(T):
            cs.append(c)
            c = f * c + write * np.tanh(x[:, t] @ U + c @ W)
        delta = np.ones_like(c)  # dL/dc_T with L = sum(c_T)
        for i in range(T, k, -1):  # from c_i back to c_(i-1)
            net = x[:, i - 1] @ U + cs[i - 1] @ W
            delta = f * delta + (delta * write * (1 - np.tanh(net) ** 2)) @ W.T
        out.append(np.linalg.norm(delta) if whole_batch else np.linalg.norm(delta, axis=-1).mean())
    return np.array(out)


def _pick(forgets, norms, threshold, largest=False):
    passing = np.asarray(forgets)[norms >= threshold]
    if not passing.size:
        return -1.0
    return float(passing.max() if largest else passing.min())


def _forget(**kw):
    largest = kw.pop("largest", False)

    def smallest_forget(x, U, W, forgets, lag, threshold):
        norms = _norms(x, U, W, forgets, lag, **kw)
        return norms, _pick(forgets, norms, threshold, largest)
    return smallest_forget


MISTAKES = {
    "add_gate": {
        "split_in_half": add_split_in_half,
        "multiply_rule": add_multiply_rule,
        "local_only": add_local_only,
        "no_sum_over_batch": add_no_sum_over_batch,
        "mean_over_batch": add_mean_over_batch,
    },
    "multiply_gate": {
        "swapped": lambda x, y, g: (g * x, g * y),
        "add_rule": lambda x, y, g: (g, g),
        "local_only": lambda x, y, g: (y, x),
    },
    "sigmoid_gate": {
        "no_sigmoid_derivative": sigmoid_no_derivative,
        "no_sigmoid": sigmoid_missing,
        "add_rule": sigmoid_add_rule,
        "tanh_gate": sigmoid_tanh_gate,
    },
    "memory_gate": {
        "level_to_the_n": memory_level_to_the_n,
        "linear": memory_linear,
        "no_logit": memory_no_logit,
        "inverted_logit": memory_inverted_logit,
    },
    "forget_for_gradient": {
        "off_by_one": _forget(lag_shift=1),
        "no_one_minus_f": _forget(write_full=True),
        "largest_passing": _forget(largest=True),
        "whole_batch_norm": _forget(whole_batch=True),
    },
}
