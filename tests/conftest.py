import os
import sys
from pathlib import Path

# Silence TensorFlow before any test imports it (the notebooks do the same in their first cell).
os.environ.update(TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0")
sys.path.insert(0, str(Path(__file__).parent))

# The golden notebooks are inputs and outputs of the generator's tests, not notebooks to run.
collect_ignore_glob = ["golden/*", "grading_corpus/*"]
