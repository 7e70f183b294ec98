"""``rnnbook.setup.start()``: what every notebook's set-up does to the kernel it runs in.

``start()`` runs in a fresh Python, as in a notebook's kernel, so that the garbage collector of
the test process itself is left alone. One interpreter measures everything (the collector, a
reference cycle, the seeded draws); the seeding test starts a second one to compare its draws.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT


def run_python(code: str, **env) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object, returned here."""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# what a notebook's set-up cell does, then what the tests below look at
PROBE = """\
import gc, json, random, weakref
before = gc.get_threshold()
from rnnbook.setup import GC_THRESHOLDS, start
settings = start(seed=11)
collector = {'before': before, 'after': gc.get_threshold(), 'wanted': GC_THRESHOLDS,
             'frozen': gc.get_freeze_count(), 'tracked': len(gc.get_objects()),
             'enabled': gc.isenabled()}
import keras
import numpy as np
draws = [random.random(), float(np.random.rand()), float(keras.random.uniform(()))]
class Node: pass
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle: reference counting alone never frees it
alive = weakref.ref(a)
del a, b
before = alive() is not None
junk = [[i] for i in range(500_000)]  # allocations that trigger collections
print(json.dumps({'collector': collector, 'draws': draws,
                  'cycle': {'before': before, 'after': alive() is not None}}))
"""


@pytest.fixture(scope="module")
def probe() -> dict:
    return run_python(PROBE)


def test_start_freezes_the_imports_and_raises_the_collector_thresholds(probe):
    got = probe["collector"]
    assert tuple(got["after"]) == tuple(got["wanted"]) != tuple(got["before"])
    assert got["enabled"], "start() must not switch the collector off"
    # TensorFlow and Keras are imported by start(): hundreds of thousands of objects, all
    # frozen, so the collector no longer scans them; only what came after is tracked
    assert got["frozen"] > 100_000 and got["frozen"] > 10 * got["tracked"], got


def test_reference_cycles_made_after_start_are_still_collected_automatically(probe):
    assert probe["cycle"] == {"before": True, "after": False}


def test_start_seeds_python_numpy_and_tensorflow_alike_on_every_run(probe):
    again = run_python(PROBE)
    assert probe["draws"] == again["draws"]
    assert len(set(probe["draws"])) == 3
