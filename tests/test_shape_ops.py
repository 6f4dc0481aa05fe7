"""Shape ops against NumPy: views vs copies, errors, gradients (concatenate / stack / split:
test_join.py)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorlet as tl
from conftest import assert_tensor_equal, randn, shares
from gradcheck import gradcheck

FAST = settings(max_examples=100, deadline=None)


# ------------------------------------------------------------------------------- reshape

@FAST
@given(st.lists(st.integers(1, 4), min_size=0, max_size=4), st.data())
def test_reshape_is_a_view_exactly_when_numpy_makes_one(shape, data):
    x = randn(*shape)
    perm = data.draw(st.permutations(range(len(shape))))
    x = x.transpose(perm)
    t = tl.asarray(x)
    factors = [d for d in shape]
    # a random target shape with the same size: regroup the dims
    target = []
    for d in factors:
        if target and data.draw(st.booleans()):
            target[-1] *= d
        else:
            target.append(d)
    if target and data.draw(st.booleans()):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    want = x.reshape(target)
    got = t.reshape(target)
    assert_tensor_equal(got, want)
    assert shares(got, t) == np.shares_memory(want, x) or x.size <= 1


def test_reshape_forms_and_errors():
    t = tl.array(np.arange(6.0))
    assert t.reshape(2, 3).shape == (2, 3)
    assert t.reshape((3, 2)).shape == (3, 2)
    assert t.reshape([6, 1]).shape == (6, 1)
    assert t.reshape(-1, 2).shape == (3, 2)
    assert tl.reshape(t, (1, -1)).shape == (1, 6)
    assert shares(t.reshape(2, 3), t)
    with pytest.raises(ValueError, match=r"cannot reshape array of size 6 into shape \(4,\)"):
        t.reshape(4)
    with pytest.raises(ValueError, match="only specify one unknown dimension"):
        t.reshape(-1, -1)
    with pytest.raises(TypeError):
        t.reshape(2.0, 3)


# ------------------------------------------------------------------- transpose & swapaxes

def test_transpose_swapaxes_T():
    x = randn(2, 3, 4)
    t = tl.array(x)
    assert_tensor_equal(t.T, x.T)
    assert_tensor_equal(t.transpose(1, 0, 2), x.transpose(1, 0, 2))
    assert_tensor_equal(tl.transpose(t, (2, 0, 1)), np.transpose(x, (2, 0, 1)))
    assert_tensor_equal(t.swapaxes(0, -1), x.swapaxes(0, -1))
    assert_tensor_equal(tl.swapaxes(t, 1, 2), np.swapaxes(x, 1, 2))
    assert shares(t.T, t) and shares(t.swapaxes(0, 1), t)
    with pytest.raises(ValueError, match="repeated axis"):
        t.transpose(0, 0, 1)
    with pytest.raises(IndexError):
        t.swapaxes(0, 3)


# ---------------------------------------------------------------------- squeeze & co.

@pytest.mark.parametrize("shape,axis", [((1, 3, 1), None), ((1, 3, 1), 0), ((1, 3, 1), -1), ((1, 3, 1), (0, 2)),
                                        ((1,), None), ((), None), ((2, 0, 1), 2), ((3,), None)])
def test_squeeze(shape, axis):
    x = randn(*shape)
    t = tl.array(x)
    got = tl.squeeze(t, axis) if axis is not None else t.squeeze()
    assert_tensor_equal(got, np.squeeze(x, axis))
    assert shares(got, t) or x.size == 0


def test_squeeze_errors():
    t = tl.array(np.zeros((2, 1)))
    with pytest.raises(ValueError, match="cannot select an axis to squeeze out which has size not equal to one"):
        t.squeeze(0)
    with pytest.raises(IndexError):
        t.squeeze(2)
    with pytest.raises(ValueError, match="repeated axis"):
        t.squeeze((1, 1))


@pytest.mark.parametrize("shape,axis", [((2, 3), 0), ((2, 3), -1), ((2, 3), 1), ((2, 3), (0, 3)), ((), 0),
                                        ((2,), (-1, 0)), ((2, 3), (1, 2, -1))])
def test_expand_dims(shape, axis):
    x = randn(*shape)
    t = tl.array(x)
    got = tl.expand_dims(t, axis)
    assert_tensor_equal(got, np.expand_dims(x, axis))
    assert shares(got, t)


def test_expand_dims_errors():
    t = tl.array(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="axis 3 is out of bounds for array of dimension 3"):
        tl.expand_dims(t, 3)
    with pytest.raises(ValueError, match="repeated axis"):
        tl.expand_dims(t, (0, 0))


@pytest.mark.parametrize("make", [lambda x: x, lambda x: x.T, lambda x: x[::2], lambda x: x[:, 1:], lambda x: x[1]])
def test_ravel_flatten_copy_ascontiguousarray(make):
    base = randn(4, 3)
    x = make(base)
    t = make(tl.asarray(base))
    r = t.ravel()
    assert_tensor_equal(r, np.ravel(x))
    assert_tensor_equal(tl.ravel(t), np.ravel(x))
    assert shares(r, base) == np.shares_memory(np.ravel(x), base)
    f = t.flatten()
    assert_tensor_equal(f, x.flatten())
    assert not shares(f, base)
    for c in (t.copy(), tl.copy(t)):
        assert_tensor_equal(c, x.copy())
        assert not shares(c, base) and c.is_contiguous
    a = tl.ascontiguousarray(t)
    assert_tensor_equal(a, np.ascontiguousarray(x))
    assert a.is_contiguous
    assert shares(a, base) == np.shares_memory(np.ascontiguousarray(x), base)


def test_ascontiguousarray_of_scalar_and_dtype():
    assert tl.ascontiguousarray(tl.array(3.0)).shape == np.ascontiguousarray(np.float64(3.0)).shape
    assert tl.ascontiguousarray(tl.array([1, 2]), dtype="float32").dtype == np.float32


def test_broadcast_to():
    x = randn(3, 1)
    t = tl.array(x)
    got = tl.broadcast_to(t, (2, 3, 4))
    assert_tensor_equal(got, np.broadcast_to(x, (2, 3, 4)))
    assert shares(got, t)
    with pytest.raises(ValueError):
        tl.broadcast_to(t, (2, 4))


# ------------------------------------------------------------------------------- gradients

@pytest.mark.parametrize("f", [
    lambda t: t.squeeze(), lambda t: tl.squeeze(t, 0), lambda t: tl.expand_dims(t, (0, 3)), lambda t: t.ravel(),
    lambda t: t.T.ravel(), lambda t: t.flatten(), lambda t: t.copy(), lambda t: tl.copy(t),
    lambda t: tl.ascontiguousarray(t.T), lambda t: t.reshape(3, -1), lambda t: t.swapaxes(0, 2),
], ids=["squeeze", "squeeze0", "expand_dims", "ravel", "ravel_T", "flatten", "copy", "tl_copy", "ascontig", "reshape",
        "swapaxes"])
def test_shape_op_gradients(f):
    gradcheck(f, randn(1, 3, 2))


