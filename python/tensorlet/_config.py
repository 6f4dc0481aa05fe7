"""``tl.config``: call it for the kernel configuration (a dict, as before); its attributes
``set_flush_denormal`` / ``get_flush_denormal`` switch flushing of subnormal floats."""
import numpy as _np

from . import _core


def set_flush_denormal(mode):
    """Flush subnormal (denormal) floats to zero in every tensorlet kernel, or stop doing so.

    PyTorch's ``torch.set_flush_denormal``. Off by default: results keep NumPy's gradual
    underflow. On, kernels on the calling thread and on the pool threads treat subnormal
    inputs as 0 and round subnormal results to 0 (x86 FTZ/DAZ), which can be faster when
    subnormals occur. The calling thread's own floating-point mode is restored after each
    kernel, so NumPy and other libraries in the same thread are unaffected. Returns True
    when the CPU supports flushing (x86), False otherwise (the mode then stays off).
    """
    if not isinstance(mode, (bool, int, _np.bool_)):
        raise TypeError(f"set_flush_denormal: mode must be a bool, got {type(mode).__name__}")
    return _core._set_flush_denormal(bool(mode))


def get_flush_denormal():
    """Whether tensorlet's kernels flush subnormal floats to zero (see set_flush_denormal)."""
    return _core._get_flush_denormal()


class _Config:
    """Callable as before (``tl.config()`` returns the kernel configuration dict) and a
    namespace for the settings: ``tl.config.set_flush_denormal(True)``."""

    set_flush_denormal = staticmethod(set_flush_denormal)
    get_flush_denormal = staticmethod(get_flush_denormal)

    def __call__(self):
        return _core.config()

    def __repr__(self):
        return "<tensorlet.config: call for the kernel configuration; set_flush_denormal / get_flush_denormal>"


config = _Config()
