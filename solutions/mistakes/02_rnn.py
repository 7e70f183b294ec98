"""Realistic wrong answers to chapter 2's exercises.

Each function is a mistake a student makes; `python -m rnnbook.checks.build` stores their outputs
so that a check can name the mistake, and tests/test_checks.py asserts that every check rejects
every one of them with its own message.
"""

import numpy as np

# ---- cell_step: the lecture's layout, U (units, features), W (units, units) ---------------------

def cell_step_no_bias(x, s, U, W, b):
    return np.tanh(x @ U.T + s @ W.T)


def cell_step_no_recurrence(x, s, U, W, b):
    return np.tanh(x @ U.T + b)


def cell_step_W_not_transposed(x, s, U, W, b):
    return np.tanh(x @ U.T + s @ W + b)


def cell_step_no_activation(x, s, U, W, b):
    return x @ U.T + s @ W.T + b


def cell_step_relu(x, s, U, W, b):
    return np.maximum(x @ U.T + s @ W.T + b, 0)


# ---- forward over padded sequences (Keras layout) -----------------------------------------------

def _forward(x, s0, U, W, b, lengths=None, reverse=False, carry=True, mask="keep", shift=0):
    time = x.shape[1]
    lengths = np.full(len(x), time) if lengths is None else np.asarray(lengths)
    s, states = s0, []
    for t in range(time):
        prev = s if carry else s0
        new = np.tanh(x[:, t] @ U + prev @ W + b)
        real = (t < lengths - shift)[:, None]
        if mask == "keep":
            s = np.where(real, new, s)
        elif mask == "zero":
            s = np.where(real, new, 0.0)
        else:  # no mask: padding read as real steps
            s = new
        states.append(s)
    if reverse:
        states = states[::-1]
    return np.stack(states, axis=1)


# ---- param_count: `layers` SimpleRNN(units) and Dense(outputs) ---------------------------------

def _stack(f, u, n, o, bias=1, same_inputs=False, swapped=False, dense=True):
    first = f * u + (f * f if swapped else u * u) + bias * u
    upper = (n - 1) * ((f if same_inputs else u) * u + u * u + bias * u)
    return first + upper + (u * o + o if dense else 0)


# ---- readout: softmax probabilities -------------------------------------------------------------

def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _logits(x, s0, U, W, b, V, c):
    return _forward(x, s0, U, W, b) @ V + c


def _pair(p, last=-1):
    return p, p[:, last]


# ---- keras_forward: (states, s_T) from s0 -------------------------------------------------------

def _keras(x, s0, U, W, b, **kw):
    states = _forward(x, s0, U, W, b, **kw)
    return states, states[:, -1]


def keras_zero_initial_state(x, s0, U, W, b):
    return _keras(x, np.zeros_like(s0), U, W, b)


def keras_go_backwards(x, s0, U, W, b):
    """Keras with go_backwards=True reads x from the end and returns the states in that order."""
    return _keras(x[:, ::-1], s0, U, W, b)


# ---- bptt: the loss summed over every step's output ---------------------------------------------

def _bptt(x, y, s0, U, W, b, V, c, tanh_derivative=True, carry=True, W_back=None,
          state_in_dW=-1, every_step=True, first=1, derivative_at=0):
    batch, time = x.shape[0], x.shape[1]
    W_back = W.T if W_back is None else W_back
    s = [s0]
    for t in range(time):
        s.append(np.tanh(x[:, t] @ U + s[-1] @ W + b))
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    dV, dc = np.zeros_like(V), np.zeros_like(c)
    d_s = np.zeros_like(s0)
    for t in range(time, first - 1, -1):
        d_o = 2 * (s[t] @ V + c - y[:, t - 1]) / batch
        if not every_step and t != time:
            d_o = np.zeros_like(d_o)
        dV, dc = dV + s[t].T @ d_o, dc + d_o.sum(axis=0)
        d_state = d_o @ V.T + (d_s if carry else 0)
        derivative = 1 - s[t + derivative_at] ** 2
        delta = d_state * derivative if tanh_derivative else d_state
        dU = dU + x[:, t - 1].T @ delta
        dW = dW + s[t + state_in_dW].T @ delta
        db = db + delta.sum(axis=0)
        d_s = delta @ W_back
    return dU, dW, db, dV, dc, d_s


MISTAKES = {
    "cell_step": {
        "no_bias": cell_step_no_bias,
        "no_recurrence": cell_step_no_recurrence,
        "W_not_transposed": cell_step_W_not_transposed,
        "no_activation": cell_step_no_activation,
        "relu": cell_step_relu,
    },
    "forward": {
        "reversed": lambda *a: _forward(*a, reverse=True),
        "no_mask": lambda *a: _forward(*a, mask="none"),
        "zeros_after_end": lambda *a: _forward(*a, mask="zero"),
        "one_step_short": lambda *a: _forward(*a, shift=1),
        "state_not_carried": lambda *a: _forward(*a, carry=False),
    },
    "param_count": {
        "no_bias": lambda f, u, n, o: _stack(f, u, n, o, bias=0),
        "same_inputs_every_layer": lambda f, u, n, o: _stack(f, u, n, o, same_inputs=True),
        "swapped": lambda f, u, n, o: _stack(f, u, n, o, swapped=True),
        "two_biases": lambda f, u, n, o: _stack(f, u, n, o, bias=2),
        "no_output_layer": lambda f, u, n, o: _stack(f, u, n, o, dense=False),
    },
    "readout": {
        "first_not_last": lambda *a: _pair(_softmax(_logits(*a)), last=0),
        "no_output_bias": lambda *a: _pair(_softmax(_logits(*a[:-1], 0 * a[-1]))),
        "no_softmax": lambda *a: _pair(_logits(*a)),
        "tanh_output": lambda *a: _pair(np.tanh(_logits(*a))),
        "softmax_over_time": lambda *a: _pair(_softmax(_logits(*a), axis=1)),
        "softmax_over_batch": lambda *a: _pair(_softmax(_logits(*a), axis=0)),
    },
    "keras_forward": {
        "zero_initial_state": keras_zero_initial_state,
        "go_backwards": keras_go_backwards,
        "transposed_W": lambda x, s0, U, W, b: _keras(x, s0, U, W.T, b),
        "no_bias": lambda x, s0, U, W, b: _keras(x, s0, U, W, 0 * b),
    },
    "bptt": {
        "no_tanh_derivative": lambda *a: _bptt(*a, tanh_derivative=False),
        "no_carry": lambda *a: _bptt(*a, carry=False),
        "transposed_W": lambda *a: _bptt(*a, W_back=a[4]),
        "current_state_in_dW": lambda *a: _bptt(*a, state_in_dW=0),
        "last_step_only": lambda *a: _bptt(*a, every_step=False),
        "first_step_skipped": lambda *a: _bptt(*a, first=2),
        "derivative_wrong_step": lambda *a: _bptt(*a, derivative_at=-1),
    },
}
