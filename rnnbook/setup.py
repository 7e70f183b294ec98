"""Notebook set-up: silence TensorFlow, seed every generator, and pick CPU or GPU settings.

Every notebook's second cell is ``settings = start(seed=...)``. The first cell (stamped in by
:mod:`rnnbook.exercises`) already set the two environment variables below, because they only take
effect when they are set before TensorFlow is first imported.
"""

from __future__ import annotations

import gc
import os
import sys
import warnings
from dataclasses import dataclass

QUIET_TF_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
#: ``RNNBOOK_SMOKE=1`` runs a notebook's *large* code path (the branches, loaders and shapes a GPU
#: takes) with a handful of steps and tiny data, so that a CPU can test the GPU path quickly.
SMOKE_ENV = "RNNBOOK_SMOKE"


def smoke_mode() -> bool:
    """True when ``RNNBOOK_SMOKE`` is set to a true value (``1``, ``true``, ``yes``)."""
    return os.environ.get(SMOKE_ENV, "").strip().lower() in {"1", "true", "yes"}


def quiet_tensorflow() -> None:
    """Set the variables that keep TensorFlow's C++ log lines out of notebook outputs."""
    if "tensorflow" in sys.modules and any(
        os.environ.get(k) != v for k, v in QUIET_TF_ENV.items()
    ):
        warnings.warn(
            "TensorFlow was imported before rnnbook.setup could silence it, so it may print log "
            "lines: restart the kernel and run the notebook's first cell before anything else.",
            stacklevel=3,
        )
    os.environ.update(QUIET_TF_ENV)


@dataclass(frozen=True)
class Settings:
    """What a notebook runs with: the device found and whether to use the large settings."""

    device: str
    large: bool
    seed: int
    smoke: bool = False

    def pick(self, small, large, smoke=None):
        """Return ``large`` on the large settings (a GPU by default), ``small`` otherwise.

        In smoke mode (``RNNBOOK_SMOKE=1``, a test of the large path on a CPU) the large
        settings are on, and ``smoke`` -- when given -- replaces ``large``: pass it for the
        sizes that cost time (epochs, steps, samples, seeds), not for shapes or branches.
        """
        if self.smoke and smoke is not None:
            return smoke
        return large if self.large else small

    def __repr__(self) -> str:
        size = "large" if self.large else "small"
        extra = ", smoke=True" if self.smoke else ""
        return f"Settings(device={self.device!r}, settings={size!r}, seed={self.seed}{extra})"


#: the garbage collector's thresholds while a notebook trains (Python's default: 700, 10, 10)
GC_THRESHOLDS = (50_000, 50, 50)


def speed_up_garbage_collection() -> None:
    """Keep Python's garbage collector from slowing training down.

    Keras's training loop makes many short-lived Python objects, and with the default thresholds
    the collector runs often and, now and then, scans every object of the process -- TensorFlow's
    and Keras's included. In a Jupyter kernel that took about a third of a small model's ``fit``
    time. ``gc.freeze()`` moves everything that exists now (the imported libraries) out of the
    collector's sight, and larger thresholds make it run less often. Reference cycles are still
    collected, and no result changes: only the timing of the collection does.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def gpu_name() -> str | None:
    """The first GPU TensorFlow sees, or ``None`` on a CPU-only machine."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("device_name", gpus[0].name)


def start(seed: int = 0, large: bool | None = None) -> Settings:
    """Silence TensorFlow, seed Python, NumPy and TensorFlow, tune the garbage collector for
    training (:func:`speed_up_garbage_collection`), and choose the settings size.

    ``large=None`` picks the large settings when a GPU is present (Colab with a GPU runtime) and
    the small ones on a CPU; pass ``True`` or ``False`` to force either. With ``RNNBOOK_SMOKE=1``
    in the environment the large settings are forced, in smoke mode (see :meth:`Settings.pick`).
    """
    quiet_tensorflow()
    import keras
    import tensorflow as tf

    # Python-side TensorFlow warnings (e.g. "retracing") are not covered by TF_CPP_MIN_LOG_LEVEL.
    tf.get_logger().setLevel("ERROR")
    keras.utils.set_random_seed(seed)
    speed_up_garbage_collection()
    name = gpu_name()
    device = "CPU" if name is None else f"GPU ({name})"
    smoke = smoke_mode()
    if smoke:
        large = True
    return Settings(device=device, large=(name is not None) if large is None else bool(large),
                    seed=seed, smoke=smoke)
