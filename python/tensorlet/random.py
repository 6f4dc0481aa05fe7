"""Random sampling from tensorlet's generator (``tl.random``).

The generator is Philox4x64-10 (Salmon et al., SC 2011), implemented in the C++ core
(``csrc/kernels/random.{h,cpp}``). It is counter-based and defined by 64-bit integer
arithmetic only, so a seed gives the same numbers on every platform and compiler. Its
streams are NumPy's, which the tests use as the oracle:

- ``seed(s)`` sets the key to ``s`` (an int in [0, 2**128)) and the counter to 0: the bit
  stream of ``numpy.random.Philox(key=s)``.
- ``uniform`` is ``low + (high - low) * ((u64 >> 11) * 2**-53)``, as
  ``numpy.random.Generator(Philox(key=s)).uniform``; float32 draws use ``(u32 >> 8) * 2**-24``.
- ``normal`` is Marsaglia's polar method (pairs of ``2 * uniform - 1``, the second value of a
  pair kept for the next draw), as ``numpy.random.RandomState(Philox(key=s)).normal``, with the
  logarithm computed by the core itself (equal to NumPy's to ~1e-15 relative).
- ``randint`` is Lemire's unbiased multiply-shift with rejection (32-bit draws when the range
  fits in 32 bits), as ``Generator(Philox(key=s)).integers`` for int64 and int32.
- ``permutation`` / ``shuffle`` are Fisher-Yates with masked rejection, as
  ``Generator(Philox(key=s)).permutation`` / ``shuffle``.

Without a seed the generator starts from OS entropy. The module functions share one
process-wide generator; ``Generator(seed)`` makes an independent one with the same methods
(``Generator(s).normal(...)`` draws what ``seed(s); normal(...)`` would). Every generator has
its own lock. ``size=None`` gives a 0-d tensor.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Union

from . import _core
from ._core import Tensor

Size = Union[int, Sequence[int], None]

__all__ = ["Generator", "seed", "uniform", "normal", "randint", "permutation", "shuffle", "get_state", "set_state"]

_r = _core._random

#: An independent generator: ``Generator(seed=None)`` with the methods ``seed``, ``uniform``,
#: ``normal``, ``randint``, ``permutation``, ``shuffle``, ``get_state`` and ``set_state``.
Generator = _r.Generator


def seed(seed: Optional[int] = None) -> None:
    """Seeds the global generator with an int in [0, 2**128); ``None`` draws a seed from the OS."""
    _r.seed(seed)


def uniform(low: float = 0.0, high: float = 1.0, size: Size = None, dtype: Any = "float64") -> Tensor:
    """Samples from U[low, high) (float32 or float64). ``size``: int, tuple or None (0-d)."""
    return _r.uniform(low, high, size, dtype)


def normal(loc: float = 0.0, scale: float = 1.0, size: Size = None, dtype: Any = "float64") -> Tensor:
    """Samples from N(loc, scale**2); ``scale`` must be >= 0 (float32 or float64)."""
    return _r.normal(loc, scale, size, dtype)


def randint(low: int, high: Optional[int] = None, size: Size = None, dtype: Any = "int64") -> Tensor:
    """Uniform integers in [low, high) (``randint(n)`` draws from [0, n)); unbiased.

    ``dtype`` may be int64, int32, uint8 or bool; low and high must fit in it."""
    return _r.randint(low, high, size, dtype)


def permutation(x: Any) -> Tensor:
    """A shuffled ``arange(x)`` for an int, else a shuffled copy of ``x`` along axis 0."""
    return _r.permutation(x)


def shuffle(x: Tensor) -> None:
    """Shuffles a tensor in place along axis 0 (returns None)."""
    _r.shuffle(x)


def get_state() -> Dict[str, Any]:
    """The generator's full state as a dict (key, counter, output buffers, cached normal)."""
    return _r.get_state()


def set_state(state: Dict[str, Any]) -> None:
    """Restores a state returned by :func:`get_state`."""
    _r.set_state(state)
