"""sort / argsort / searchsorted / unique_* / nonzero / count_nonzero against NumPy."""
import numpy as np
import pytest

import tensorlet as tl
from gradcheck import gradcheck

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


def _data(dtype, shape, rng):
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith("float"):
        x = rng.integers(-4, 4, shape).astype(dtype) / 2  # many ties, to see stability
        flat = x.reshape(-1)
        if flat.size > 3:
            flat[::5] = np.nan
            flat[1] = -0.0
        return x
    return rng.integers(0 if dtype == "uint8" else -50, 50, shape).astype(dtype)


def _np_argsort(x, axis, descending):
    # stable descending with NaN last: NumPy's stable argsort of the negated keys
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    if x.dtype.kind == "f":
        key = np.where(np.isnan(x), np.inf, -x)
        nan_last = np.where(np.isnan(x), 1, 0)
        return np.lexsort((key, nan_last), axis=axis) if x.ndim == 1 else np.argsort(key, axis=axis, kind="stable")
    # integers and bool: stable ascending of the reversed row, reversed back (negating would
    # overflow uint64 and int64's minimum)
    r = np.flip(np.argsort(np.flip(x, axis), axis=axis, kind="stable"), axis)
    return x.shape[axis] - 1 - r


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [7, 300, 3000])  # std::stable_sort path and radix path
@pytest.mark.parametrize("descending", [False, True])
def test_argsort_and_sort_match_numpy_stable(dtype, n, descending):
    rng = np.random.default_rng(n)
    x = _data(dtype, (n,), rng)
    idx = np.asarray(tl.argsort(tl.asarray(x), descending=descending))
    ref = _np_argsort(x, -1, descending)
    if dtype.startswith("float"):
        nan = np.isnan(x)
        # NaNs last in both directions; among the rest the exact stable order
        assert nan[idx[len(idx) - nan.sum():]].all()
        ref = ref[~nan[ref]]
        idx = idx[: len(idx) - nan.sum()]
        # -0.0 == 0.0: NumPy keeps them in input order, so do we
    np.testing.assert_array_equal(idx, ref)
    vals = np.asarray(tl.sort(tl.asarray(x), descending=descending))
    assert vals.dtype == x.dtype
    np.testing.assert_array_equal(vals, x[np.asarray(tl.argsort(tl.asarray(x), descending=descending))])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_sort_along_any_axis_and_views(axis):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5, 6))
    t = tl.asarray(x)[:, ::-1]  # a strided view
    np.testing.assert_array_equal(np.asarray(tl.sort(t, axis=axis)), np.sort(x[:, ::-1], axis=axis))
    np.testing.assert_array_equal(np.asarray(tl.argsort(t, axis=axis)), np.argsort(x[:, ::-1], axis=axis, kind="stable"))


def test_sort_extremes_int64_and_empty():
    x = np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).min, 0, -1, 1] * 60, dtype=np.int64)
    np.testing.assert_array_equal(np.asarray(tl.sort(tl.asarray(x))), np.sort(x))
    np.testing.assert_array_equal(np.asarray(tl.sort(tl.asarray(x), descending=True)), np.sort(x)[::-1])
    assert tl.sort(tl.zeros((0, 3))).shape == (0, 3)
    with pytest.raises(ValueError, match="sort"):
        tl.sort(tl.asarray(1.0))
    with pytest.raises((IndexError, ValueError), match="argsort"):
        tl.argsort(tl.zeros(3), axis=1)


def test_sort_gradient_follows_the_values():
    gradcheck(lambda x: tl.sort(x, axis=1), np.random.default_rng(1).normal(size=(3, 5)))
    gradcheck(lambda x: tl.sort(x, axis=0, descending=True), np.random.default_rng(2).normal(size=(4, 2)))


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted(side):
    rng = np.random.default_rng(3)
    a = np.sort(np.concatenate([rng.integers(0, 10, 20).astype(np.float64), [np.nan]]))
    v = np.array([[-1, 0, 3, 3.5], [9, 10, np.nan, 2]])
    got = tl.searchsorted(tl.asarray(a), tl.asarray(v), side=side)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(np.asarray(got), np.searchsorted(a, v, side=side))
    perm = rng.permutation(a.size)
    got = tl.searchsorted(tl.asarray(a[perm]), tl.asarray(v), side=side, sorter=tl.asarray(np.argsort(perm)))
    np.testing.assert_array_equal(np.asarray(got), np.searchsorted(a, v, side=side))
    with pytest.raises(ValueError, match="side"):
        tl.searchsorted(tl.asarray(a), tl.asarray(v), side="middle")
    with pytest.raises(ValueError, match="1-D"):
        tl.searchsorted(tl.asarray(v), tl.asarray(v))


