"""The rest of the Array API main namespace: the standard's spellings of existing ops
(acos, concat, permute_dims, bitwise_invert, ...), constants, real/imag/conj for
real dtypes, and device= on the creation functions (tensorlet has only the CPU)."""

from __future__ import annotations

import math

import numpy as _np

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


def real(x, /):
    """The real part; of a complex tensor a float view sharing its memory (as ndarray.real)."""
    return _core.real(x)


def imag(x, /):
    """The imaginary part (a view of a complex tensor's memory; zeros for a real tensor)."""
    return _core.imag(x)


def conj(x, /):
    """The complex conjugate (a new tensor; real tensors are returned as they are)."""
    return _core.conj(x)


Tensor.real = property(real, doc="The real part (a view for complex tensors), as ndarray.real.")
Tensor.imag = property(imag, doc="The imaginary part (a view for complex tensors), as ndarray.imag.")
Tensor.conj = conj
Tensor.conjugate = conj


# The creation functions with the standard's parameter names and device= (the CPU only).
# dtype stays positional-or-keyword, as in NumPy and tensorlet's existing calls.
def zeros(shape, dtype=None, *, device=None, requires_grad=False):
    check_device(device, "zeros")
    return _core.zeros(shape, dtype, requires_grad=requires_grad)


def ones(shape, dtype=None, *, device=None, requires_grad=False):
    check_device(device, "ones")
    return _core.ones(shape, dtype, requires_grad=requires_grad)


def empty(shape, dtype=None, *, device=None, requires_grad=False):
    check_device(device, "empty")
    return _core.empty(shape, dtype, requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, *, device=None, requires_grad=False):
    check_device(device, "full")
    return _core.full(shape, fill_value, dtype, requires_grad=requires_grad)


def eye(n_rows, n_cols=None, k=0, dtype=None, *, device=None, requires_grad=False):
    check_device(device, "eye")
    return _core.eye(n_rows, n_cols, k, dtype, requires_grad=requires_grad)


def zeros_like(x, /, dtype=None, *, device=None, requires_grad=False):
    check_device(device, "zeros_like")
    return _core.zeros_like(x, dtype, requires_grad=requires_grad)


def ones_like(x, /, dtype=None, *, device=None, requires_grad=False):
    check_device(device, "ones_like")
    return _core.ones_like(x, dtype, requires_grad=requires_grad)


def empty_like(x, /, dtype=None, *, device=None, requires_grad=False):
    check_device(device, "empty_like")
    return _core.empty_like(x, dtype, requires_grad=requires_grad)


def full_like(x, /, fill_value, dtype=None, *, device=None, requires_grad=False):
    check_device(device, "full_like")
    return _core.full_like(x, fill_value, dtype, requires_grad=requires_grad)


def linspace(start, stop, /, num=50, endpoint=True, retstep=False, dtype=None, *, device=None, requires_grad=False):
    check_device(device, "linspace")
    if isinstance(start, complex) or isinstance(stop, complex) or (
            dtype is not None and _np.dtype(dtype).kind == "c"):
        # Complex ends: the real and imaginary parts are two real linspaces (NumPy's result).
        start, stop = complex(start), complex(stop)
        dt = _np.dtype(dtype) if dtype is not None else _np.dtype("complex128")
        if dt.kind != "c":
            raise TypeError(f"linspace: complex start/stop need a complex dtype, got {dt}")
        part = "float32" if dt == _np.complex64 else "float64"
        re = _core.linspace(start.real, stop.real, num, endpoint, retstep, part)
        im = _core.linspace(start.imag, stop.imag, num, endpoint, retstep, part)
        if retstep:
            (re, step_re), (im, step_im) = re, im
        out = _core.empty(re.shape, dtype=dt)
        _core.real(out)[...] = re
        _core.imag(out)[...] = im
        if requires_grad:
            out.requires_grad_(True)  # raises: complex autograd is not supported yet
        return (out, complex(step_re, step_im)) if retstep else out
    return _core.linspace(start, stop, num, endpoint, retstep, dtype, requires_grad=requires_grad)


