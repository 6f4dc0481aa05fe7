"""Subnormal floats are kept (NumPy's gradual underflow) at every size and thread count, unless
tl.set_flush_denormal(True) asks for flushing; the calling thread's MXCSR is never changed."""
import contextlib

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import _core

FTZ_DAZ = 0x8040  # MXCSR bits the flush mode sets (x86)
X86 = tl.set_flush_denormal(False)  # True where the CPU can flush (and the mode is off)
# Below and above the element count at which elementwise kernels go parallel (65536).
SIZES = [10, 65535, 65536, 300_001, 2_000_000]
THREADS = [1, 2, 3, 4]


@contextlib.contextmanager
def flushing(mode):
    before = tl.get_flush_denormal()
    tl.set_flush_denormal(mode)
    try:
        yield
    finally:
        tl.set_flush_denormal(before)


@contextlib.contextmanager
def thread_flush_bits(on):
    """Sets FTZ/DAZ on this (the test's) thread, as another library might; always cleared after,
    so NumPy in the rest of the test run keeps its subnormals."""
    _core._set_thread_flush_bits(on)
    try:
        yield
    finally:
        _core._set_thread_flush_bits(False)


def ulps(got, want):
    """Distance in float32 units in the last place between non-negative float32 arrays."""
    g = np.asarray(got, np.float32).view(np.int32).astype(np.int64)
    w = np.asarray(want, np.float32).view(np.int32).astype(np.int64)
    return np.abs(g - w)


# ---- the reproducers, below and above the parallel threshold -----------------------

@pytest.mark.parametrize("n", SIZES)
def test_sum_of_subnormals(n):
    x = np.full(n, 1e-39, np.float32)
    got = tl.sum(tl.asarray(x))
    np.testing.assert_allclose(float(got), float(np.sum(x)), rtol=1e-5)
    np.testing.assert_allclose(float(tl.mean(tl.asarray(x))), float(np.mean(x)), rtol=1e-5)
    assert float(got) > 0


@pytest.mark.parametrize("n", SIZES)
def test_exp_underflows_gradually(n, every_isa):
    got = np.asarray(tl.exp(tl.asarray(np.full(n, -100, np.float32))))
    assert np.all(got == np.exp(np.float32(-100))), np.unique(got)  # 3.78e-44, NumPy's


def test_matmul_of_tiny_values_is_a_normal_float(every_isa):
    a = np.full((300, 300), 1e-20, np.float32)
    got = np.asarray(tl.asarray(a) @ tl.asarray(a))
    want = a.astype(np.float64) @ a.astype(np.float64)  # 3.0e-38: each product is subnormal
    np.testing.assert_allclose(got, want, rtol=1e-5)


# ---- vectorised math over the subnormal range ------------------------------------------------

@pytest.mark.parametrize("n", [1000, 400_000])
def test_exp_over_the_subnormal_range_within_1_ulp(n, every_isa):
    # exp(x) is subnormal for x in [-103.97, -87.34]; below, it rounds to 0.
    x = np.linspace(-104.5, -86.5, n, dtype=np.float32)
    got = np.asarray(tl.exp(tl.asarray(x)))
    # exp in double rounded to float32 is correctly rounded here (glibc's expf gives the same bits).
    exact = np.exp(x.astype(np.float64)).astype(np.float32)
    assert ulps(got, exact).max() <= 1, x[ulps(got, exact).argmax()]
    # NumPy's own SIMD expf is up to 2 ulp from the exact value in this range.
    assert ulps(got, np.exp(x)).max() <= 2
    assert np.count_nonzero((got > 0) & (got < np.finfo(np.float32).tiny)) > n // 2


@pytest.mark.parametrize("n", [100, 200_000])
def test_sigmoid_tanh_log_keep_subnormals(n, every_isa):
    x = np.linspace(-103.0, -88.0, n, dtype=np.float32)
    exact = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)
    assert ulps(tl.sigmoid(tl.asarray(x)), exact).max() <= 1
    tiny = np.geomspace(1e-45, 1e-38, n).astype(np.float32)  # subnormal inputs
    np.testing.assert_array_equal(np.asarray(tl.tanh(tl.asarray(tiny))), np.tanh(tiny))
    np.testing.assert_array_equal(np.asarray(tl.tanh(tl.asarray(-tiny))), np.tanh(-tiny))
    np.testing.assert_allclose(np.asarray(tl.log(tl.asarray(tiny))), np.log(tiny), rtol=1e-6)
    assert np.all(np.asarray(tl.sqrt(tl.asarray(tiny))) == np.sqrt(tiny))
    np.testing.assert_array_equal(np.asarray(tl.asarray(tiny) * np.float32(0.5)), tiny * np.float32(0.5))


