"""Array API manipulation and linear-algebra functions written over tensorlet's differentiable
ops (views, indexing, concatenate, matmul), so each has its gradient (and second derivative)
from the ops it is made of: flip, roll, tril/triu, meshgrid, repeat, tile, moveaxis,
broadcast_arrays, take_along_axis, diff, vecdot, tensordot, matrix_transpose, unstack."""

from __future__ import annotations

import operator

from . import _core
from ._core import Tensor


def _t(x, op):
    if isinstance(x, Tensor):
        return x
    raise TypeError(f"{op}: expected a tensorlet Tensor, got {type(x).__name__}")


def _axis(axis, ndim, op):
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__}") from None
    if not -ndim <= a < ndim:
        raise IndexError(f"{op}: axis {a} is out of bounds for an array of dimension {ndim}")
    return a % ndim


def _axes(axis, ndim, op):
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(_axis(a, ndim, op) for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return axes


def flip(x, /, *, axis=None):
    x = _t(x, "flip")
    key = [slice(None)] * x.ndim
    for a in _axes(axis, x.ndim, "flip"):
        key[a] = slice(None, None, -1)
    return x[tuple(key)]


def roll(x, /, shift, *, axis=None):
    x = _t(x, "roll")
    if axis is None:
        return roll(_core.ravel(x), shift, axis=0).reshape(x.shape)
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    if len(shifts) != len(axes):
        if len(shifts) == 1:
            shifts = shifts * len(axes)
        elif len(axes) == 1:
            axes = axes * len(shifts)
        else:
            raise ValueError(f"roll: shift {shift} and axis {axis} must have the same length")
    out = x
    for s, a in zip(shifts, axes):
        a = _axis(a, x.ndim, "roll")
        n = x.shape[a]
        k = operator.index(s) % n if n else 0
        if k:
            head = [slice(None)] * x.ndim
            tail = [slice(None)] * x.ndim
            head[a], tail[a] = slice(n - k, None), slice(None, n - k)
            out = _core.concatenate([out[tuple(head)], out[tuple(tail)]], axis=a)
    return out if out is not x else x[...]


def _tri_mask(x, k, lower, op):
    x = _t(x, op)
    if x.ndim < 2:
        raise ValueError(f"{op}: needs an array of at least 2 dimensions, got shape {tuple(x.shape)}")
    n, m = x.shape[-2], x.shape[-1]
    k = operator.index(k)
    rows = _core.arange(n, dtype="int64").reshape((n, 1))
    cols = _core.arange(m, dtype="int64").reshape((1, m))
    keep = (cols - rows <= k) if lower else (cols - rows >= k)
    return x, keep


def tril(x, /, *, k=0):
    x, keep = _tri_mask(x, k, True, "tril")
    return _core.where(keep, x, _core.zeros((), dtype=x.dtype))


def triu(x, /, *, k=0):
    x, keep = _tri_mask(x, k, False, "triu")
    return _core.where(keep, x, _core.zeros((), dtype=x.dtype))


def moveaxis(x, source, destination, /):
    x = _t(x, "moveaxis")
    src = _axes(source, x.ndim, "moveaxis")
    dst = _axes(destination, x.ndim, "moveaxis")
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of elements")
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _core.transpose(x, tuple(order))


def permute_dims(x, /, axes):
    return _core.transpose(_t(x, "permute_dims"), tuple(axes))


def matrix_transpose(x, /):
    x = _t(x, "matrix_transpose")
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: needs at least 2 dimensions, got shape {tuple(x.shape)}")
    return _core.swapaxes(x, -1, -2)


def broadcast_shapes(*shapes):
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(ndim):
        dims = {s[len(s) - ndim + i] for s in shapes if len(s) - ndim + i >= 0} - {1}
        if len(dims) > 1:
            raise ValueError(f"broadcast_arrays: shapes {', '.join(str(tuple(s)) for s in shapes)} cannot be broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def broadcast_arrays(*arrays):
    arrays = [_t(a, "broadcast_arrays") for a in arrays]
    shape = broadcast_shapes(*(tuple(a.shape) for a in arrays))
    return [_core.broadcast_to(a, shape) for a in arrays]


def meshgrid(*arrays, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    arrays = [_t(a, "meshgrid") for a in arrays]
    for a in arrays:
        if a.ndim != 1:
            raise ValueError(f"meshgrid: inputs must be 1-D, got shape {tuple(a.shape)}")
    if arrays and len({a.dtype for a in arrays}) > 1:
        raise ValueError("meshgrid: inputs must share a dtype")
    n = len(arrays)
    shape = [a.shape[0] for a in arrays]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, a in enumerate(arrays):
        view = [1] * n
        pos = i if indexing == "ij" or n < 2 or i > 1 else 1 - i
        view[pos] = a.shape[0]
        out.append(_core.broadcast_to(a.reshape(tuple(view)), tuple(shape)))
    return out


def repeat(x, repeats, /, *, axis=None):
    x = _t(x, "repeat")
    if axis is None:
        x, axis = _core.ravel(x), 0
    axis = _axis(axis, x.ndim, "repeat")
    n = x.shape[axis]
    if isinstance(repeats, Tensor):
        if repeats.dtype.kind not in "iu":
            raise TypeError(f"repeat: repeats must be integers, got {repeats.dtype}")
        reps = repeats.tolist()
        reps = [reps] * n if isinstance(reps, int) else reps
        reps = reps * n if len(reps) == 1 else reps  # a 1-element repeats broadcasts
    else:
        reps = [operator.index(repeats)] * n
    if len(reps) != n:
        raise ValueError(f"repeat: {len(reps)} repeats for an axis of length {n}")
    if any(r < 0 for r in reps):
        raise ValueError("repeat: repeats must be non-negative")
    idx = _core.array([i for i, r in enumerate(reps) for _ in range(r)], dtype="int64")
    return _core.take(x, idx, axis=axis)


def tile(x, repetitions, /):
    x = _t(x, "tile")
    reps = tuple(operator.index(r) for r in repetitions)
    if any(r < 0 for r in reps):
        raise ValueError("tile: repetitions must be non-negative")
    nd = max(x.ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + reps
    shape = (1,) * (nd - x.ndim) + tuple(x.shape)
    # (s0, s1, ...) -> (1, s0, 1, s1, ...) broadcast to (r0, s0, r1, s1, ...) -> (r0*s0, ...)
    inter = tuple(v for s in shape for v in (1, s))
    big = tuple(v for r, s in zip(reps, shape) for v in (r, s))
    out = _core.broadcast_to(x.reshape(inter), big)
    return _core.reshape(out, tuple(r * s for r, s in zip(reps, shape)))


def take_along_axis(x, indices, /, *, axis=-1):
    x, indices = _t(x, "take_along_axis"), _t(indices, "take_along_axis")
    if x.ndim != indices.ndim:
        raise ValueError(f"take_along_axis: x and indices must have the same number of dimensions, got "
                         f"{tuple(x.shape)} and {tuple(indices.shape)}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"take_along_axis: indices must be integers, got {indices.dtype}")
    axis = _axis(axis, x.ndim, "take_along_axis")
    key = []
    for d in range(x.ndim):
        if d == axis:
            key.append(indices)
        else:
            view = [1] * x.ndim
            view[d] = x.shape[d]
            key.append(_core.arange(x.shape[d], dtype="int64").reshape(tuple(view)))
    return x[tuple(key)]


def diff(x, /, *, axis=-1, n=1, prepend=None, append=None):
    x = _t(x, "diff")
    if x.ndim == 0:
        raise ValueError("diff: x must have at least one dimension")
    axis = _axis(axis, x.ndim, "diff")
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"diff: n must be non-negative, got {n}")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = _core.concatenate(parts, axis=axis)
    for _ in range(n):
        hi = [slice(None)] * x.ndim
        lo = [slice(None)] * x.ndim
        hi[axis], lo[axis] = slice(1, None), slice(None, -1)
        x = (_core.not_equal if x.dtype == "bool" else _core.subtract)(x[tuple(hi)], x[tuple(lo)])
    return x


def vecdot(x1, x2, /, *, axis=-1):
    """Sum of conj(x1) * x2 along axis (of the broadcast shape), as the standard defines it."""
    x1, x2 = _t(x1, "vecdot"), _t(x2, "vecdot")
    if min(x1.ndim, x2.ndim) == 0:
        raise ValueError("vecdot: inputs must have at least one dimension")
    nd = max(x1.ndim, x2.ndim)
    a = _axis(axis, nd, "vecdot") - nd
    if a < -min(x1.ndim, x2.ndim) or x1.shape[a] != x2.shape[a]:
        raise ValueError(f"vecdot: shapes {tuple(x1.shape)} and {tuple(x2.shape)} differ along axis {axis}")
    return _core.sum(_core.multiply(_core.conj(x1), x2), axis=a)


def tensordot(x1, x2, /, *, axes=2):
    x1, x2 = _t(x1, "tensordot"), _t(x2, "tensordot")
    if isinstance(axes, int):
        if axes < 0:
            raise ValueError(f"tensordot: axes must be non-negative, got {axes}")
        a1 = tuple(range(x1.ndim - axes, x1.ndim))
        a2 = tuple(range(axes))
    else:
        a1, a2 = (tuple(a) if isinstance(a, (tuple, list)) else (a,) for a in axes)
    a1 = tuple(_axis(a, x1.ndim, "tensordot") for a in a1)
    a2 = tuple(_axis(a, x2.ndim, "tensordot") for a in a2)
    if len(a1) != len(a2) or any(x1.shape[i] != x2.shape[j] for i, j in zip(a1, a2)):
        raise ValueError(f"tensordot: shapes {tuple(x1.shape)} and {tuple(x2.shape)} do not align on axes {axes}")
    free1 = [a for a in range(x1.ndim) if a not in a1]
    free2 = [a for a in range(x2.ndim) if a not in a2]
    k = 1
    for a in a1:
        k *= x1.shape[a]
    m = 1
    for a in free1:
        m *= x1.shape[a]
    p = 1
    for a in free2:
        p *= x2.shape[a]
    lhs = _core.transpose(x1, tuple(free1) + a1).reshape((m, k))
    rhs = _core.transpose(x2, a2 + tuple(free2)).reshape((k, p))
    return _core.matmul(lhs, rhs).reshape(tuple(x1.shape[a] for a in free1) + tuple(x2.shape[a] for a in free2))


def unstack(x, /, *, axis=0):
    x = _t(x, "unstack")
    axis = _axis(axis, x.ndim, "unstack")
    key = [slice(None)] * x.ndim
    out = []
    for i in range(x.shape[axis]):
        key[axis] = i
        out.append(x[tuple(key)])
    return tuple(out)
