"""Sorting, searching, set and cumulative functions of the Array API standard (2024.12) over
the C++ kernels of csrc/ops/sorting.cpp (radix sort, scans, binary search)."""

from __future__ import annotations

from collections import namedtuple

from . import _core
from ._core import Tensor
from .autograd import is_grad_enabled


def _t(x, op):
    if isinstance(x, Tensor):
        return x
    raise TypeError(f"{op}: expected a tensorlet Tensor, got {type(x).__name__}")


def _widen_half(x):
    # float16 sorts and searches as float32: the conversion is exact and keeps the order (NaNs and
    # signed zeros included), so the kernels need no half instantiation.
    return x.astype("float32") if x.dtype == "float16" else x


def argsort(x, /, *, axis=-1, descending=False, stable=True):
    """Indices (int64) that sort x along axis; always stable, NaN last."""
    return _core._argsort(_widen_half(_t(x, "argsort")), axis, bool(descending))


def sort(x, /, *, axis=-1, descending=False, stable=True):
    """x sorted along axis (stable, NaN last). Differentiable: with a gradient to track, the
    values are gathered through argsort, so the gradient flows back to where each came from."""
    x = _t(x, "sort")
    if x.requires_grad and is_grad_enabled():
        from ._manipulation import take_along_axis
        return take_along_axis(x, _core._argsort(x, axis, bool(descending)), axis=axis)
    if x.dtype == "float16":
        return _core._sort_values(_widen_half(x), axis, bool(descending)).astype("float16")
    return _core._sort_values(x, axis, bool(descending))


def searchsorted(x1, x2, /, *, side="left", sorter=None):
    x1, x2 = _t(x1, "searchsorted"), _t(x2, "searchsorted")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if x1.ndim != 1:
        raise ValueError(f"searchsorted: x1 must be 1-D, got shape {tuple(x1.shape)}")
    if sorter is not None:
        x1 = _core.take(x1, _t(sorter, "searchsorted"))
    from ._array_api import result_type
    dt = result_type(x1, x2)
    if dt == "float16":
        dt = "float32"
    return _core._searchsorted(x1.astype(dt, copy=False), x2.astype(dt, copy=False), side == "right")


def _scan_dtype(x, dtype):
    # NumPy's and the standard's default, as tl.sum: bool and signed integers accumulate in
    # int64, unsigned integers in uint64.
    if dtype is not None:
        return dtype
    if x.dtype.kind == "u":
        return "uint64"
    if x.dtype.kind == "b" or (x.dtype.kind == "i" and x.dtype.itemsize < 8):
        return "int64"
    return x.dtype


def _scan(x, axis, dtype, include_initial, op, raw, initial):
    x = _t(x, op)
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{op}: axis is required for arrays of more than one dimension, got shape "
                             f"{tuple(x.shape)}")
        if x.ndim == 0:
            raise ValueError(f"{op}: x must have at least one dimension, got a 0-d array")
        axis = 0
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__}")
    if x.ndim == 0:
        raise ValueError(f"{op}: x must have at least one dimension, got a 0-d array")
    if not -x.ndim <= axis < x.ndim:
        raise IndexError(f"{op}: axis {axis} is out of bounds for an array of dimension {x.ndim}")
    axis %= x.ndim
    x = x.astype(_scan_dtype(x, dtype), copy=False)
    out = raw(x, axis)
    if include_initial:
        shape = list(x.shape)
        shape[axis] = 1
        first = _core.full(tuple(shape), initial, dtype=x.dtype)
        out = _core.concatenate([first, out], axis=axis)
    return out


def _cumsum(t, axis):
    if t.dtype.kind != "c":
        return _core._cumsum(t, axis, False)
    # A complex running sum is the running sums of its parts, written into the parts' views.
    out = _core.empty(t.shape, dtype=t.dtype)
    _core.real(out)[...] = _core._cumsum(_core.real(t), axis, False)
    _core.imag(out)[...] = _core._cumsum(_core.imag(t), axis, False)
    return out


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    return _scan(x, axis, dtype, include_initial, "cumulative_sum", _cumsum, 0)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    return _scan(x, axis, dtype, include_initial, "cumulative_prod", _core._cumprod, 1)