@pytest.mark.parametrize("rows", [4, 40_000])
def test_softmax_and_cross_entropies_keep_subnormals(rows, every_isa):
    z = np.tile(np.array([0.0, -100.0, -95.0, -103.0], np.float32), (rows, 1))
    z64 = z.astype(np.float64)
    p = np.exp(z64 - np.log(np.exp(z64).sum(1, keepdims=True)))
    assert ulps(tl.softmax(tl.asarray(z)), p.astype(np.float32)).max() <= 1
    np.testing.assert_allclose(np.asarray(tl.log_softmax(tl.asarray(z))), np.log(p), rtol=1e-6)
    # The loss gradient softmax(z) - onehot is subnormal off the target class.
    labels = np.zeros(rows, np.int64)
    onehot = np.eye(4, dtype=np.float32)[labels]
    for loss_fn, target in [(tl.sparse_softmax_cross_entropy, labels), (tl.softmax_cross_entropy, onehot)]:
        zt = tl.array(z, requires_grad=True)
        tl.sum(loss_fn(zt, tl.asarray(target))).backward()
        g = np.asarray(zt.grad)
        assert ulps(g[:, 1:], p[:, 1:].astype(np.float32)).max() <= 1, loss_fn


@pytest.mark.parametrize("n", [15, 300_000])
@pytest.mark.parametrize("make, step", [
    (lambda: tl.optimizers.SGD(0.5), lambda w, g, s: w - g * np.float32(0.5)),
    (lambda: tl.optimizers.SGD(0.5, momentum=0.5),
     lambda w, g, s: w + (np.float32(0) * np.float32(0.5) - g * np.float32(0.5))),
])
def test_optimizer_steps_keep_subnormals(n, make, step):
    w0 = np.full(n, 3e-39, np.float32)
    g = np.full(n, 1e-39, np.float32)
    w = tl.array(w0.copy())
    make().apply([w], [tl.asarray(g)])
    np.testing.assert_array_equal(np.asarray(w), step(w0, g, None))  # 2.5e-39, subnormal


@pytest.mark.parametrize("n", [15, 300_000])
def test_adam_with_subnormal_gradients(n):
    g = np.full(n, 1e-39, np.float32)
    w = tl.array(np.zeros(n, np.float32))
    opt = tl.optimizers.Adam(1e-3)
    opt.apply([w], [tl.asarray(g)])
    # First step of Adam moves each weight by about -lr * g / (|g| + eps) = -lr * 1e-32: the
    # subnormal g must not be read as 0 (which would leave w at 0).
    assert np.all(np.asarray(w) < 0)


# ---- the same bits at every thread count ------------------------------------------------------

