"""tensorlet: a small deep-learning package with a C++ tensor core.

``import tensorlet as tl`` gives NumPy-like tensors (``tl.array``, ``tl.zeros``, ...),
elementwise ops, reductions, ``tl.dot``/``tl.matmul``, and reverse-mode autodiff
(``requires_grad``, ``backward()``, ``tl.autograd.grad``, ``tl.no_grad()``). Everything is computed by the
compiled core ``tensorlet._core``; NumPy is used only for interop.
"""
import numpy as _np

from . import _core
from ._core import *  # noqa: F401,F403  (the C++ API: Tensor and the op functions)
from ._core import Tensor
from ._core import get_num_threads, set_num_threads  # kernel threads
from ._config import config, set_flush_denormal, get_flush_denormal  # tl.config(), subnormal flushing
from . import autograd  # tl.autograd.grad / tl.autograd.backward
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode, is_inference_mode_enabled
from . import random  # Philox4x64-10 generator: tl.random.seed / normal / uniform / ...
from ._printing import printoptions  # with tl.printoptions(precision=3): ...
from . import _variable  # noqa: F401  (Keras's Variable.assign / assign_add / assign_sub on tensors)
# The Array API standard (2024.12): namespace and dtype functions, Tensor protocols, DLPack,
# sorting / sets / cumulative functions, manipulation functions, the standard's spellings.
from ._array_api import (__array_api_version__, __array_namespace_info__, Device, cpu, device, finfo, iinfo,  # noqa: F401
                         isdtype, result_type, can_cast)
from ._interop import from_dlpack  # noqa: F401  (also np.sum(t) & co. via the methods' out=)
from ._sorting import (sort, argsort, searchsorted, cumulative_sum, cumulative_prod, unique_all,  # noqa: F401
                       unique_counts, unique_inverse, unique_values, nonzero, count_nonzero)
from ._manipulation import (flip, roll, tril, triu, moveaxis, permute_dims, matrix_transpose,  # noqa: F401
                            broadcast_arrays, broadcast_shapes, meshgrid, repeat, tile, take_along_axis, diff,
                            vecdot, tensordot, unstack)
from ._namespace import (e, pi, inf, nan, newaxis, acos, acosh, asin, asinh, atan, atanh,  # noqa: F401
                         arctan2, bitwise_invert, concat, real, imag, conj, zeros, ones, empty, full, eye,
                         linspace, zeros_like, ones_like, empty_like, full_like, arange, asarray, reshape, clip, var, std,
                         bitwise_left_shift, bitwise_right_shift)

# dtypes are numpy.dtype objects, so `t.dtype == tl.float32` and `== np.float32` both hold.
bool_ = _np.dtype("bool")
int8 = _np.dtype("int8")
int16 = _np.dtype("int16")
int32 = _np.dtype("int32")
int64 = _np.dtype("int64")
uint8 = _np.dtype("uint8")
uint16 = _np.dtype("uint16")
uint32 = _np.dtype("uint32")
uint64 = _np.dtype("uint64")
float16 = _np.dtype("float16")
float32 = _np.dtype("float32")
float64 = _np.dtype("float64")
complex64 = _np.dtype("complex64")
complex128 = _np.dtype("complex128")

__version__ = "0.1.0"

# The Keras-style layer loads on first use (`tl.keras.Sequential`, `tl.layers.Dense`, ...).
_LAZY_MODULES = {"keras", "layers", "models", "optimizers", "losses", "metrics", "callbacks", "initializers",
                 "activations", "datasets", "utils", "capture"}


def __getattr__(name):
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
