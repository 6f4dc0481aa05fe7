"""bench/mnist_fit.py: its work arithmetic, its NumPy-by-hand peer against tensorlet's training
step, and a small end-to-end run of the parent and its child processes."""
import importlib.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tensorlet as tl

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "mnist_fit.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("mnist_fit_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_work_is_490_9_gflop_for_the_chapters_fit():
    bench = load_bench()
    forward, backward = bench.flops_per_sample()
    assert forward * 128 == 2 * 128 * (784 * 512 + 512 * 10)
    assert backward == 2 * forward - 2 * 784 * 512
    assert round((forward + backward) * 128 / 1e6, 2) == 209.45
    assert round(bench.work_gflop(60000, 5), 1) == 490.9
    assert "490.9 GFLOP" in bench.describe_work(60000, 5, 128)


def test_numpy_peer_step_matches_tensorlet_rmsprop_step():
    bench = load_bench()
    rng = np.random.default_rng(1)
    x = rng.random((128, 784), dtype=np.float32)
    labels = rng.integers(0, 10, 128)
    y = bench.one_hot(labels)

    peer = bench.NumpyPeer("numpy", 1, 128, None)
    peer.build(0)
    start = [p.copy() for p in peer.params]
    for _ in range(2):  # two steps, so the RMSprop velocity carries over
        peer.step(x, y)

    from tensorlet import keras

    model = keras.Sequential([keras.layers.Dense(512, activation="relu", input_shape=(784,)),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    model.set_weights(start)
    model.fit(x, y, epochs=2, batch_size=128, verbose=0)
    for got, want in zip(peer.params, model.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-6)
    assert not np.allclose(peer.params[0], start[0])


# Under the sanitizer run (tools/sanitize.sh) this end-to-end run of the bench's processes takes
# three minutes, half the suite, and reaches no C++ the rest of the suite does not.
@pytest.mark.skipif(os.environ.get("TENSORLET_SANITIZED") == "1",
                    reason="the bench's whole-process run is checked by the plain suite; its kernels by the rest")
def test_small_run_of_parent_and_children():
    # The children import the tensorlet this test imports (installed in CI, or a sanitizer build).
    here = str(pathlib.Path(tl.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, str(SCRIPT), "--samples", "600", "--epochs", "1", "--repeats", "1",
                           "--threads", "1", "--peers", "tensorlet,tensorlet-flush,numpy", "--eval-batch-size", "1000"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "child failed" not in out, out
    rows = {}
    for line in out.splitlines():  # the table: peer, fit s, GFLOP/s, % peak, test acc, ...
        cells = line.split()
        if len(cells) > 8 and cells[0] in ("tensorlet", "tensorlet-flush", "numpy") and cells[1].replace(".", "").isdigit():
            rows[cells[0]] = cells
    assert set(rows) == {"tensorlet", "tensorlet-flush", "numpy"}, out
    for row in rows.values():
        assert 0.5 < float(row[4]) <= 1.0, out  # test accuracy after one epoch of 600 samples
    assert "tensorlet speed-up over the fastest peer (numpy)" in out
    assert "subnormals flushed: fit" in out and "tensorlet-flush: tensorlet" in out and ", subnormals flushed" in out
