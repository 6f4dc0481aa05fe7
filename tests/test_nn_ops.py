"""softmax / log_softmax and the fused losses against NumPy formulas, with gradients."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tensorlet as tl
from conftest import assert_tensor_equal
from gradcheck import gradcheck


def np_log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def np_softmax(x, axis=-1):
    return np.exp(np_log_softmax(x, axis))


def onehot(labels, c, dtype=np.float64):
    return np.eye(c, dtype=dtype)[labels]


# ---- softmax / log_softmax ----

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,axis", [((5,), -1), ((4, 10), -1), ((4, 10), 0), ((2, 3, 4), 1), ((2, 3, 4), -3),
                                        ((3, 1), -1), ((0, 4), -1), ((128, 10), -1), ((64, 1000), 1)])
def test_softmax_matches_numpy(dtype, shape, axis):
    x = (np.random.randn(*shape) * 3).astype(dtype)
    tol = 2e-6 if dtype == "float32" else 1e-13
    assert_tensor_equal(tl.softmax(tl.array(x), axis=axis), np_softmax(x, axis).astype(dtype), rtol=tol, atol=tol)
    assert_tensor_equal(tl.log_softmax(tl.array(x), axis=axis), np_log_softmax(x, axis).astype(dtype),
                        rtol=tol, atol=tol * 10)
    assert_tensor_equal(tl.array(x).softmax(axis), np_softmax(x, axis).astype(dtype), rtol=tol, atol=tol)


def test_softmax_is_stable_and_handles_ints():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1e30]], np.float32)
    y = np.asarray(tl.softmax(tl.array(x)))
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, np_softmax(x.astype(np.float64)), rtol=1e-6, atol=1e-30)
    ly = np.asarray(tl.log_softmax(tl.array(x)))
    np.testing.assert_allclose(ly[0], np_log_softmax(x[0].astype(np.float64)), rtol=1e-6)
    assert_tensor_equal(tl.softmax(tl.array([1, 2, 3])), np_softmax(np.array([1.0, 2.0, 3.0])))
    a = np.random.randn(4, 6)
    assert_tensor_equal(tl.softmax(tl.transpose(tl.array(a))), np_softmax(a.T), rtol=1e-12)


def test_softmax_errors():
    with pytest.raises(IndexError, match="axis 2 is out of bounds for array of dimension 2"):
        tl.softmax(tl.array(np.zeros((2, 3))), axis=2)
    with pytest.raises(IndexError):
        tl.log_softmax(tl.array(1.0))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,axis", [((6,), -1), ((3, 5), -1), ((3, 5), 0), ((2, 3, 4), 1)])
def test_softmax_gradcheck(fn, shape, axis):
    gradcheck(lambda x: getattr(tl, fn)(x, axis=axis), np.random.randn(*shape))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_double_backward(fn):
    """create_graph: the gradient is itself differentiable; H v checked by finite differences."""
    rng = np.random.default_rng(5)
    a, w, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))

    def np_grad(x):  # d/dx sum(w * f(x))
        p = np_softmax(x)
        return p * (w - np.sum(w * p, -1, keepdims=True)) if fn == "softmax" else w - p * np.sum(w, -1, keepdims=True)

    x = tl.array(a, requires_grad=True)
    (getattr(tl, fn)(x) * tl.array(w)).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    np.testing.assert_allclose(np.asarray(g), np_grad(a), rtol=1e-10, atol=1e-12)
    g_value = np.asarray(g).copy()
    (g * tl.array(v)).sum().backward()  # accumulates H v into x.grad
    hv = np.asarray(x.grad) - g_value
    eps = 1e-6
    num = (np_grad(a + eps * v) - np_grad(a - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv, num, rtol=1e-5, atol=1e-7)


# ---- softmax_cross_entropy (dense targets) ----

def np_xent(z, t, axis=-1):
    return -np.sum(t * np_log_softmax(z, axis), axis=axis)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_cross_entropy_values_and_grad(dtype):
    z = (np.random.randn(128, 10) * 2).astype(dtype)
    labels = np.random.randint(0, 10, 128)
    t = onehot(labels, 10, dtype)
    zt = tl.array(z, requires_grad=True)
    loss = tl.softmax_cross_entropy(zt, tl.array(t))
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert_tensor_equal(loss, np_xent(z, t).astype(dtype), rtol=tol, atol=tol)
    tl.mean(loss).backward()
    assert zt.grad.dtype == np.dtype(dtype)
    np.testing.assert_allclose(np.asarray(zt.grad), (np_softmax(z.astype(np.float64)) - t) / 128, rtol=tol * 10,
                               atol=1e-7)


def test_softmax_cross_entropy_probabilities_axis_and_grads():
    z = np.random.randn(4, 5, 3)
    t = np.random.rand(4, 5, 3)  # not normalised: sum_j t_j != 1 exercises the tsum term
    for axis in [-1, 1, 0]:
        assert_tensor_equal(tl.softmax_cross_entropy(tl.array(z), tl.array(t), axis=axis), np_xent(z, t, axis),
                            rtol=1e-12)
        gradcheck(lambda a, b: tl.softmax_cross_entropy(a, b, axis=axis), z, t)
    # targets converted to the logits' dtype; integer one-hot accepted
    z32 = np.random.randn(6, 4).astype(np.float32)
    y = onehot(np.arange(6) % 4, 4).astype(np.int64)
    assert_tensor_equal(tl.softmax_cross_entropy(tl.array(z32), tl.array(y)), np_xent(z32, y).astype(np.float32),
                        rtol=1e-5)


def test_softmax_cross_entropy_edge_cases():
    z = np.array([[0.0, -np.inf, 1.0]])
    t = np.array([[0.5, 0.0, 0.5]])
    loss = np.asarray(tl.softmax_cross_entropy(tl.array(z), tl.array(t)))
    assert np.isfinite(loss).all()  # a masked (-inf) logit with target 0 costs nothing
    big = np.array([[1e4, -1e4, 0.0]], np.float32)
    assert np.isfinite(np.asarray(tl.softmax_cross_entropy(tl.array(big), tl.array([[0.0, 1.0, 0.0]])))).all()
    with pytest.raises(ValueError, match=r"same shape, got \(2,3\) and \(2,4\)"):
        tl.softmax_cross_entropy(tl.array(np.zeros((2, 3))), tl.array(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="at least rank 1"):
        tl.softmax_cross_entropy(tl.array(1.0), tl.array(1.0))


# ---- sparse_softmax_cross_entropy ----

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("label_dtype", ["uint8", "int32", "int64"])
def test_sparse_softmax_cross_entropy(dtype, label_dtype):
    z = (np.random.randn(32, 7) * 3).astype(dtype)
    y = np.random.randint(0, 7, 32).astype(label_dtype)
    zt = tl.array(z, requires_grad=True)
    loss = tl.sparse_softmax_cross_entropy(zt, tl.array(y))
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert_tensor_equal(loss, np_xent(z, onehot(y, 7, dtype)).astype(dtype), rtol=tol, atol=tol)
    loss.backward(tl.array(np.linspace(0.5, 1.5, 32).astype(dtype)))
    expect = (np_softmax(z.astype(np.float64)) - onehot(y, 7)) * np.linspace(0.5, 1.5, 32)[:, None]
    np.testing.assert_allclose(np.asarray(zt.grad), expect, rtol=tol * 10, atol=1e-6)
    assert tl.log_softmax_nll is tl.sparse_softmax_cross_entropy


def test_sparse_softmax_cross_entropy_gradcheck_and_shapes():
    y = np.array([[0, 2], [1, 1], [2, 0]])
    z = np.random.randn(3, 2, 3)
    gradcheck(lambda a: tl.sparse_softmax_cross_entropy(a, tl.array(y)), z)
    # labels with a trailing 1 (Keras style)
    z2 = np.random.randn(5, 4)
    y2 = np.array([[0], [3], [1], [2], [3]])
    assert_tensor_equal(tl.sparse_softmax_cross_entropy(tl.array(z2), tl.array(y2)),
                        np_xent(z2, onehot(y2[:, 0], 4)), rtol=1e-12)


def test_sparse_labels_changed_after_forward_do_not_change_backward():
    z = tl.array(np.random.randn(3, 4), requires_grad=True)
    y = tl.array(np.array([0, 1, 2]))
    loss = tl.sparse_softmax_cross_entropy(z, y)
    with tl.no_grad():
        y[1] = 99  # would be out of range if the backward read it
    loss.backward(tl.array(np.ones(3)))
    expect = np_softmax(np.asarray(z)) - onehot(np.array([0, 1, 2]), 4)
    np.testing.assert_allclose(np.asarray(z.grad), expect, rtol=1e-12)


def test_sparse_softmax_cross_entropy_errors():
    z = tl.array(np.zeros((4, 10), np.float32))
    with pytest.raises(IndexError, match=r"label 10 .*out of range for 10 classes"):
        tl.sparse_softmax_cross_entropy(z, tl.array([0, 1, 10, 2]))
    with pytest.raises(IndexError, match=r"label -1 .*out of range for 10 classes"):
        tl.sparse_softmax_cross_entropy(z, tl.array([0, -1, 3, 2]))
    with pytest.raises(IndexError, match="label 123456789"):
        tl.sparse_softmax_cross_entropy(z, tl.array([0, 1, 123456789, 2]))
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) do not match logits of shape \(4,10\)"):
        tl.sparse_softmax_cross_entropy(z, tl.array([0, 1, 2]))
    with pytest.raises(TypeError, match="labels must be integers"):
        tl.sparse_softmax_cross_entropy(z, tl.array([0.0, 1.0, 2.0, 3.0]))


# ---- binary_cross_entropy ----

def np_bce_keras(p, t):
    eps = 1e-7
    q = np.clip(p, eps, 1.0 - eps)
    return np.mean(-(t * np.log(q) + (1.0 - t) * np.log(1.0 - q)), axis=-1)


def np_bce_logits(z, t):
    return np.mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))), axis=-1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_cross_entropy_values(dtype):
    p = np.random.rand(16, 5).astype(dtype)
    p[0, :3] = [0.0, 1.0, 1e-9]  # clipped
    t = (np.random.rand(16, 5) < 0.5).astype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert_tensor_equal(tl.binary_cross_entropy(tl.array(p), tl.array(t)), np_bce_keras(p, t).astype(dtype),
                        rtol=tol, atol=tol)
    z = (np.random.randn(16, 5) * 30).astype(dtype)
    assert_tensor_equal(tl.binary_cross_entropy(tl.array(z), tl.array(t), from_logits=True),
                        np_bce_logits(z.astype(np.float64), t).astype(dtype), rtol=tol, atol=tol)
    # 1-D: one value (mean over the only axis), as keras.losses.binary_crossentropy
    assert tl.binary_cross_entropy(tl.array(p[0]), tl.array(t[0])).shape == ()
    # targets with a trailing 1 matched to the rank of the predictions
    assert tl.binary_cross_entropy(tl.array(p[:, :1]), tl.array(t[:, 0])).shape == (16,)


def test_binary_cross_entropy_gradients():
    p = np.random.uniform(0.05, 0.95, (4, 3))
    t = np.random.rand(4, 3)
    gradcheck(lambda a, b: tl.binary_cross_entropy(a, b), p, t)
    z = np.random.randn(4, 3) * 3
    gradcheck(lambda a, b: tl.binary_cross_entropy(a, b, from_logits=True), z, t)
    # clipped probabilities get no gradient (np.clip's derivative there is 0)
    x = tl.array(np.array([[0.0, 0.5, 1.0]]), requires_grad=True)
    tl.binary_cross_entropy(x, tl.array([[1.0, 1.0, 0.0]])).backward(tl.array([1.0]))
    np.testing.assert_allclose(np.asarray(x.grad), [[0.0, -2.0 / 3, 0.0]], rtol=1e-6)


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match="same shape"):
        tl.binary_cross_entropy(tl.array(np.zeros((2, 3))), tl.array(np.zeros((2, 4))))


# ---- mean_squared_error ----

def test_mean_squared_error():
    p = np.random.randn(8, 3).astype(np.float32)
    t = np.random.randn(8, 3)
    pt = tl.array(p, requires_grad=True)
    loss = tl.mean_squared_error(pt, tl.array(t))
    expect = np.mean((p - t.astype(np.float32)) ** 2, axis=-1)
    assert_tensor_equal(loss, expect, rtol=1e-6)  # target cast to the prediction's dtype (Keras)
    gradcheck(lambda a, b: tl.mean_squared_error(a, b), np.random.randn(4, 3), np.random.randn(4, 3))
    gradcheck(lambda a, b: tl.mean_squared_error(a, b), np.random.randn(5, 1), np.random.randn(5))
    assert tl.mean_squared_error(tl.array(np.zeros((5, 1))), tl.array(np.zeros(5))).shape == (5,)


# ---- property tests over shapes ----

@settings(max_examples=60, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6), data=st.data())
def test_hypothesis_softmax_and_losses(shape, data):
    nd = len(shape)
    axis = data.draw(st.integers(-nd, nd - 1))
    rng = np.random.default_rng(nd)
    z = rng.standard_normal(shape) * 4
    t = rng.random(shape)
    assert_tensor_equal(tl.softmax(tl.array(z), axis=axis), np_softmax(z, axis), rtol=1e-12, atol=1e-15)
    assert_tensor_equal(tl.log_softmax(tl.array(z), axis=axis), np_log_softmax(z, axis), rtol=1e-12, atol=1e-12)
    assert_tensor_equal(tl.softmax_cross_entropy(tl.array(z), tl.array(t), axis=axis), np_xent(z, t, axis),
                        rtol=1e-12, atol=1e-12)
    labels = rng.integers(0, shape[-1], shape[:-1])
    assert_tensor_equal(tl.sparse_softmax_cross_entropy(tl.array(z), tl.array(labels)),
                        np_xent(z, onehot(labels, shape[-1])), rtol=1e-12, atol=1e-12)
    p = rng.random(shape)
    assert_tensor_equal(tl.binary_cross_entropy(tl.array(p), tl.array(t)), np_bce_keras(p, t), rtol=1e-12)
    assert_tensor_equal(tl.mean_squared_error(tl.array(p), tl.array(t)), np.mean((p - t) ** 2, axis=-1),
                        rtol=1e-12)


def test_training_step_shapes_float32():
    """What the Keras layer does each step: logits (128,10) float32, one-hot or integer labels."""
    z = tl.array(np.random.randn(128, 10).astype(np.float32), requires_grad=True)
    y = np.random.randint(0, 10, 128)
    loss = tl.mean(tl.sparse_softmax_cross_entropy(z, tl.array(y)))
    loss.backward()
    g1 = np.asarray(z.grad).copy()
    z.grad = None
    tl.mean(tl.softmax_cross_entropy(z, tl.array(onehot(y, 10, np.float32)))).backward()
    np.testing.assert_allclose(np.asarray(z.grad), g1, rtol=1e-5, atol=1e-8)
    acc = np.mean(np.asarray(tl.argmax(z, axis=-1)) == y)
    assert 0.0 <= acc <= 1.0


@settings(max_examples=25, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_hypothesis_gradchecks(shape, data):
    nd = len(shape)
    axis = data.draw(st.integers(-nd, nd - 1))
    rng = np.random.default_rng(nd * 7 + shape[-1])
    z, t = rng.standard_normal(shape), rng.random(shape)
    gradcheck(lambda x: tl.softmax(x, axis=axis), z)
    gradcheck(lambda x: tl.log_softmax(x, axis=axis), z)
    gradcheck(lambda a, b: tl.softmax_cross_entropy(a, b, axis=axis), z, t)
    labels = rng.integers(0, shape[-1], shape[:-1])
    gradcheck(lambda a: tl.sparse_softmax_cross_entropy(a, tl.array(labels)), z)
    gradcheck(lambda a, b: tl.binary_cross_entropy(a, b), rng.uniform(0.05, 0.95, shape), t)
    gradcheck(lambda a, b: tl.binary_cross_entropy(a, b, from_logits=True), z, t)
    gradcheck(lambda a, b: tl.mean_squared_error(a, b), z, t)
