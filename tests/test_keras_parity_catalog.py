"""The catalog against Keras 3 itself (tests/keras_parity_catalog.py), when TENSORLET_KERAS_PYTHON
names a Python with Keras 3 installed (it takes ~20 s: TensorFlow's import)."""
import os
import subprocess
import sys

import pytest

KERAS_PYTHON = os.environ.get("TENSORLET_KERAS_PYTHON")


@pytest.mark.skipif(not KERAS_PYTHON, reason="set TENSORLET_KERAS_PYTHON to a Python with Keras 3 to compare")
def test_catalog_matches_keras():
    script = os.path.join(os.path.dirname(__file__), "keras_parity_catalog.py")
    done = subprocess.run([sys.executable, script, "--keras-python", KERAS_PYTHON], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
