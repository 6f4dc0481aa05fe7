"""Hypothesis fuzz of the Array API functions added for issue 15 against NumPy 2 as the oracle:
sorting and sets, cumulative sums and products, the structural functions and the new
elementwise functions, over every real dtype, strided / reversed / transposed layouts and
special values (NaN, infinities, signed zeros, duplicates). TL_FUZZ_EXAMPLES raises the budget."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorlet as tl

EXAMPLES = int(os.environ.get("TL_FUZZ_EXAMPLES", "150"))
INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOATS = ["float16", "float32", "float64"]
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, 2.5, -3.5, 1e-3, 7.0])


@st.composite
def tensor_pair(draw, kinds="fiu", min_ndim=1, max_ndim=3):
    """(a NumPy array, the same data as a tensor) in one of several memory layouts."""
    dtype = np.dtype(draw(st.sampled_from([d for d in FLOATS + INTS if np.dtype(d).kind in kinds])))
    ndim = draw(st.integers(min_ndim, max_ndim))
    shape = tuple(draw(st.lists(st.integers(0 if ndim == 1 else 1, 6), min_size=ndim, max_size=ndim)))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    if dtype.kind == "f":
        base = rng.choice(SPECIAL, size=shape).astype(dtype)  # few values: duplicates and ties
    elif dtype.kind == "u":
        base = rng.integers(0, 9, size=shape).astype(dtype)
    else:
        base = rng.integers(-5, 6, size=shape).astype(dtype)
    layout = draw(st.sampled_from(["c", "T", "step", "rev"]))
    if layout == "T":
        base = np.ascontiguousarray(base.T).T
    elif layout == "step" and base.size:
        base = np.repeat(base, 2, axis=0)[::2]
    elif layout == "rev":
        base = np.ascontiguousarray(base[::-1])[::-1]
    return base, tl.asarray(base)  # zero-copy: the tensor keeps NumPy's strides


def check(got, want):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    if want.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(got[got == 0]), np.signbit(want[want == 0]))
    np.testing.assert_array_equal(got, want)


def an_axis(draw, x):
    return draw(st.integers(-x.ndim, x.ndim - 1))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=tensor_pair(), data=st.data())
def test_sorting_and_sets_match_numpy(pair, data):
    a, t = pair
    axis = an_axis(data.draw, a)
    check(tl.sort(t, axis=axis), np.sort(a, axis=axis, kind="stable"))  # tied zeros in input order too
    check(tl.argsort(t, axis=axis), np.argsort(a, axis=axis, kind="stable"))
    # descending: the values of NumPy's ascending sort reversed (NaNs first, as the standard's
    # descending order of NumPy's NaN-last sort)
    # descending: NumPy's ascending order reversed, NaNs still last (tensorlet's documented
    # convention); ties of -0.0 and +0.0 may differ in order, so zeros compare by value here
    down = np.flip(np.sort(a, axis=axis), axis=axis)
    down = np.take_along_axis(down, np.argsort(np.isnan(down), axis=axis, kind="stable"), axis=axis)
    np.testing.assert_array_equal(np.asarray(tl.sort(t, axis=axis, descending=True)), down)
    values = np.asarray(tl.unique_values(t))
    want = np.unique(a)  # sorted, one NaN per NaN in NumPy 2 (equal_nan=True folds them)
    np.testing.assert_array_equal(np.sort(values), np.sort(np.unique_values(a)))  # either zero may stay
    assert values.dtype == a.dtype
    assert values.size == want.size or a.dtype.kind == "f"
    check(tl.count_nonzero(t, axis=axis), np.count_nonzero(a, axis=axis))
    if a.ndim == 1:
        x1 = np.sort(a)
        side = data.draw(st.sampled_from(["left", "right"]))
        check(tl.searchsorted(tl.asarray(x1), t, side=side), np.searchsorted(x1, a, side=side))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=tensor_pair(), data=st.data())
def test_cumulative_match_numpy(pair, data):
    a, t = pair  # float16 too: rounded to float16 after each step, as NumPy, so bit for bit
    axis = an_axis(data.draw, a) if a.ndim > 1 else None
    include = data.draw(st.booleans())
    for name in ("cumulative_sum", "cumulative_prod"):
        with np.errstate(all="ignore"):
            check(getattr(tl, name)(t, axis=axis, include_initial=include),
                  getattr(np, name)(a, axis=axis, include_initial=include))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=tensor_pair(), data=st.data())
def test_structural_functions_match_numpy(pair, data):
    a, t = pair
    axis = an_axis(data.draw, a)
    shift = data.draw(st.integers(-7, 7))
    check(tl.flip(t, axis=axis), np.flip(a, axis=axis))
    check(tl.roll(t, shift, axis=axis), np.roll(a, shift, axis=axis))
    check(tl.roll(t, shift), np.roll(a, shift))
    reps = data.draw(st.integers(0, 3))
    check(tl.repeat(t, reps, axis=axis), np.repeat(a, reps, axis=axis))
    tiles = tuple(data.draw(st.lists(st.integers(1, 2), min_size=1, max_size=3)))
    check(tl.tile(t, tiles), np.tile(a, tiles))
    check(tl.moveaxis(t, axis, 0), np.moveaxis(a, axis, 0))
    if a.shape[axis] >= 1:
        check(tl.diff(t, axis=axis), np.diff(a, axis=axis))
    if a.ndim >= 2:
        k = data.draw(st.integers(-3, 3))
        check(tl.tril(t, k=k), np.tril(a, k=k))
        check(tl.triu(t, k=k), np.triu(a, k=k))
    order = np.argsort(a, axis=axis, kind="stable")
    check(tl.take_along_axis(t, tl.asarray(order), axis=axis), np.take_along_axis(a, order, axis=axis))


UNARY_FLOAT = ["tan", "sinh", "cosh", "tanh", "asinh", "log1p", "expm1", "log2", "log10", "floor", "ceil",
               "trunc", "round", "isinf", "isnan", "isfinite", "signbit"]
BINARY_FLOAT = ["atan2", "hypot", "copysign", "nextafter", "logaddexp"]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=tensor_pair(kinds="f"), data=st.data())
def test_new_elementwise_functions_match_numpy(pair, data):
    a, t = pair
    with np.errstate(all="ignore"):
        for name in UNARY_FLOAT:
            np_name = {"round": "rint"}.get(name, name)  # the standard's round is half to even
            got, want = np.asarray(getattr(tl, name)(t)), getattr(np, np_name)(a)
            assert got.dtype == want.dtype, name
            if want.dtype.kind == "b" or name in ("floor", "ceil", "trunc", "round"):
                check(got, want)
            else:  # libm against NumPy's own loops: equal to a few ulps, the same NaNs and infinities
                tol = {np.float16: 1e-3, np.float32: 1e-6, np.float64: 1e-13}[a.dtype.type]
                np.testing.assert_allclose(got, want, rtol=tol, atol=0, equal_nan=True, err_msg=name)
        other = np.random.default_rng(a.size).choice(SPECIAL, size=a.shape[-1:]).astype(a.dtype)
        for name in BINARY_FLOAT:
            got, want = np.asarray(getattr(tl, name)(t, tl.asarray(other))), getattr(np, name)(a, other)
            assert got.dtype == want.dtype, name
            if name in ("copysign", "nextafter"):
                check(got, want)
            else:
                tol = {np.float16: 1e-3, np.float32: 1e-6, np.float64: 1e-13}[a.dtype.type]
                np.testing.assert_allclose(got, want, rtol=tol, atol=0, equal_nan=True, err_msg=name)


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint16", "uint64", "float16"])
def test_long_scans_match_numpy(dtype):
    # Long integer rows take the streaming-store loop (wrapping as NumPy); float16 rounds to
    # float16 at every step, as NumPy.
    rng = np.random.default_rng(4)
    n = 1_100_001 if dtype in ("int32", "int64") else 300_001  # over 4 MiB: the streaming loop
    a = (rng.standard_normal(n) * 3).astype(dtype) if dtype == "float16" else \
        rng.integers(np.iinfo(dtype).min // 2, np.iinfo(dtype).max // 2, n, dtype=dtype, endpoint=True)
    with np.errstate(all="ignore"):
        for name in ("cumulative_sum", "cumulative_prod"):
            got = np.asarray(getattr(tl, name)(tl.asarray(a)))
            want = getattr(np, name)(a)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(np.asarray(getattr(tl, name)(tl.asarray(a[::-2]))), getattr(np, name)(a[::-2]))
