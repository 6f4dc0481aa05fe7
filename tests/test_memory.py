"""Memory over time: resident memory stays flat across many training steps, graph builds without
backward, views kept past their base, and NumPy arrays exported from tensors that are then freed
(and tensors made from NumPy arrays that are then freed). Each case warms up, then repeats its
work many times; the RSS growth allowed is far below what leaking one iteration's buffers would
cost. Skipped under the sanitizer build (ASan's quarantine holds freed memory on purpose)."""
import gc
import os

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import layers, models, optimizers

pytestmark = [
    pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads RSS from /proc"),
    pytest.mark.skipif(os.environ.get("TENSORLET_SANITIZED") == "1", reason="ASan quarantine keeps freed memory"),
]

MB = 1 << 20


def rss():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def assert_flat(step, iters, leak_per_iter, warmup=None):
    """Runs step() warmup times, then iters times; fails if RSS grew by half of what leaking
    leak_per_iter bytes each iteration would add (and at least 8 MB, for allocator noise)."""
    for _ in range(warmup if warmup is not None else max(3, iters // 5)):
        step()
    before = rss()
    for _ in range(iters):
        step()
    grown = rss() - before
    limit = max(8 * MB, iters * leak_per_iter // 2)
    assert grown < limit, f"RSS grew {grown / MB:.1f} MB over {iters} iterations (limit {limit / MB:.1f} MB)"


def test_training_steps_flat():
    rng = np.random.default_rng(0)
    model = models.Sequential([layers.Input(shape=(256,)), layers.Dense(256, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    model.compile(optimizer=optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = rng.standard_normal((512, 256)).astype(np.float32)
    y = rng.integers(0, 10, size=512)
    # One fit call = 4 steps; each step's activations + grads are ~1.5 MB.
    assert_flat(lambda: model.fit(x, y, batch_size=128, epochs=1, verbose=0), iters=60, leak_per_iter=4 * MB)


def test_graph_builds_without_backward_flat():
    a = tl.Tensor(np.random.rand(256, 256).astype(np.float32), requires_grad=True)

    def step():
        h = a
        for _ in range(5):
            h = (h @ a).relu() * 0.01 + h  # ~5 x 3 x 256 KB of saved activations, never backwarded
        h.sum()

    assert_flat(step, iters=200, leak_per_iter=3 * MB)


def test_backward_graphs_flat():
    a = tl.Tensor(np.random.rand(256, 256).astype(np.float32), requires_grad=True)

    def step():
        loss = tl.softmax((a @ a).tanh()).sum()
        loss.backward()
        a.grad = None

    assert_flat(step, iters=200, leak_per_iter=MB)


def test_views_outlive_base_flat():
    kept = []

    def step():
        base = tl.Tensor(np.random.rand(512, 512))  # 2 MB
        v = base[10:20, ::3]  # a view: keeps the storage alive, not a copy
        t = base.T
        del base
        assert np.asarray(v).shape == (10, 171) and np.asarray(t).shape == (512, 512)
        kept.append(v)
        if len(kept) > 4:
            kept.pop(0)  # the oldest view goes, and its 2 MB base with it

    assert_flat(step, iters=150, leak_per_iter=2 * MB)
    # A view read after its base is gone still has the right data.
    base = np.arange(24.0).reshape(4, 6)
    t = tl.Tensor(base)
    v = t[1:3, 2:5]
    del t
    gc.collect()
    np.testing.assert_array_equal(np.asarray(v), base[1:3, 2:5])


def test_numpy_exports_outlive_tensor_flat():
    def step():
        t = tl.Tensor(np.random.rand(512, 512))  # 2 MB
        arr = np.asarray(t)
        arr2 = t.numpy()
        del t
        assert arr.shape == (512, 512) and float(arr2[0, 0]) == float(arr[0, 0])

    assert_flat(step, iters=150, leak_per_iter=2 * MB)
    t = tl.Tensor(np.arange(10.0))
    arr = np.asarray(t)
    del t
    gc.collect()
    np.testing.assert_array_equal(arr, np.arange(10.0))  # still valid memory, still the data


def test_tensors_outlive_numpy_source_flat():
    def step():
        src = np.random.rand(512, 512)
        t = tl.asarray(src)
        u = tl.Tensor(src)
        expected = float(src[3, 4])
        del src
        assert float(np.asarray(t)[3, 4]) == expected == float(np.asarray(u)[3, 4])

    assert_flat(step, iters=150, leak_per_iter=2 * MB)
