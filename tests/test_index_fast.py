"""The direct gather/scatter paths of x[mask], x[i], x[i] = v, take and nonzero (one index array
on the leading dim; csrc/kernels/gather.cpp) against NumPy: every element size, strided and
reversed 1-D views, row gathers of contiguous n-d tensors, masks across the kernels' chunk and
8-byte block boundaries, negative and out-of-range indices."""
import numpy as np
import pytest

import tensorlet as tl
from conftest import assert_tensor_equal

DTYPES = ["bool", "int8", "float16", "int32", "float32", "int64", "float64", "complex64", "complex128"]
SIZES = [0, 1, 7, 8, 9, 63, 65536 + 13]  # the last crosses a mask chunk (65536) boundary


def values(n, dtype, rng):
    v = rng.standard_normal(n) * 100
    if dtype.startswith("complex"):
        v = v + 1j * rng.standard_normal(n)
    return v.astype(dtype)


def masks(n, rng):
    """Patterns that hit each block kind: all false, all true, mixed, runs, a single true at the end."""
    yield np.zeros(n, bool)
    yield np.ones(n, bool)
    yield rng.random(n) < 0.5
    yield rng.random(n) < 0.97
    yield (np.arange(n) // 11) % 2 == 0
    m = np.zeros(n, bool)
    if n:
        m[-1] = True
    yield m


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_mask_and_take_1d(dtype, n):
    rng = np.random.default_rng(n)
    base = values(2 * n, dtype, rng)
    for x_np in (base[:n], base[::2], base[::-2][:n]):  # contiguous, strided, reversed
        x = tl.asarray(x_np)
        for m in masks(len(x_np), rng):
            assert_tensor_equal(x[tl.asarray(m)], x_np[m])
        if n:
            i = rng.integers(-n, n, size=3 * n)
            assert_tensor_equal(x[tl.asarray(i)], x_np[i])
            assert_tensor_equal(tl.take(x, tl.asarray(i.astype(np.int32))), np.take(x_np, i))
            assert_tensor_equal(x[tl.asarray(i.reshape(3, n))], x_np[i.reshape(3, n)])


@pytest.mark.parametrize("dtype", ["int8", "float32", "complex128"])
def test_leading_index_on_rows(dtype):
    rng = np.random.default_rng(1)
    x_np = values(70 * 3 * 4, dtype, rng).reshape(70, 3, 4)
    x = tl.asarray(x_np)
    for m in masks(70, rng):
        assert_tensor_equal(x[tl.asarray(m)], x_np[m])
    m2 = rng.random((70, 3)) < 0.4
    assert_tensor_equal(x[tl.asarray(m2)], x_np[m2])
    m3 = rng.random((70, 3, 4)) < 0.4
    assert_tensor_equal(x[tl.asarray(m3)], x_np[m3])
    i = rng.integers(-70, 70, size=(5, 2))
    assert_tensor_equal(x[tl.asarray(i)], x_np[i])
    # A non-contiguous n-d tensor takes the general path: same answers.
    xt_np = x_np.transpose(1, 0, 2)
    assert_tensor_equal(tl.asarray(xt_np)[tl.asarray(m2.T)], xt_np[m2.T])


@pytest.mark.parametrize("dtype", ["uint8", "float16", "float32", "int64", "complex128"])
def test_setitem_integer_array(dtype):
    rng = np.random.default_rng(2)
    n = 1000
    base_np = values(2 * n, dtype, rng)
    for view in (slice(0, n), slice(None, None, 2), slice(None, None, -2)):
        x_np = base_np.copy()
        x = tl.asarray(base_np.copy())
        i = rng.integers(-n, n, size=3 * n)  # repeats: the last write wins, as NumPy
        v = values(3 * n, dtype, rng)
        x_np[view][i] = v
        xv = x[view]
        xv[tl.asarray(i)] = tl.asarray(v)
        assert_tensor_equal(x, x_np)
        x_np[view][i[:5]] = v[0]  # a scalar value broadcasts
        xv[tl.asarray(i[:5])] = tl.asarray(v[0])
        assert_tensor_equal(x, x_np)
    r_np = values(12, dtype, rng).reshape(4, 3)
    r = tl.asarray(r_np.copy())
    rows = np.array([3, -4, 1])
    r_np[rows] = values(3, dtype, rng)[None, :]  # one row repeated
    r[tl.asarray(rows)] = tl.asarray(r_np[rows][0:1])
    assert_tensor_equal(r, r_np)
    vals = values(6, dtype, rng).reshape(2, 3)
    r_np[np.array([0, 2])] = vals
    r[tl.asarray(np.array([0, 2]))] = tl.asarray(vals)
    assert_tensor_equal(r, r_np)


def test_out_of_range_raises_and_leaves_x_alone():
    x = tl.asarray(np.arange(5.0))
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 5"):
        x[tl.asarray(np.array([0, 5, 1]))]
    with pytest.raises(IndexError, match="index -6 is out of bounds"):
        tl.take(x, tl.asarray(np.array([-6])))
    with pytest.raises(IndexError, match="index 7 is out of bounds"):
        x[tl.asarray(np.array([1, 7]))] = 9.0
    assert_tensor_equal(x, np.arange(5.0))  # nothing written before the check failed
    with pytest.raises(IndexError):
        tl.asarray(np.zeros(0))[tl.asarray(np.array([0]))]
    with pytest.raises(IndexError, match="boolean index did not match"):
        x[tl.asarray(np.ones(4, bool))]


@pytest.mark.parametrize("shape", [(0,), (9,), (65536 + 5,), (3, 0), (4, 5), (3, 1, 7), (2, 40000)])
def test_nonzero_matches_numpy(shape):
    rng = np.random.default_rng(3)
    for p in (0.0, 0.3, 1.0):
        m = rng.random(shape) < p
        got = tl.nonzero(tl.asarray(m))
        want = np.nonzero(m)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_tensor_equal(g, w)
        x = np.where(m, rng.standard_normal(shape), 0.0)
        for g, w in zip(tl.nonzero(tl.asarray(x)), np.nonzero(x)):
            assert_tensor_equal(g, w)
        assert int(tl.count_nonzero(tl.asarray(x))) == np.count_nonzero(x)


def test_mask_gather_keeps_gradient():
    # With a gradient to track, x[mask] goes through the general path and scatters back.
    x = tl.array(np.arange(6.0), requires_grad=True)
    m = tl.asarray(np.array([1, 0, 1, 1, 0, 0], bool))
    tl.sum(x[m] * 2.0).backward()
    assert_tensor_equal(x.grad, np.array([2.0, 0, 2, 2, 0, 0]))


@pytest.mark.parametrize("shape", [(), (0,), (5, 7), (2**24 + 5,)])  # the last: past one 32-bit counting block
def test_count_nonzero_over_all_axes(shape):
    rng = np.random.default_rng(7)
    x = np.where(rng.random(shape) < 0.3, rng.standard_normal(shape), 0.0).astype(np.float32)
    got = tl.count_nonzero(tl.asarray(x))
    assert got.dtype == tl.int64 and got.shape == ()
    assert int(got) == np.count_nonzero(x)
    m = tl.asarray(x != 0)
    assert int(tl.count_nonzero(m)) == np.count_nonzero(x)
    assert_tensor_equal(tl.count_nonzero(tl.asarray(x), keepdims=True), np.count_nonzero(x, keepdims=True))
