"""tl.linear: activation(x @ w + b) through the fused GEMM epilogue, forward and backward."""
import numpy as np
import pytest

import tensorlet as tl
from gradcheck import gradcheck


def ref(x, w, b, relu):
    y = x.astype(np.float64) @ w.astype(np.float64)
    if b is not None:
        y = y + b
    return np.maximum(y, 0) if relu else y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", [None, "relu", "linear"])
@pytest.mark.parametrize("with_bias", [True, False])
def test_forward_matches_numpy(dtype, activation, with_bias):
    for M, K, N in [(1, 1, 1), (128, 784, 512), (17, 33, 10), (5, 0, 3)]:
        x = np.random.randn(M, K).astype(dtype)
        w = np.random.randn(K, N).astype(dtype)
        b = np.random.randn(N).astype(dtype) if with_bias else None
        y = tl.linear(x, w, b, activation=activation)
        assert y.shape == (M, N) and y.dtype == dtype
        tol = 1e-4 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(np.asarray(y), ref(x, w, b, activation == "relu"), rtol=tol, atol=tol * (K + 1))


def test_views_batches_and_promotion():
    x = np.random.randn(2, 3, 8)
    w = np.random.randn(5, 8).T  # a transposed view reaches the GEMM as a flag
    b = np.random.randn(10)[::2]  # non-contiguous bias
    y = tl.linear(tl.array(x), tl.array(w), tl.array(b), activation="relu")
    assert y.shape == (2, 3, 5)
    np.testing.assert_allclose(np.asarray(y), ref(x, w, b, True), rtol=1e-12, atol=1e-12)
    y32 = tl.linear(x.astype(np.float32), w, None)  # float32 with float64 promotes like matmul
    assert y32.dtype == np.float64
    yi = tl.linear(np.arange(6).reshape(2, 3), np.ones((3, 2), np.int64), np.array([-100, 1]), activation="relu")
    np.testing.assert_array_equal(np.asarray(yi), [[0, 4], [0, 13]])
    y1 = tl.linear(np.ones(3), np.ones((3, 2)))
    assert y1.shape == (2,)


def test_errors():
    with pytest.raises(ValueError, match=r"\(4,3\).*\(4,5\)"):
        tl.linear(np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="bias"):
        tl.linear(np.zeros((4, 3)), np.zeros((3, 5)), np.zeros(4))
    with pytest.raises(ValueError, match="activation"):
        tl.linear(np.zeros((4, 3)), np.zeros((3, 5)), activation="tanh")
    with pytest.raises(ValueError, match="2-D"):
        tl.linear(np.zeros((4, 3)), np.zeros(3))


@pytest.mark.parametrize("activation", [None, "relu"])
def test_gradients_float64(activation):
    x = np.random.randn(6, 4)
    w = np.random.randn(4, 3)
    b = np.random.randn(3) * 0.5
    gradcheck(lambda x, w, b: tl.linear(x, w, b, activation=activation), x, w, b)
    gradcheck(lambda x, w: tl.linear(x, w, None, activation=activation), x.reshape(2, 3, 4), w)


def test_gradients_match_unfused_graph():
    x, w, b = np.random.randn(32, 20), np.random.randn(20, 7), np.random.randn(7)
    g = np.random.randn(32, 7)
    grads = []
    for fused in (True, False):
        tx, tw, tb = (tl.array(a, requires_grad=True) for a in (x, w, b))
        y = tl.linear(tx, tw, tb, activation="relu") if fused else tl.relu(tl.matmul(tx, tw) + tb)
        y.backward(tl.array(g))
        grads.append([np.asarray(t.grad) for t in (tx, tw, tb)])
    for a, c in zip(*grads):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


def test_no_graph_without_grad():
    y = tl.linear(tl.array(np.ones((2, 2)), requires_grad=True), np.ones((2, 2)))
    assert y.requires_grad
    with tl.no_grad():
        y = tl.linear(tl.array(np.ones((2, 2)), requires_grad=True), np.ones((2, 2)))
    assert not y.requires_grad
