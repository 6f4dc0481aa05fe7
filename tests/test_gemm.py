"""GEMM kernels against a float64 NumPy oracle on every ISA path this CPU can run.

Uses the testing hook ``_core._gemm(a, b, c, trans_a, trans_b, alpha, beta, bias, relu)``,
which computes ``c = alpha * op(a) @ op(b) + beta * c (+ bias) (relu)`` in place.
"""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import _core

ISAS = tl.config()["available_isas"]
DTYPES = [np.float32, np.float64]
TRANS = [(False, False), (True, False), (False, True), (True, True)]


@pytest.fixture(params=ISAS)
def isa(request):
    before = tl.config()["isa"]
    _core._set_isa(request.param)
    yield request.param
    _core._set_isa(before)


@pytest.fixture
def threads():
    before = tl.get_num_threads()
    yield
    tl.set_num_threads(before)


def operands(M, N, K, ta, tb, dtype, pad=0):
    """op(a) is M x K, op(b) is K x N; with pad > 0 every matrix is a view into a wider buffer,
    so its leading dimension exceeds its row length."""
    def make(rows, cols):
        buf = np.random.uniform(-1, 1, (rows, cols + pad)).astype(dtype)
        return buf[:, :cols], buf
    a, _ = make(*((K, M) if ta else (M, K)))
    b, _ = make(*((N, K) if tb else (K, N)))
    c, cbuf = make(M, N)
    return a, b, c, cbuf


def oracle(a, b, c, ta, tb, alpha, beta, bias=None, relu=False):
    A = a.astype(np.float64).T if ta else a.astype(np.float64)
    B = b.astype(np.float64).T if tb else b.astype(np.float64)
    out = alpha * (A @ B) + beta * c.astype(np.float64)
    if bias is not None:
        out = out + bias.astype(np.float64)
    if relu:
        out = np.maximum(out, 0)
    return out


def check(got, want, K, dtype):
    eps = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=eps * 8, atol=eps * (K + 8))


