"""The rest of the Array API main namespace: the standard's spellings of existing ops
(acos, concat, permute_dims, bitwise_invert, ...), constants, logaddexp, real/imag/conj for
real dtypes, and device= on the creation functions (tensorlet has only the CPU)."""

from __future__ import annotations

import math

from . import _core
from ._array_api import check_device
from ._core import Tensor

e, pi, inf, nan, newaxis = math.e, math.pi, math.inf, math.nan, None

acos, acosh, asin, asinh = _core.arccos, _core.arccosh, _core.arcsin, _core.arcsinh
atan, atanh, bitwise_invert = _core.arctan, _core.arctanh, _core.invert
arctan2 = _core.atan2  # NumPy's name


def concat(arrays, /, *, axis=0):
    if axis is None:
        return _core.concatenate([_core.ravel(a) for a in arrays], axis=0)
    return _core.concatenate(list(arrays), axis=axis)


def logaddexp(x1, x2, /):
    """log(exp(x1) + exp(x2)) without overflow: max + log1p(exp(-|x1 - x2|)), NumPy's formula.
    Equal infinities give themselves (the formula would give inf - inf = NaN)."""
    x1, x2 = _core.asarray(x1) if not isinstance(x1, Tensor) else x1, _core.asarray(x2) if not isinstance(x2, Tensor) else x2
    if x1.dtype.kind != "f" or x2.dtype.kind != "f":
        raise TypeError(f"logaddexp: needs floating-point operands, got {x1.dtype} and {x2.dtype}")
    big = _core.maximum(x1, x2)
    r = big + _core.log1p(_core.exp(-_core.abs(x1 - x2)))
    both_inf = _core.logical_and(_core.equal(x1, x2), _core.isinf(x1))
    return _core.where(both_inf, big, r)


def real(x, /):
    return x[...]


def imag(x, /):
    return _core.zeros_like(x)


def conj(x, /):
    return x[...]


def _with_device(fn):
    def make(*args, device=None, **kwargs):
        check_device(device, fn.__name__)
        return fn(*args, **kwargs)
    make.__name__, make.__doc__ = fn.__name__, fn.__doc__
    return make


zeros, ones, empty, full, eye, linspace = (_with_device(getattr(_core, n)) for n in
                                           ("zeros", "ones", "empty", "full", "eye", "linspace"))
zeros_like, ones_like, empty_like, full_like = (_with_device(getattr(_core, n)) for n in
                                                ("zeros_like", "ones_like", "empty_like", "full_like"))


def arange(start, /, stop=None, step=1, *, dtype=None, device=None, requires_grad=False):
    check_device(device, "arange")
    return _core.arange(start, stop, step, dtype=dtype, requires_grad=requires_grad)


def asarray(obj, /, dtype=None, *, device=None, copy=None):
    """The standard's asarray: copy=None copies only when needed, True always, False never
    (ValueError when a copy would be needed)."""
    check_device(device, "asarray")
    if copy:
        return _core.array(obj, dtype=dtype)
    out = _core.asarray(obj, dtype=dtype)
    if copy is False and isinstance(obj, Tensor) and out is not obj and dtype is not None and out.dtype != obj.dtype:
        raise ValueError("asarray: copy=False, but the dtype conversion needs a copy")
    return out