@pytest.mark.parametrize("dtype", ["int32", "float64", "uint8", "bool"])
def test_unique_family_matches_numpy(dtype):
    rng = np.random.default_rng(4)
    x = _data(dtype, (6, 7), rng)
    if dtype == "float64":
        x = np.where(np.isnan(x), 1.5, x)
    t = tl.asarray(x)
    vals, idx, inv, counts = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    r = tl.unique_all(t)
    np.testing.assert_array_equal(np.asarray(r.values), vals)
    np.testing.assert_array_equal(np.asarray(r.indices), idx)
    np.testing.assert_array_equal(np.asarray(r.inverse_indices), inv.reshape(x.shape))
    np.testing.assert_array_equal(np.asarray(r.counts), counts)
    np.testing.assert_array_equal(np.asarray(tl.unique_values(t)), vals)
    c = tl.unique_counts(t)
    np.testing.assert_array_equal(np.asarray(c.counts), counts)
    i = tl.unique_inverse(t)
    np.testing.assert_array_equal(np.asarray(i.values)[np.asarray(i.inverse_indices)], x)


def test_unique_nans_are_distinct_and_empty_input():
    x = tl.asarray([np.nan, 1.0, np.nan, 1.0])
    assert tl.unique_values(x).shape == (3,)
    assert np.asarray(tl.unique_counts(x).counts).tolist() == [2, 1, 1]
    assert tl.unique_all(tl.zeros((0,))).values.shape == (0,)


def test_nonzero_and_count_nonzero():
    x = np.array([[0, 1, 2], [3, 0, 0]], dtype=np.int32)
    got = tl.nonzero(tl.asarray(x))
    for g, r in zip(got, np.nonzero(x)):
        assert g.dtype == np.int64
        np.testing.assert_array_equal(np.asarray(g), r)
    with pytest.raises(ValueError, match="0-d"):
        tl.nonzero(tl.asarray(1))
    np.testing.assert_array_equal(np.asarray(tl.count_nonzero(tl.asarray(x), axis=1)), np.count_nonzero(x, axis=1))
    assert int(tl.count_nonzero(tl.asarray(x))) == 3
    assert tl.count_nonzero(tl.asarray(x), axis=(0, 1), keepdims=True).shape == (1, 1)


# The radix sort's edge cases, bit for bit against NumPy's stable sort: -0.0 / +0.0 and NaNs
# (with signs and payloads) keep their input order, in both directions, for every row length
# around the radix threshold, every pattern that skips radix passes, and strided inputs.
SPECIAL_DTYPES = ["float32", "float64", "int64", "int32", "uint32", "uint64", "int16", "uint8", "bool"]
PATTERNS = ["random", "specials", "sorted", "reversed", "equal", "full_range"]


def _special(dtype, n, pattern, rng):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        x = rng.integers(0, 2, n).astype(bool)
    elif dt.kind == "f":
        x = (rng.standard_normal(n) * 100).astype(dt)
        if pattern == "specials" and n:
            pool = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1.5, -1.5], dt)
            bits = pool.view(f"u{dt.itemsize}").copy()
            bits[4] |= 1  # a NaN payload NumPy keeps
            pool = bits.view(dt)
            x = pool[rng.integers(0, len(pool), n)]
    else:
        info = np.iinfo(dt)
        lo, hi = (int(info.min), int(info.max)) if pattern == "full_range" else (max(int(info.min), -40), 40)
        x = rng.integers(lo, hi, n, dtype=dt, endpoint=True)
    if pattern == "sorted":
        x = np.sort(x, kind="stable")
    elif pattern == "reversed":
        x = np.sort(x, kind="stable")[::-1].copy()
    elif pattern == "equal" and n:
        x = np.full(n, x[0], dt)
    return x


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view(f"u{a.dtype.itemsize}") if a.dtype.kind == "f" else a