SIZES = [(1, 1, 1), (2, 7, 17), (17, 2, 7), (7, 17, 129), (129, 1, 1000), (1000, 129, 7),
         (1023, 17, 129), (129, 1023, 2), (17, 1000, 1023), (128, 10, 512),
         # up to 128 rows, the K block's rows of B spanning at most half of L2: B read in place, several
         # row panels; (128, 512, 784) spans 784 KB with K = 784, packed where L2 is under 1.5 MB
         (40, 300, 77), (128, 512, 784), (100, 250, 129)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", TRANS)
def test_gemm_matches_numpy(isa, dtype, ta, tb):
    for M, N, K in SIZES:
        a, b, c, _ = operands(M, N, K, ta, tb, dtype)
        want = oracle(a, b, c, ta, tb, 1.0, 0.0)
        _core._gemm(a, b, c, ta, tb)
        check(c, want, K, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ta,tb", TRANS)
def test_alpha_beta_bias_relu_and_padding(isa, dtype, ta, tb):
    for (M, N, K), alpha, beta, relu in [((37, 45, 23), 0.5, -2.0, True), ((50, 70, 600), -1.5, 1.0, False),
                                         ((129, 10, 300), 2.0, 0.25, True), ((7, 33, 1), 1.0, 1.0, True)]:
        a, b, c, cbuf = operands(M, N, K, ta, tb, dtype, pad=3)
        bias = np.random.uniform(-1, 1, N).astype(dtype)
        pad_before = cbuf[:, N:].copy()
        want = oracle(a, b, c, ta, tb, alpha, beta, bias, relu)
        _core._gemm(a, b, c, ta, tb, alpha, beta, bias=bias, relu=relu)
        check(c, want, K, dtype)
        np.testing.assert_array_equal(cbuf[:, N:], pad_before)  # columns past N untouched
        if relu:
            assert (c >= 0).all()


def test_beta_zero_does_not_read_c(isa):
    a = np.ones((40, 30), np.float32)
    b = np.ones((30, 50), np.float32)
    c = np.full((40, 50), np.nan, np.float32)
    _core._gemm(a, b, c)
    np.testing.assert_array_equal(c, np.full((40, 50), 30, np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_dims(isa, dtype):
    for M, N, K in [(0, 5, 3), (5, 0, 3), (0, 0, 0)]:
        a, b, c, _ = operands(M, N, K, False, False, dtype)
        _core._gemm(a, b, c)
        assert c.shape == (M, N)
    # K == 0: C = beta * C, then the epilogue.
    a, b, c, _ = operands(6, 9, 0, False, True, dtype)
    bias = np.linspace(-1, 1, 9).astype(dtype)
    want = np.maximum(0.5 * c.astype(np.float64) + bias, 0)
    _core._gemm(a, b, c, False, True, 1.0, 0.5, bias=bias, relu=True)
    check(c, want, 0, dtype)


def test_reference_hook_agrees(isa):
    a, b, c, _ = operands(33, 65, 47, True, False, np.float64)
    c2 = c.copy()
    _core._gemm(a, b, c, True, False, 1.5, 0.5)
    _core._gemm(a, b, c2, True, False, 1.5, 0.5, reference=True)
    np.testing.assert_allclose(c, c2, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", DTYPES)
def test_threaded_equals_single_threaded(isa, threads, dtype):
    for (M, N, K), ta, tb in [((300, 520, 260), False, False), ((128, 10, 512), False, True),
                              ((1000, 33, 129), True, True), ((64, 900, 70), True, False)]:
        a, b, c1, _ = operands(M, N, K, ta, tb, dtype)
        c2 = c1.copy()
        bias = np.random.uniform(-1, 1, N).astype(dtype)
        tl.set_num_threads(1)
        _core._gemm(a, b, c1, ta, tb, 1.0, 0.5, bias=bias, relu=True)
        tl.set_num_threads(2)
        _core._gemm(a, b, c2, ta, tb, 1.0, 0.5, bias=bias, relu=True)
        check(c2, c1.astype(np.float64), K, dtype)


def test_thread_grid_does_not_change_the_bits(isa, threads):
    """Each thread runs the whole blocked algorithm on its rectangle of C with the same K blocks,
    so the split (along M with B read in place, or along N) changes no element's summation order:
    the captured steps' shapes give one thread's bits at two."""
    for (M, N, K), ta, tb in [((128, 256, 784), False, False), ((128, 256, 256), False, True),
                              ((256, 256, 128), True, False), ((784, 256, 128), True, False),
                              ((128, 512, 784), False, False)]:
        a, b, c1, _ = operands(M, N, K, ta, tb, np.float32)
        c2 = c1.copy()
        tl.set_num_threads(1)
        _core._gemm(a, b, c1, ta, tb, 1.0, 0.0)
        tl.set_num_threads(2)
        _core._gemm(a, b, c2, ta, tb, 1.0, 0.0)
        np.testing.assert_array_equal(c2, c1)


def test_validation_errors():
    a = np.zeros((3, 4), np.float32)
    b = np.zeros((5, 6), np.float32)
    c = np.zeros((3, 6), np.float32)
    with pytest.raises(ValueError, match=r"\(3,4\).*\(5,6\)"):
        _core._gemm(a, b, c)
    with pytest.raises(TypeError):
        _core._gemm(a, np.zeros((4, 6), np.float64), c)
    with pytest.raises(TypeError):
        _core._gemm(a.astype(np.int32), np.zeros((4, 6), np.int32), c.astype(np.int32))
    with pytest.raises(TypeError):
        _core._gemm([[1.0]], b, c)
    b = np.zeros((4, 6), np.float32)
    with pytest.raises(ValueError, match="shape"):
        _core._gemm(a, b, np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="contiguous rows"):
        _core._gemm(np.zeros((3, 8), np.float32)[:, ::2], b, c)
    with pytest.raises(ValueError, match="2-D"):
        _core._gemm(np.zeros(4, np.float32), b, c)
    with pytest.raises(ValueError, match="bias"):
        _core._gemm(a, b, c, bias=np.zeros(5, np.float32))
    with pytest.raises(TypeError, match="bias"):
        _core._gemm(a, b, c, bias=np.zeros(6, np.float64))
    ro = np.zeros((3, 6), np.float32)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        _core._gemm(a, b, ro)
    buf = np.zeros((4, 6), np.float32)
    with pytest.raises(ValueError, match="overlap"):
        _core._gemm(buf[:3, :4], buf, buf[1:, :])
    with pytest.raises(ValueError):
        _core._set_isa("sse9")


def test_config_reports_kernels():
    cfg = tl.config()
    assert cfg["isa"] in cfg["available_isas"]
    assert "generic" in cfg["available_isas"]
    assert cfg["num_threads"] == tl.get_num_threads() >= 1
    blk = cfg["gemm_blocking"]["float32"]
    assert blk["kc"] > 0 and blk["mc"] % blk["mr"] == 0 and blk["nc"] % blk["nr"] == 0
