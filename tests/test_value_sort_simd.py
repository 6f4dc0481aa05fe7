"""The value sort's vectorised quicksort (csrc/kernels/sort_avx2.cpp) bit for bit against NumPy's
stable sort, on every ISA this machine runs (generic = the radix sort), at the sizes around its
network and partition thresholds (8- and 4-key vectors, 256-key leaves, the 65536 sample size,
the 131072 parallel split) and on the inputs that break quicksorts."""
import numpy as np
import pytest

import tensorlet as tl
from test_sorting import _bits, _np_argsort

DTYPES = ["float32", "float64", "int32", "uint32", "int64", "uint64"]
SIZES = [3, 4, 5, 8, 9, 16, 17, 33, 64, 65, 127, 128, 129, 255, 256, 257, 300, 513, 1031, 4097]
PATTERNS = ["random", "equal", "two", "few", "sorted", "reversed", "organ", "sawtooth", "extremes",
            "nan_payloads", "zeros"]


def _make(dtype, n, pattern, rng):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        x = (rng.standard_normal(n) * 1e3).astype(dt)
    else:
        info = np.iinfo(dt)
        x = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
    if pattern == "equal":
        x = np.full(n, x[0], dt)
    elif pattern == "two":
        x = np.where(rng.random(n) < 0.5, x[0], x[1]).astype(dt)
    elif pattern == "few":
        x = rng.choice(x[:5], n).astype(dt)
    elif pattern == "sorted":
        x = np.sort(x)
    elif pattern == "reversed":
        x = np.sort(x)[::-1].copy()
    elif pattern == "organ":
        s = np.sort(x)
        x = np.concatenate([s[0::2], s[1::2][::-1]])
    elif pattern == "sawtooth":
        x = np.sort(x)[np.arange(n) % max(n // 7, 1)]
    elif pattern == "extremes":
        if dt.kind == "f":
            fi = np.finfo(dt)
            pool = np.array([np.inf, -np.inf, fi.max, -fi.max, fi.tiny, -fi.tiny, fi.smallest_subnormal, 0.0, -0.0, 1.0], dt)
        else:
            info = np.iinfo(dt)
            pool = np.array([info.min, info.max, info.min + 1, info.max - 1, 0, 1], dt)
        x = pool[rng.integers(0, len(pool), n)]
    elif pattern == "nan_payloads":
        if dt.kind == "f":
            u = np.dtype(f"u{dt.itemsize}")
            nans = np.full(n, np.nan, dt).view(u) | rng.integers(1, 1 << 20, n).astype(u)  # quiet NaNs, varied payloads
            nans[::3] |= u.type(1) << u.type(8 * dt.itemsize - 1)  # and negative ones
            x = np.where(rng.random(n) < 0.6, nans.view(dt), x)
        else:
            x = np.where(rng.random(n) < 0.6, np.iinfo(dt).max, x).astype(dt)
    elif pattern == "zeros":
        if dt.kind == "f":
            x = np.where(rng.random(n) < 0.7, np.where(rng.random(n) < 0.5, dt.type(-0.0), dt.type(0.0)), x)
        else:
            x = np.where(rng.random(n) < 0.7, dt.type(0), x)
    return np.ascontiguousarray(x, dtype=dt)


def _check(x, descending, msg):
    ref = x[_np_argsort(x, -1, descending)]
    got = np.asarray(tl.sort(tl.asarray(x), descending=descending))
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(_bits(got), _bits(ref), err_msg=msg)


@pytest.mark.parametrize("dtype", DTYPES)
def test_value_sort_edges_bitwise(dtype, every_isa):
    rng = np.random.default_rng(DTYPES.index(dtype))
    for pattern in PATTERNS:
        for n in SIZES:
            x = _make(dtype, n, pattern, rng)
            for descending in (False, True):
                _check(x, descending, f"{every_isa} {pattern} n={n} descending={descending}")


@pytest.mark.parametrize("dtype", ["float32", "int64", "uint32", "float64"])
def test_value_sort_large_rows(dtype, every_isa, restore_threads):
    """Past the 65536-key sample and the 131072-key parallel split, with 1 and 2 threads."""
    rng = np.random.default_rng(7)
    for threads in (1, 2):
        tl.set_num_threads(threads)
        for pattern in ("random", "few", "organ", "nan_payloads"):
            x = _make(dtype, 140_001, pattern, rng)
            _check(x, pattern == "organ", f"{every_isa} threads={threads} {pattern}")
        x = _make(dtype, 70_001, "random", rng)
        _check(x, True, f"{every_isa} threads={threads} 70001")


@pytest.mark.parametrize("dtype", ["float32", "uint64"])
def test_value_sort_strided_and_other_axes(dtype, every_isa):
    rng = np.random.default_rng(8)
    base = _make(dtype, 4 * 1200 * 2, "zeros" if dtype == "float32" else "random", rng).reshape(4, 1200, 2)
    x = base[:, ::-3, 1]  # non-contiguous (4, 400)
    t = tl.asarray(base)[:, ::-3, 1]
    for axis in (0, 1, -1):
        for descending in (False, True):
            moved = np.moveaxis(x, axis, -1)
            ref = np.take_along_axis(moved, _np_argsort(moved, -1, descending), axis=-1)
            got = np.moveaxis(np.asarray(tl.sort(t, axis=axis, descending=descending)), axis, -1)
            np.testing.assert_array_equal(_bits(got), _bits(ref), err_msg=f"axis={axis} descending={descending}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_unique_values_through_the_vector_sort(dtype, every_isa):
    rng = np.random.default_rng(9)
    for pattern in ("random", "few", "nan_payloads", "zeros", "extremes"):
        x = _make(dtype, 3001, pattern, rng)
        got = np.asarray(tl.unique_values(tl.asarray(x)))
        ref = np.unique(x, equal_nan=False)  # NaNs distinct; which zero or NaN payload leads is not compared
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, ref, err_msg=pattern)



def _offset_row(dtype, lo, offsets):
    """lo + offsets (uint64) in dtype, wrapping like the dtype's two's complement."""
    return (offsets + np.uint64(lo % 2**64)).view(dtype)


@pytest.mark.parametrize("dtype", ["int64", "uint64"])
def test_value_sort_narrow_range_int64(dtype, every_isa, restore_threads):
    """64-bit rows whose max - min < 2^32 sort as 32-bit keys (sort_avx2.cpp narrow_keys): spans
    of exactly 2^32 - 1 (narrow) and 2^32 (wide), at the ends of the dtype's range and around
    zero, with the extremes first, in a later 4096-key chunk or in the scalar tail."""
    rng = np.random.default_rng(11)
    info = np.iinfo(dtype)
    lows = [int(info.min), -(2**31) if info.min < 0 else 2**31, -5 if info.min < 0 else 5,
            int(info.max) - (2**32 - 1), int(info.max) - 2**32]
    cases = [(1, n, lows) for n in (256, 259, 9001)] + [(2, 140_001, lows[1:3])]  # the last: parallel split
    for threads, n, los in cases:
        tl.set_num_threads(threads)
        for lo in los:
            for span in (2**32 - 1, 2**32, 1000):
                if lo + span > info.max:
                    continue
                x = _offset_row(dtype, lo, rng.integers(0, span, n, dtype=np.uint64, endpoint=True))
                for at in (0, 4097 + 5, n - 2) if n > 8200 else (0, n // 2, n - 2):
                    y = x.copy()
                    y[at : at + 2] = _offset_row(dtype, lo, np.array([0, span], np.uint64))
                    for descending in (False, True):
                        _check(y, descending, f"{every_isa} threads={threads} n={n} lo={lo} span={span} at={at}")
