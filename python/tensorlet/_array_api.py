"""The Array API standard's namespace pieces (2024.12): version, devices, dtype functions
(finfo, iinfo, isdtype, result_type, can_cast), __array_namespace_info__, and the Tensor
protocols (__array_namespace__, device, to_device, mT). tensorlet runs on the CPU only, so there
is one device, ``tl.cpu`` (``tl.device("cpu")``)."""

from __future__ import annotations

import numpy as _np

from ._core import Tensor

__array_api_version__ = "2024.12"
_KNOWN_VERSIONS = ("2021.12", "2022.12", "2023.12", "2024.12")


class Device:
    """The CPU, tensorlet's only device. Equal to itself and to the string "cpu"."""
    __slots__ = ()

    def __repr__(self):
        return "Device('cpu')"

    def __eq__(self, other):
        return isinstance(other, Device) or other == "cpu"

    def __hash__(self):
        return hash("cpu")


cpu = Device()


def device(name="cpu"):
    """tl.device("cpu") -> the CPU device (ValueError for any other)."""
    check_device(name, "device")
    return cpu


def check_device(dev, op):
    if dev is None or isinstance(dev, Device) or dev == "cpu":
        return
    raise ValueError(f"{op}: tensorlet has only the CPU device, got device={dev!r}")


def _dtypes(standard_only=False):
    """tensorlet's dtypes by name; standard_only leaves out float16, which tensorlet has (as
    NumPy) but the Array API standard does not name."""
    from . import __dict__ as ns
    names = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "float16", "float32", "float64", "complex64", "complex128")
    if standard_only:
        names = tuple(n for n in names if n != "float16")
    return {n: ns["bool_" if n == "bool" else n] for n in names if ("bool_" if n == "bool" else n) in ns}


def _as_dtype(x, op):
    if isinstance(x, Tensor):
        return x.dtype
    try:
        dt = _np.dtype(x)
    except TypeError:
        raise TypeError(f"{op}: expected a dtype or an array, got {type(x).__name__}") from None
    if dt not in _dtypes().values():
        raise TypeError(f"{op}: {dt} is not a tensorlet dtype")
    return dt


class finfo_object:
    """Machine limits of a floating dtype (Python floats, as the standard says)."""

    def __init__(self, dt):
        f = _np.finfo(dt)
        # complex64 describes its float32 parts (the standard's and NumPy's finfo).
        self.bits, self.dtype = int(f.bits), _np.dtype(f.dtype)
        self.eps, self.max, self.min = float(f.eps), float(f.max), float(f.min)
        self.smallest_normal = float(f.smallest_normal)

    def __repr__(self):
        return f"finfo(bits={self.bits}, eps={self.eps}, max={self.max}, min={self.min}, dtype={self.dtype})"


class iinfo_object:
    """Limits of an integer dtype."""

    def __init__(self, dt):
        i = _np.iinfo(dt)
        self.bits, self.max, self.min, self.dtype = int(i.bits), int(i.max), int(i.min), dt

    def __repr__(self):
        return f"iinfo(bits={self.bits}, max={self.max}, min={self.min}, dtype={self.dtype})"


def finfo(type, /):
    dt = _as_dtype(type, "finfo")
    if dt.kind not in "fc":
        raise TypeError(f"finfo: {dt} is not a floating-point dtype")
    return finfo_object(dt)


def iinfo(type, /):
    dt = _as_dtype(type, "iinfo")
    if dt.kind not in "iu":
        raise TypeError(f"iinfo: {dt} is not an integer dtype")
    return iinfo_object(dt)


_KINDS = {
    "bool": "b", "signed integer": "i", "unsigned integer": "u", "integral": "iu",
    "real floating": "f", "complex floating": "c", "numeric": "iufc",
}


def isdtype(dtype, kind):
    """The standard's dtype test: kind is a dtype, a kind name, or a tuple of them."""
    dt = _as_dtype(dtype, "isdtype")
    if isinstance(kind, tuple):
        return any(isdtype(dt, k) for k in kind)
    if isinstance(kind, str) and kind in _KINDS:
        return dt.kind in _KINDS[kind]
    if isinstance(kind, str):
        raise ValueError(f"isdtype: unknown kind {kind!r} (expected one of {sorted(_KINDS)})")
    return dt == _as_dtype(kind, "isdtype")


def result_type(*arrays_and_dtypes):
    """NumPy 2 promotion of arrays and dtypes; Python scalars are weak (NEP 50)."""
    if not arrays_and_dtypes:
        raise ValueError("result_type: at least one array or dtype is required")
    args = []
    for a in arrays_and_dtypes:
        if isinstance(a, (bool, int, float, complex)):
            args.append(a)
        else:
            args.append(_as_dtype(a, "result_type"))
    if all(isinstance(a, (bool, int, float, complex)) for a in args):
        raise ValueError("result_type: at least one array or dtype is required (got only Python scalars)")
    dt = _np.result_type(*args)
    if dt not in _dtypes().values():
        raise TypeError(f"result_type: {dt} (promoted from {arrays_and_dtypes}) is not a tensorlet dtype")
    return dt


def can_cast(from_, to, /):
    return bool(_np.can_cast(_as_dtype(from_, "can_cast"), _as_dtype(to, "can_cast"), casting="safe"))


class ArrayNamespaceInfo:
    """What tl.__array_namespace_info__() returns (the standard's inspection API)."""

    def capabilities(self):
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": None}

    def default_device(self):
        return cpu

    def devices(self):
        return [cpu]

    def default_dtypes(self, *, device=None):
        check_device(device, "default_dtypes")
        d = _dtypes()
        out = {"real floating": d["float64"], "integral": d["int64"], "indexing": d["int64"]}
        if "complex128" in d:
            out["complex floating"] = d["complex128"]
        return out

    def dtypes(self, *, device=None, kind=None):
        check_device(device, "dtypes")
        d = _dtypes(standard_only=True)
        if kind is None:
            return d
        return {n: dt for n, dt in d.items() if isdtype(dt, kind)}


def __array_namespace_info__():
    return ArrayNamespaceInfo()


def _array_namespace(self, /, *, api_version=None):
    if api_version is not None and api_version not in _KNOWN_VERSIONS:
        raise ValueError(f"__array_namespace__: unsupported api_version {api_version!r} "
                         f"(tensorlet implements {__array_api_version__})")
    import tensorlet
    return tensorlet


def _to_device(self, device, /, *, stream=None):
    check_device(device, "to_device")
    if stream is not None:
        raise ValueError("to_device: stream must be None on the CPU")
    return self


def _mT(self):
    if self.ndim < 2:
        raise ValueError(f"mT: needs an array of at least 2 dimensions, got shape {tuple(self.shape)}")
    return self.swapaxes(-1, -2)


Tensor.__array_namespace__ = _array_namespace
Tensor.to_device = _to_device
Tensor.device = property(lambda self: cpu, doc="The tensor's device: always tl.cpu.")
Tensor.mT = property(_mT, doc="The last two axes swapped (a view), the standard's matrix transpose.")
