"""The core's foundation: construction, interop, arithmetic with broadcasting, autograd (matmul and dot: test_linalg.py)."""
import numpy as np
import pytest

import tensorlet as tl
from conftest import assert_tensor_equal
from gradcheck import gradcheck


def test_array_dtype_inference_follows_numpy():
    assert tl.array(3).dtype == np.int64
    assert tl.array(3.0).dtype == np.float64
    assert tl.array([True, False]).dtype == np.bool_
    assert tl.array([[1, 2], [3, 4]]).shape == (2, 2)
    assert repr(tl.array([1], dtype="uint8").dtype) == "dtype('uint8')"


def test_asarray_is_zero_copy_both_ways():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = tl.asarray(a)
    a[0, 0] = 42
    assert np.asarray(t)[0, 0] == 42
    back = np.asarray(t)
    assert np.shares_memory(back, a)
    assert t.strides == a.strides


def test_asarray_copies_big_endian():
    a = np.arange(4, dtype=">f8")
    t = tl.asarray(a)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(t), a)


@pytest.mark.parametrize("bad", [np.array(["a"]), np.array([1j], np.clongdouble), np.array([object()])])
def test_unsupported_data_is_a_type_error(bad):
    with pytest.raises(TypeError):
        tl.asarray(bad)


@pytest.mark.parametrize("sa,sb", [((32, 10), (10,)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 0), (1,)), ((1,), ())])
@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide"])
def test_binary_broadcast_matches_numpy(sa, sb, op):
    a = np.random.randn(*sa)
    b = np.random.rand(*sb) + 0.5
    assert_tensor_equal(getattr(tl, op)(tl.array(a), tl.array(b)), getattr(np, op)(a, b))


def test_weak_python_scalars():
    assert (tl.array([1, 2], dtype="uint8") + 3).dtype == np.uint8
    assert (tl.array([1, 2], dtype="int32") + 2.5).dtype == np.float64
    assert (tl.array([1, 2], dtype="float32") * 2.5).dtype == np.float32
    assert (tl.array([1, 2], dtype="int32") / tl.array([2], dtype="int32")).dtype == np.float64


def test_broadcast_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(32,10\) \(9,\)"):
        tl.ones if False else tl.array(np.ones((32, 10))) + tl.array(np.ones(9))


@pytest.mark.parametrize("shape", [(), (3, 1), (5, 4), (2, 3, 4)])
def test_reshape_transpose_views(shape):
    a = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    t = tl.asarray(a)
    assert np.shares_memory(np.asarray(t.T), a)
    assert_tensor_equal(t.T, a.T)
    assert_tensor_equal(t.reshape(-1), a.reshape(-1))
    assert_tensor_equal(tl.sum(t, axis=None), a.sum())


def test_reshape_of_noncontiguous_copies_correctly():
    a = np.arange(24.0).reshape(4, 6)[:, ::2]
    assert_tensor_equal(tl.asarray(a).reshape(3, 4), a.reshape(3, 4))
    assert_tensor_equal(tl.asarray(a).T.reshape(12), a.T.reshape(12))


def test_reshape_errors():
    t = tl.array(np.ones(6))
    with pytest.raises(ValueError, match="cannot reshape array of size 6 into shape"):
        t.reshape(4, 2)
    with pytest.raises(ValueError, match="only specify one unknown"):
        t.reshape(-1, -1)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((4, 1), (1, 3))])
def test_arithmetic_gradients(sa, sb):
    a, b = np.random.randn(*sa), np.random.rand(*sb) + 1.0
    gradcheck(lambda x, y: (x * y - x / y + y) * x, a, b)


def test_chapter_training_loop_converges():
    rng = np.random.RandomState(0)
    x = rng.randn(64, 3)
    true_w = np.array([[1.5], [-2.0], [0.5]])
    y = x @ true_w + 0.3
    W = tl.array(np.zeros((3, 1)), requires_grad=True)
    b = tl.array(np.zeros(1), requires_grad=True)
    X, Y = tl.array(x), tl.array(y)
    for _ in range(300):
        pred = tl.dot(X, W) + b
        diff = pred - Y
        loss = tl.sum(diff * diff) / 64.0
        loss.backward()
        with tl.no_grad():
            W2 = W - 0.1 * W.grad
            b2 = b - 0.1 * b.grad
        W = tl.array(np.asarray(W2), requires_grad=True)
        b = tl.array(np.asarray(b2), requires_grad=True)
    np.testing.assert_allclose(np.asarray(W), true_w, atol=1e-3)
    np.testing.assert_allclose(np.asarray(b), [0.3], atol=1e-3)


def test_no_grad_records_nothing():
    a = tl.array(np.ones(3), requires_grad=True)
    with tl.no_grad():
        b = a * 2.0
    assert not b.requires_grad and b.grad_fn is None
    c = a * 2.0
    assert c.requires_grad and c.grad_fn.name() == "MulBackward0"


def test_gradient_accumulates_over_reuse_and_diamonds():
    a = tl.array(np.array([1.0, 2.0]), requires_grad=True)
    b = a * a
    c = b + a
    d = (c * b).sum()   # d = (a^2 + a) a^2 = a^4 + a^3
    d.backward()
    av = np.array([1.0, 2.0])
    np.testing.assert_allclose(np.asarray(a.grad), 4 * av**3 + 3 * av**2)


def test_deep_chain_does_not_recurse():
    x = tl.array(np.ones(2), requires_grad=True)
    y = x
    for _ in range(10000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [1.0, 1.0])
    z = x
    for _ in range(100000):
        z = z + 0.0
    del z  # tearing down a long unused graph must not overflow the stack


def test_second_backward_needs_retain_graph():
    a = tl.array(np.ones(3), requires_grad=True)
    s = (a * a).sum()
    s.backward(retain_graph=True)
    s.backward()
    np.testing.assert_allclose(np.asarray(a.grad), [4.0, 4.0, 4.0])
    with pytest.raises(RuntimeError, match="second time"):
        s.backward()


def test_backward_needs_grad_for_non_scalar():
    a = tl.array(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="single-element"):
        (a * 2.0).backward()


def test_only_float_tensors_require_grad():
    with pytest.raises(TypeError):
        tl.array([1, 2], requires_grad=True)


def test_int_of_a_float_tensor_is_pythons_int_of_the_float():
    """int() truncates toward zero and gives a big int past int64, as int(np.float64(v)) does
    (a cast to int64 gave -2**63 for NaN, inf and 1e30)."""
    for v in (-2.7, 2.7, 1e30, -1e19, 2.0 ** 63):
        assert int(tl.asarray(np.float64(v))) == int(np.float64(v))
    assert int(tl.asarray(np.float32(3.9))) == 3