UniqueAllResult = namedtuple("UniqueAllResult", ["values", "indices", "inverse_indices", "counts"])
UniqueCountsResult = namedtuple("UniqueCountsResult", ["values", "counts"])
UniqueInverseResult = namedtuple("UniqueInverseResult", ["values", "inverse_indices"])


def _unique(x, op, want_index):
    """Sorted flat values, the mask of first elements of each run (NaNs are all distinct, as
    the standard says) and, with want_index, the stable sorting permutation."""
    flat = _core.ravel(_t(x, op))
    if flat.dtype.kind == "c" and flat.ndim:
        # Complex values have no order; runs of equal values only need some total order:
        # lexicographic (real, then imaginary part), as NumPy's, by two stable sorts.
        by_imag = _core._argsort(_core.imag(flat), 0, False)
        perm = _core.take(by_imag, _core._argsort(_core.take(_core.real(flat), by_imag), 0, False))
        s = _core.take(flat, perm)
    elif want_index:
        perm = _core._argsort(_widen_half(flat), 0, False)
        s = _core.take(flat, perm)
    else:
        perm, s = None, _core._sort_values(_widen_half(flat), 0, False).astype(flat.dtype) if flat.ndim else flat
    n = s.shape[0]
    first = _core.ones((n,), dtype="bool")
    if n > 1:
        first[1:] = _core.not_equal(s[1:], s[:-1])
    return s.detach(), first, perm


def unique_values(x, /):
    x = _t(x, "unique_values")
    if x.dtype.kind == "c" or x.dtype == "float16":
        s, first, _ = _unique(x, "unique_values", False)
        return s[first]
    return _core._unique_values(x)  # sorted and compacted in C++ (no boolean-mask gather)


def _starts_counts(first, n):
    starts = _core._nonzero(first)[0]
    ends = _core.concatenate([starts[1:], _core.full((1,), n, dtype="int64")]) if starts.shape[0] else starts
    return starts, ends - starts


def unique_counts(x, /):
    x = _t(x, "unique_counts")
    if x.dtype.kind == "c" or x.dtype == "float16":
        s, first, _ = _unique(x, "unique_counts", False)
        starts, counts = _starts_counts(first, s.shape[0])
        return UniqueCountsResult(_core.take(s, starts), counts)
    # The value sort, then one C++ pass writing the run heads and their lengths (no
    # permutation, mask or gathers).
    return UniqueCountsResult(*_core._unique_counts(x))


def _inverse(first, perm, shape):
    group = _core._cumsum(first.astype("int64"), 0, False) - 1 if first.shape[0] else first.astype("int64")
    inv = _core.empty((perm.shape[0],), dtype="int64")
    inv[perm] = group
    return inv.reshape(shape)


def unique_inverse(x, /):
    s, first, perm = _unique(x, "unique_inverse", True)
    return UniqueInverseResult(s[first], _inverse(first, perm, x.shape))


def unique_all(x, /):
    s, first, perm = _unique(x, "unique_all", True)
    starts, counts = _starts_counts(first, s.shape[0])
    return UniqueAllResult(_core.take(s, starts), _core.take(perm, starts), _inverse(first, perm, x.shape), counts)


def nonzero(x, /):
    """Indices (int64 arrays, one per dim, C order) of the nonzero elements; 0-d is an error."""
    x = _t(x, "nonzero")
    if x.ndim == 0:
        raise ValueError("nonzero: x must have at least one dimension, got a 0-d array")
    return tuple(_core._nonzero(_core.not_equal(x, 0) if x.dtype != "bool" else x))


def count_nonzero(x, /, *, axis=None, keepdims=False):
    x = _t(x, "count_nonzero")
    mask = _core.not_equal(x, 0) if x.dtype != "bool" else x
    if isinstance(axis, list):
        axis = tuple(axis)
    if axis is None and not keepdims:
        return _core._count_true(mask)  # one counting pass, no int64 widening
    return _core.sum(mask, axis=axis, dtype="int64", keepdims=keepdims)