@pytest.mark.parametrize("dtype", SPECIAL_DTYPES)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_sort_values_bitwise_against_numpy_stable(dtype, pattern):
    rng = np.random.default_rng(abs(hash((dtype, pattern))) % 2**32)
    for n in [0, 1, 2, 7, 255, 256, 257, 1001, 4099]:
        x = _special(dtype, n, pattern, rng)
        for descending in (False, True):
            ref = x[_np_argsort(x, -1, descending)] if n else x
            got = np.asarray(tl.sort(tl.asarray(x), descending=descending))
            assert got.dtype == x.dtype
            np.testing.assert_array_equal(_bits(got), _bits(ref), err_msg=f"n={n} descending={descending}")
            idx = np.asarray(tl.argsort(tl.asarray(x), descending=descending))
            np.testing.assert_array_equal(_bits(x[idx]), _bits(ref), err_msg=f"argsort n={n}")


@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_sort_strided_rows_each_axis(dtype):
    rng = np.random.default_rng(5)
    base = _special(dtype, 3 * 700 * 2, "specials", rng).reshape(3, 700, 2)
    x = base[:, ::-2, 1]  # non-contiguous (3, 350)
    t = tl.asarray(base)[:, ::-2, 1]
    for axis in (0, 1, -1):
        ref = np.take_along_axis(x, np.argsort(x, axis=axis, kind="stable"), axis=axis)
        np.testing.assert_array_equal(_bits(np.asarray(tl.sort(t, axis=axis))), _bits(ref))
        np.testing.assert_array_equal(np.asarray(tl.argsort(t, axis=axis)), np.argsort(x, axis=axis, kind="stable"))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
def test_unique_values_large_with_specials(dtype):
    rng = np.random.default_rng(6)
    for pattern in ("specials", "random", "equal"):
        x = _special(dtype, 3000, pattern, rng).reshape(3, 1000, 1)[:, ::-1]  # strided 3-D
        got = np.asarray(tl.unique_values(tl.asarray(x)))
        ref = np.unique(x, equal_nan=False)  # sorted; NaNs stay distinct, as np.unique_values
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8",
                                   "uint16", "uint32", "uint64", "bool", "complex64"])
def test_unique_counts_matches_numpy(dtype):
    # The one-pass C++ compaction (real dtypes but float16) and the mask path (float16, complex):
    # values and counts as np.unique_counts (NaNs distinct, count 1; -0.0 and +0.0 one value).
    rng = np.random.default_rng(7)
    base = dtype if dtype != "complex64" else "float32"
    cases = [_special(base, 1, "random", rng), _special(base, 2, "equal", rng), _special(base, 0, "random", rng),
             _special(base, 1, "random", rng).reshape(())]  # 0-d flattens to one value
    for pattern in ("specials", "random", "equal", "full_range", "sorted", "reversed"):
        cases.append(_special(base, 3000, pattern, rng).reshape(3, 1000, 1)[:, ::-1])  # strided 3-D
    for x in cases:
        if dtype == "complex64":
            x = (x + 1j * _special(base, x.size, "random", rng).reshape(x.shape)).astype(dtype)
        got, ref = tl.unique_counts(tl.asarray(x)), np.unique_counts(x)
        assert got.values.dtype == x.dtype and got.counts.dtype == "int64"
        np.testing.assert_array_equal(np.asarray(got.values), ref.values, err_msg=f"{x.shape}")
        np.testing.assert_array_equal(np.asarray(got.counts), ref.counts, err_msg=f"{x.shape}")


def test_unique_counts_special_runs():
    # Runs that start or end at the edges, NaNs at the end with one count each, mixed zeros.
    x = np.array([np.nan, -0.0, 2.0, 0.0, np.nan, 2.0, -np.inf, 0.0, np.inf, np.inf], np.float32)
    got = tl.unique_counts(tl.asarray(x))
    np.testing.assert_array_equal(np.asarray(got.values), [-np.inf, 0.0, 2.0, np.inf, np.nan, np.nan])
    assert np.asarray(got.counts).tolist() == [1, 3, 2, 2, 1, 1]
    one_run = tl.unique_counts(tl.full((4, 5), 3, dtype="int64"))
    assert np.asarray(one_run.values).tolist() == [3] and np.asarray(one_run.counts).tolist() == [20]
