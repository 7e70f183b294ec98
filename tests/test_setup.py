"""``rnnbook.setup.start()``: what every notebook's set-up does to the kernel it runs in.

Each test runs ``start()`` in a fresh Python, as a notebook's kernel would, so that the garbage
collector of the test process itself is left alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers import ROOT


def run_python(code: str, **env) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object, returned here."""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_start_freezes_the_imports_and_raises_the_collector_thresholds():
    got = run_python(
        "import gc, json\n"
        "before = gc.get_threshold()\n"
        "from rnnbook.setup import GC_THRESHOLDS, start\n"
        "settings = start(seed=3)\n"
        "print(json.dumps({'before': before, 'after': gc.get_threshold(),\n"
        "                  'wanted': GC_THRESHOLDS, 'frozen': gc.get_freeze_count(),\n"
        "                  'tracked': len(gc.get_objects()), 'enabled': gc.isenabled()}))\n")
    assert tuple(got["after"]) == tuple(got["wanted"]) != tuple(got["before"])
    assert got["enabled"], "start() must not switch the collector off"
    # TensorFlow and Keras are imported by start(): hundreds of thousands of objects, all
    # frozen, so the collector no longer scans them; only what came after is tracked
    assert got["frozen"] > 100_000 and got["frozen"] > 10 * got["tracked"], got


def test_reference_cycles_made_after_start_are_still_collected_automatically():
    got = run_python(
        "import gc, json, weakref\n"
        "from rnnbook.setup import start\n"
        "start()\n"
        "class Node: pass\n"
        "a, b = Node(), Node()\n"
        "a.other, b.other = b, a  # a cycle: reference counting alone never frees it\n"
        "alive = weakref.ref(a)\n"
        "del a, b\n"
        "before = alive() is not None\n"
        "junk = [[i] for i in range(500_000)]  # allocations that trigger collections\n"
        "print(json.dumps({'before': before, 'after': alive() is not None}))\n")
    assert got == {"before": True, "after": False}


def test_start_seeds_python_numpy_and_tensorflow_alike_on_every_run():
    code = ("import json, random\nimport numpy as np\nfrom rnnbook.setup import start\n"
            "start(seed=11)\nimport keras\n"
            "print(json.dumps([random.random(), float(np.random.rand()),\n"
            "                  float(keras.random.uniform(()))]))\n")
    first, second = run_python(code), run_python(code)
    assert first == second
    assert len(set(first)) == 3