def reshape(x, /, shape, *, copy=None):
    """The standard's reshape: copy=True copies, copy=False refuses to (ValueError) when the
    result cannot be a view; None: a view where possible."""
    out = _core.reshape(x, shape)
    if copy:
        return _core.copy(out)
    if copy is False and isinstance(x, Tensor) and out.size and not _np_shares(out, x):
        raise ValueError(f"reshape: copy=False, but shape {tuple(x.shape)} -> {tuple(shape)} needs a copy")
    return out


def _np_shares(a, b):
    import numpy as np
    return np.shares_memory(np.asarray(a), np.asarray(b))


def clip(x, /, min=None, max=None):
    return _core.clip(x, min, max)


def _var_std(fn, name):
    def reduce(x, /, axis=None, dtype=None, *, ddof=0, correction=None, keepdims=False):
        """NumPy's ddof= or the standard's correction= (a float: N / (N - c) times the ddof=0 result)."""
        if isinstance(axis, list):
            axis = tuple(axis)
        if correction is None:
            return fn(x, axis, dtype, ddof=ddof, keepdims=keepdims)
        if ddof:
            raise ValueError(f"{name}: give ddof or correction, not both")
        if float(correction) == int(correction):
            return fn(x, axis, dtype, ddof=int(correction), keepdims=keepdims)
        v = _core.var(x, axis, dtype, ddof=0, keepdims=keepdims)
        n = x.size // max(v.size, 1) if x.size else 0
        v = v * (n / (n - correction)) if n - correction != 0 else v * math.inf
        return _core.sqrt(v) if name == "std" else v
    reduce.__name__ = name
    return reduce


var = _var_std(_core.var, "var")
std = _var_std(_core.std, "std")


def bitwise_left_shift(x1, x2, /):
    """x1 << x2 as NumPy: x1 * 2**x2 with wrap-around (0 once x2 reaches the bit width)."""
    x1, x2 = _int_operands(x1, x2, "bitwise_left_shift")
    return _core.multiply(x1, _core.power(_core.asarray(2).astype(_promoted(x1, x2)), x2))


def _promoted(x1, x2):
    from ._array_api import result_type
    return result_type(x1, x2)


def _int_operands(x1, x2, op):
    # A Python int is weak (NEP 50): it takes the tensor operand's dtype, on either side.
    if not isinstance(x1, Tensor) and isinstance(x2, Tensor) and isinstance(x1, int):
        x1 = _core.asarray(x1, dtype=x2.dtype)
    x1 = x1 if isinstance(x1, Tensor) else _core.asarray(x1)
    x2 = x2 if isinstance(x2, Tensor) else _core.asarray(x2, dtype=x1.dtype)
    if x1.dtype.kind not in "iu" or x2.dtype.kind not in "iu":
        raise TypeError(f"{op}: needs integer operands, got {x1.dtype} and {x2.dtype}")
    if bool(_core.any(_core.less(x2, 0))):
        raise ValueError(f"{op}: negative shift counts are not allowed")
    return x1, x2


def bitwise_right_shift(x1, x2, /):
    """x1 >> x2 as NumPy: an arithmetic shift, floor(x1 / 2**x2); -1 or 0 past the bit width."""
    x1, x2 = _int_operands(x1, x2, "bitwise_right_shift")
    dt = _promoted(x1, x2)
    bits = dt.itemsize * 8
    limit = bits - 1 if dt.kind == "i" else bits  # 2**(bits-1) does not fit a signed dtype
    small = _core.minimum(x2.astype(dt), _core.asarray(max(limit - 1, 0)).astype(dt))
    shifted = _core.floor_divide(x1.astype(dt), _core.power(_core.asarray(2).astype(dt), small))
    past = _core.greater_equal(x2.astype(dt), _core.asarray(limit).astype(dt))
    fill = _core.where(_core.less(x1, 0), _core.asarray(-1).astype(dt), _core.asarray(0).astype(dt))
    # x2 == limit - 1 is exact via floor division; from limit on, the sign fill.
    return _core.where(past, fill, shifted)


def arange(start, stop=None, step=1, *, dtype=None, device=None, requires_grad=False):
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

Tensor.__lshift__ = lambda self, other: bitwise_left_shift(self, other)
Tensor.__rlshift__ = lambda self, other: bitwise_left_shift(other, self)
Tensor.__rshift__ = lambda self, other: bitwise_right_shift(self, other)
Tensor.__rrshift__ = lambda self, other: bitwise_right_shift(other, self)
Tensor.__complex__ = lambda self: complex(self.item())
