"""Interop with NumPy and other array libraries: tl.from_dlpack, and the reduction methods
taking NumPy's `out=` keyword, so np.sum(t), np.mean(t), ... work.

NumPy functions on tensors: tensorlet defines neither __array_function__ nor __array_ufunc__
(PyTorch's choice; CuPy defines both because leaving the device is costly and implicit). So
np.<function>(t) converts t with __array__ (zero-copy) and returns a NumPy array, except for
the functions NumPy forwards to a method of the same name (np.sum, np.mean, np.prod, np.max,
np.min, np.std, np.var, np.any, np.all, np.argmax, np.argmin, np.transpose, ...), which return
tensors, as they do for torch tensors."""

from __future__ import annotations

from . import _core
from ._core import Tensor


def from_dlpack(x, /, *, device=None, copy=None):
    """A tensor sharing the memory of any DLPack producer (NumPy, PyTorch, ...) on the CPU.
    copy=True copies; copy=False never does (tensorlet never needs to on the CPU)."""
    from ._array_api import check_device
    check_device(device, "from_dlpack")
    if not hasattr(x, "__dlpack__"):
        raise TypeError(f"from_dlpack: {type(x).__name__} does not implement __dlpack__")
    if hasattr(x, "__dlpack_device__"):
        dev = tuple(int(v) for v in x.__dlpack_device__())
        if dev[0] not in (1, 3):  # kDLCPU, kDLCUDAHost (pinned host memory is CPU-readable)
            raise BufferError(f"from_dlpack: only CPU memory can be imported, the producer is on device {dev}")
    try:
        cap = x.__dlpack__(max_version=(1, 0), dl_device=(1, 0), copy=copy)
    except TypeError:  # a producer of the older protocol, without these keywords
        cap = x.__dlpack__()
    t = _core._from_dlpack_capsule(cap)
    return _core.copy(t) if copy else t


def _with_out(method):
    def reduce(self, *args, out=None, **kwargs):
        r = method(self, *args, **kwargs)
        if out is None:
            return r
        out[...] = r
        return out
    reduce.__name__ = method.__name__
    reduce.__doc__ = method.__doc__
    return reduce


for _name in ("sum", "mean", "prod", "max", "min", "std", "var", "any", "all", "argmax", "argmin"):
    _m = getattr(Tensor, _name, None)
    if _m is not None:
        setattr(Tensor, _name, _with_out(_m))
