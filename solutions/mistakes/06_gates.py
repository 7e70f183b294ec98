"""Realistic wrong answers to chapter 6's exercises (gate behaviour).

Each function is a mistake a student makes; `python -m rnnbook.checks.build` stores their outputs
so that a check can name the mistake, and tests/test_checks.py asserts that every check rejects
every one of them with its own message.
"""

import numpy as np


def _reduce(grad, shape, *, leading=True, size_one=True, keepdims=True, how=np.sum):
    """The upstream gradient reduced to an input's shape; the switches leave out a step."""
    grad = np.asarray(grad, "float64")
    lead = grad.ndim - len(shape)
    if leading and lead > 0:
        grad = how(grad, axis=tuple(range(lead)))
    if size_one:
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if axes:
            grad = how(grad, axis=axes, keepdims=keepdims)
    return grad


def _add(**kw):
    scale = kw.pop("scale", 1.0)
    return lambda x, y, g: (_reduce(g * scale, np.shape(x), **kw),
                            _reduce(g * scale, np.shape(y), **kw))


def _batch_axis_only(x, y, g):
    return tuple(g if np.shape(v) == g.shape else g.sum(axis=0) for v in (x, y))


# ---- the mixing gate -----------------------------------------------------------------------

def _mix(x, y, gate, g, *, gate_grad="right", y_weight="right", upstream=True):
    g = g if upstream else np.ones_like(g)
    dgate = {"right": g * (x - y), "one_term": g * x, "sign": g * (y - x)}[gate_grad]
    dy = g * (1 - gate) if y_weight == "right" else g * gate
    return g * gate, dy, dgate


# ---- a gate computed from the input --------------------------------------------------------

def _sigmoid(a):
    return 1 / (1 + np.exp(-a.astype("float64")))


def _input_gate(u, w, b, v, g, *, slope=True, sum_bias=True, mean=False, transposed=False,
                gate="sigmoid"):
    u, w, b, v, g = (np.asarray(t, "float64") for t in (u, w, b, v, g))
    a = u @ w + b
    if gate == "sigmoid":
        s = _sigmoid(a)
        ds = s * (1 - s)
    else:
        s = np.tanh(a)
        ds = 1 - s ** 2
    da = g * v * (ds if slope else 1.0)  # (batch, units)
    dw = da.T @ u if transposed else u.T @ da
    db = da.sum(axis=0) if sum_bias else da
    if mean:
        dw, db = dw / len(u), da.mean(axis=0)
    return s * v, g * s, dw, db


def _gate_mistake(**kw):
    return lambda u, w, b, v, g: _input_gate(u, w, b, v, g, **kw)


# ---- how long a forget gate keeps a memory -------------------------------------------------

def _span(a, level, *, rounding=np.floor, sigmoid=True, inverted=False, linear=False):
    a, level = np.asarray(a, "float64"), np.asarray(level, "float64")
    with np.errstate(all="ignore"):
        f = _sigmoid(a) if sigmoid else a
        if linear:
            ratio = (1 - level) / (1 - f)
        elif inverted:
            ratio = np.log(f) / np.log(level)
        else:
            ratio = np.log(level) / np.log(f)
        return f, rounding(ratio)


def _span_mistake(**kw):
    return lambda a, level: _span(a, level, **kw)


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
        "split_in_half": _add(scale=0.5),
        "local_only": lambda x, y, g: (np.ones(np.shape(x)), np.ones(np.shape(y))),
        "no_sum": lambda x, y, g: (g, g),
        "batch_axis_only": _batch_axis_only,
        "leading_axes_only": _add(size_one=False),
        "no_keepdims": _add(keepdims=False),
        "mean": _add(how=np.mean),
    },
    "mix_gate": {
        "gate_one_term": lambda x, y, gate, g: _mix(x, y, gate, g, gate_grad="one_term"),
        "gate_sign": lambda x, y, gate, g: _mix(x, y, gate, g, gate_grad="sign"),
        "y_scaled_by_gate": lambda x, y, gate, g: _mix(x, y, gate, g, y_weight="gate"),
        "no_upstream": lambda x, y, gate, g: _mix(x, y, gate, g, upstream=False),
    },
    "input_gate": {
        "no_sigmoid_derivative": _gate_mistake(slope=False),
        "bias_not_summed": _gate_mistake(sum_bias=False),
        "mean_over_batch": _gate_mistake(mean=True),
        "w_grad_transposed": _gate_mistake(transposed=True),
        "tanh_gate": _gate_mistake(gate="tanh"),
    },
    "memory_gate": {
        "ceil": _span_mistake(rounding=np.ceil),
        "rounded": _span_mistake(rounding=np.round),
        "no_sigmoid": _span_mistake(sigmoid=False),
        "inverted": _span_mistake(inverted=True),
        "linear": _span_mistake(linear=True),
    },
    "forget_for_gradient": {
        "off_by_one": _forget(lag_shift=1),
        "no_one_minus_f": _forget(write_full=True),
        "largest_passing": _forget(largest=True),
        "whole_batch_norm": _forget(whole_batch=True),
    },
}
