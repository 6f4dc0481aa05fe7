"""csrc/ops/join: concatenate, stack, split and array_split against NumPy (views, promotion,
errors naming the shapes) and their gradients."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorlet as tl
from conftest import assert_tensor_equal, randn, shares
from gradcheck import gradcheck

FAST = settings(max_examples=100, deadline=None)


@FAST
@given(st.lists(st.integers(0, 3), min_size=1, max_size=3), st.integers(1, 4), st.data())
def test_concatenate_matches_numpy(shape, n, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    dtypes = [data.draw(st.sampled_from(["float32", "float64", "int32", "uint8", "bool"])) for _ in range(n)]
    arrays = []
    for dt in dtypes:
        s = list(shape)
        s[axis] = data.draw(st.integers(0, 3))
        arrays.append((np.random.rand(*s) * 10).astype(dt))
    got = tl.concatenate([tl.array(a) for a in arrays], axis=axis)
    assert_tensor_equal(got, np.concatenate(arrays, axis=axis))
    assert_tensor_equal(tl.concatenate(arrays, axis=None), np.concatenate(arrays, axis=None))


def test_concatenate_errors_name_the_shapes():
    a, b = tl.array(np.zeros((2, 3))), tl.array(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"all the input array dimensions except for the concatenation axis must "
                                         r"match exactly, but along dimension 1, the array at index 0 has size 3 and "
                                         r"the array at index 1 has size 4 \(shapes \(2,3\) and \(2,4\)\)"):
        tl.concatenate([a, b])
    with pytest.raises(ValueError, match="same number of dimensions"):
        tl.concatenate([a, tl.array(np.zeros(3))])
    with pytest.raises(ValueError, match="zero-dimensional arrays cannot be concatenated"):
        tl.concatenate([tl.array(1.0), tl.array(2.0)])
    with pytest.raises(ValueError, match="need at least one array"):
        tl.concatenate([])
    with pytest.raises(IndexError):
        tl.concatenate([a, a], axis=2)
    assert tl.concatenate([a, b], axis=1).shape == (2, 7)
    assert tl.concatenate((a, a), 0).shape == (4, 3)
    assert tl.concatenate([tl.array(1.0), tl.array([2.0, 3.0])], axis=None).shape == (3,)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack(axis):
    arrays = [randn(2, 3) for _ in range(3)]
    assert_tensor_equal(tl.stack([tl.array(a) for a in arrays], axis=axis), np.stack(arrays, axis=axis))


def test_stack_errors():
    with pytest.raises(ValueError, match=r"all input arrays must have the same shape.*\(2,3\).*\(3,2\)"):
        tl.stack([tl.array(np.zeros((2, 3))), tl.array(np.zeros((3, 2)))])
    with pytest.raises(IndexError):
        tl.stack([tl.array(np.zeros(2))], axis=2)
    with pytest.raises(ValueError):
        tl.stack([])


@pytest.mark.parametrize("shape,ios,axis", [((6,), 3, 0), ((6,), [2, 5], 0), ((4, 6), 2, 1), ((4, 6), [1, 1, 3], 0),
                                            ((4, 6), [10], 1), ((4, 6), [-2], -1), ((0, 2), 3, 0), ((6,), [4, 2], 0),
                                            ((6,), np.array([1, 4]), 0)])
def test_split_views(shape, ios, axis):
    x = randn(*shape)
    t = tl.array(x)
    got = tl.split(t, ios, axis=axis)
    want = np.split(x, ios, axis=axis)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_tensor_equal(g, w)
        if w.size:
            assert shares(g, t)


@pytest.mark.parametrize("n,sections", [(7, 3), (6, 4), (2, 5), (0, 2), (9, 3)])
def test_array_split(n, sections):
    x = np.arange(float(n))
    got, want = tl.array_split(tl.array(x), sections), np.array_split(x, sections)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_tensor_equal(g, w)
    y = randn(3, n)
    for g, w in zip(tl.array_split(tl.array(y), sections, axis=1), np.array_split(y, sections, axis=1)):
        assert_tensor_equal(g, w)


def test_split_errors():
    t = tl.array(np.zeros(5))
    with pytest.raises(ValueError, match="array split does not result in an equal division"):
        tl.split(t, 2)
    with pytest.raises(ValueError):
        tl.split(t, 0)


def test_concatenate_stack_gradients():
    a, b, c = randn(2, 3), randn(4, 3), randn(2, 3)
    gradcheck(lambda x, y: tl.concatenate([x, y, x]), a, b)
    gradcheck(lambda x, y: tl.concatenate([x, y.T], axis=1), a, c.T.copy())
    gradcheck(lambda x, y: tl.concatenate([x, y], axis=None), a, b)
    gradcheck(lambda x, y: tl.stack([x, y, x], axis=1), a, c)
    gradcheck(lambda x, y: tl.stack([x, y], axis=-1), a, c)


def test_concatenate_gradient_of_mixed_dtypes_and_constants():
    x = tl.array(np.ones(2, np.float32), requires_grad=True)
    y = tl.array(np.ones(3, np.float64), requires_grad=True)
    k = tl.array([1, 2])  # int input, no gradient
    out = tl.concatenate([x, k, y])
    assert out.dtype == np.float64
    out.backward(tl.array(np.arange(7.0)))
    assert x.grad.dtype == np.float32 and np.asarray(x.grad).tolist() == [0.0, 1.0]
    assert np.asarray(y.grad).tolist() == [4.0, 5.0, 6.0]


def test_split_gradients_and_unused_pieces():
    gradcheck(lambda t: tl.concatenate(tl.split(t, 3, axis=1)[::-1], axis=1), randn(2, 6))
    gradcheck(lambda t: tl.split(t, [1, 3])[1], randn(5, 2))
    x = tl.array(np.arange(6.0), requires_grad=True)
    a, b, c = tl.split(x, 3)
    (b * tl.array([1.0, 2.0])).sum().backward()  # only b is used: a and c get zeros
    assert np.asarray(x.grad).tolist() == [0.0, 0.0, 1.0, 2.0, 0.0, 0.0]
