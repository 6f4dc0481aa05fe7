"""cumulative_sum / cumulative_prod against NumPy, their dtypes and gradients."""
import numpy as np
import pytest

import tensorlet as tl
from gradcheck import gradcheck


@pytest.mark.parametrize("dtype", ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                                   "uint64", "float32", "float64"])
def test_cumulative_sum_and_prod_dtypes_and_values(dtype):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (3, 4)).astype(dtype)
    expect = np.cumulative_sum(x, axis=0).dtype  # NumPy 2: bool / signed -> int64, unsigned -> uint64
    for axis in (0, 1, -1):
        s = tl.cumulative_sum(tl.asarray(x), axis=axis)
        p = tl.cumulative_prod(tl.asarray(x), axis=axis)
        assert s.dtype == expect and p.dtype == expect
        np.testing.assert_array_equal(np.asarray(s), np.cumsum(x, axis=axis, dtype=expect))
        np.testing.assert_array_equal(np.asarray(p), np.cumprod(x, axis=axis, dtype=expect))


def test_include_initial_dtype_and_1d_default_axis():
    x = tl.asarray([1.5, 2.0, 4.0])
    np.testing.assert_array_equal(np.asarray(tl.cumulative_sum(x, include_initial=True)), [0, 1.5, 3.5, 7.5])
    np.testing.assert_array_equal(np.asarray(tl.cumulative_prod(x, include_initial=True)), [1, 1.5, 3, 12])
    got = tl.cumulative_sum(tl.asarray([[1, 2], [3, 4]], dtype="int32"), axis=0, dtype="float32", include_initial=True)
    assert got.dtype == np.float32 and got.shape == (3, 2)
    assert tl.cumulative_sum(tl.zeros((0,)), include_initial=True).shape == (1,)


def test_int_wraps_like_numpy_and_float32_accumulates_in_float32():
    x = np.array([2**62, 2**62, 2**62], dtype=np.int64)
    np.testing.assert_array_equal(np.asarray(tl.cumulative_sum(tl.asarray(x))), np.cumsum(x))
    f = np.random.default_rng(1).random(100_000).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(tl.cumulative_sum(tl.asarray(f))), np.cumsum(f))


def test_errors():
    with pytest.raises(ValueError, match="axis is required"):
        tl.cumulative_sum(tl.zeros((2, 2)))
    with pytest.raises(IndexError, match="cumulative_prod"):
        tl.cumulative_prod(tl.zeros(3), axis=1)
    with pytest.raises(ValueError, match="0-d"):
        tl.cumulative_sum(tl.asarray(1.0))


@pytest.mark.parametrize("axis", [0, 1])
def test_gradients(axis):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4))
    gradcheck(lambda t: tl.cumulative_sum(t, axis=axis), x)
    gradcheck(lambda t: tl.cumulative_sum(t, axis=axis, include_initial=True), x)
    gradcheck(lambda t: tl.cumulative_prod(t, axis=axis), x)
    x[1, 2] = 0.0  # exact with zeros (no division by x)
    x[2, 1] = 0.0
    gradcheck(lambda t: tl.cumulative_prod(t, axis=axis), x)


def test_cumsum_second_derivative_and_cumprod_refuses_it():
    x = tl.array([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = tl.autograd.grad((tl.cumulative_sum(x) ** 2).sum(), x, create_graph=True)
    (h,) = tl.autograd.grad(g.sum(), x)
    # the Hessian is 2 C^T C (C: lower-triangular ones); its row sums are 2 * (6, 5, 3)
    np.testing.assert_allclose(np.asarray(h), [12, 10, 6])
    y = tl.array([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="second derivatives"):
        tl.autograd.grad(tl.cumulative_prod(y).sum(), y, create_graph=True)