def _with_subnormals(rng, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    x.flat[::7] = np.float32(3e-39)
    x.flat[::11] *= np.float32(1e-38)
    return x


def test_results_do_not_depend_on_the_thread_count(restore_threads):
    rng = np.random.default_rng(0)
    v = _with_subnormals(rng, 2_000_003)
    m = _with_subnormals(rng, (1500, 701))
    a, b = _with_subnormals(rng, (257, 300)), _with_subnormals(rng, (300, 129)) * np.float32(1e-19)
    z = _with_subnormals(rng, (5000, 40)) * np.float32(30)
    cases = {
        "sum": lambda: tl.sum(tl.asarray(v)), "mean": lambda: tl.mean(tl.asarray(v)),
        "max": lambda: tl.max(tl.asarray(v)), "sum0": lambda: tl.sum(tl.asarray(m), axis=0),
        "sum1": lambda: tl.sum(tl.asarray(m), axis=1), "exp": lambda: tl.exp(tl.asarray(v) - 95),
        "mul": lambda: tl.asarray(v) * np.float32(1e-30), "matmul": lambda: tl.asarray(a) @ tl.asarray(b),
        "softmax": lambda: tl.softmax(tl.asarray(z)), "log_softmax": lambda: tl.log_softmax(tl.asarray(z)),
    }
    results = {}
    for n in THREADS:
        tl.set_num_threads(n)
        for name, fn in cases.items():
            got = np.asarray(fn())
            if name in results:
                np.testing.assert_array_equal(got, results[name], err_msg=f"{name} with {n} threads")
            else:
                results[name] = got
    assert np.count_nonzero(np.abs(results["mul"]) < np.finfo(np.float32).tiny) > 0
    assert 0 < float(tl.sum(tl.asarray(np.full(2_000_000, 1e-39, np.float32))))


# ---- set_flush_denormal ----------------------------------------------------------------------

def test_flush_mode_api():
    assert tl.config.set_flush_denormal is tl.set_flush_denormal
    assert tl.config.get_flush_denormal is tl.get_flush_denormal
    assert tl.get_flush_denormal() is False
    cfg = tl.config()  # still the configuration dict
    assert isinstance(cfg, dict) and cfg["flush_denormals"] is False and "isa" in cfg
    with pytest.raises(TypeError, match="set_flush_denormal"):
        tl.set_flush_denormal("yes")
    with pytest.raises(TypeError, match="set_flush_denormal"):
        tl.set_flush_denormal(None)


@pytest.mark.skipif(not X86, reason="flushing needs x86 FTZ/DAZ")
def test_flush_mode_round_trip(restore_threads):
    big = tl.asarray(np.full(2_000_000, 1e-39, np.float32))
    m100_small, m100_big = tl.asarray(np.full(10, -100, np.float32)), tl.asarray(np.full(2_000_000, -100, np.float32))
    a = tl.asarray(np.full((300, 300), 1e-20, np.float32))
    tiny = tl.asarray(np.array([1e-20, 2e-20], np.float32))
    for n in (1, 2, 3):
        tl.set_num_threads(n)
        assert tl.set_flush_denormal(True) is True
        try:
            assert tl.get_flush_denormal() and tl.config()["flush_denormals"]
            assert float(tl.sum(big)) == 0.0  # DAZ: subnormal inputs read as 0
            assert not np.asarray(tl.exp(m100_small)).any() and not np.asarray(tl.exp(m100_big)).any()
            assert float(np.asarray(a @ a)[0, 0]) == 0.0  # FTZ: subnormal products become 0
            assert not np.asarray(tiny * tiny).any()  # small work on the calling thread too
        finally:
            assert tl.set_flush_denormal(False) is True
        assert not tl.get_flush_denormal()
        np.testing.assert_allclose(float(tl.sum(big)), 2e-33, rtol=1e-5)
        assert np.all(np.asarray(tl.exp(m100_big)) == np.exp(np.float32(-100)))
        np.testing.assert_allclose(np.asarray(tiny * tiny), np.array([1e-40, 4e-40], np.float32), rtol=1e-4)


@pytest.mark.skipif(not X86, reason="MXCSR is x86")
@pytest.mark.parametrize("mode", [False, True])
@pytest.mark.parametrize("own_bits", [False, True])
def test_calling_threads_mxcsr_is_restored(mode, own_bits):
    x_small = tl.asarray(np.full(100, 1e-39, np.float32))
    x_big = tl.asarray(np.full(500_000, 1e-39, np.float32))
    a = tl.asarray(np.full((200, 200), 1e-20, np.float32))
    with flushing(mode), thread_flush_bits(own_bits):
        before = _core._thread_flush_bits()
        assert before == (FTZ_DAZ if own_bits else 0)
        results = [tl.sum(x_small), tl.sum(x_big), tl.exp(x_big - 100), x_small * x_small, a @ a,
                   tl.softmax(a), tl.asarray(np.ones(3)) + 1]
        assert _core._thread_flush_bits() == before
        # The mode, not the caller's own bits, decides: kept unless flushing was asked for.
        assert (float(results[1]) == 0.0) == mode
        assert (float(np.asarray(results[4])[0, 0]) == 0.0) == mode
    assert _core._thread_flush_bits() == 0


@pytest.mark.skipif(not X86, reason="flushing needs x86 FTZ/DAZ")
def test_pool_workers_follow_each_mode_change(restore_threads):
    # Workers apply the caller's mode for each region: toggling between regions never leaves a
    # worker on the old mode (half the chunks would then disagree).
    tl.set_num_threads(2)
    x = tl.asarray(np.full(1_000_000, 1e-39, np.float32))
    for i in range(6):
        mode = bool(i % 2)
        with flushing(mode):
            y = np.asarray(x * np.float32(1.0))
            assert (not y.any()) if mode else np.all(y == np.float32(1e-39))
