"""OpInfo-style registry: one OpInfo per line of the C++ op tables (csrc/ops/unary.def,
binary.def, reduce.def), read from ``tensorlet._core._op_table()``.

Each OpInfo knows how to call the op, its NumPy oracle (``numpy_ref``), and how to sample inputs
from its ``domain`` for every dtype. tests/test_op_registry.py iterates them. Nothing here is a
hand-kept list of ops: an op added to a table is picked up, and an op whose oracle or domain this
module cannot resolve makes the registry tests fail (resolve() raises).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

import tensorlet as tl
from tensorlet import _core

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
          "float64"]

def _float_like(x, y):
    """y (float64 values) in the dtype NumPy's float ufuncs give for x (np.sin's loop)."""
    return np.asarray(y).astype(np.sin(np.zeros(0, dtype=np.asarray(x).dtype)).dtype)


def _sigmoid(x):
    x = np.asarray(x)
    return _float_like(x, 1.0 / (1.0 + np.exp(-x.astype(np.float64))))


def _relu(x):
    x = np.asarray(x)
    return np.maximum(x, np.zeros((), x.dtype))


# "ref.<name>" oracles: ops NumPy has no function for.
REFS = {"ref.relu": _relu, "ref.sigmoid": _sigmoid}

DOMAINS = {"real", "positive", "unit", "above_one", "above_minus_one", "nonzero", "any", "nonzero_rhs", "power",
           "nonempty"}


def _math_ref(fn):
    vec = np.vectorize(fn, otypes=[np.float64])
    return lambda x: _float_like(x, vec(np.asarray(x, dtype=np.float64)) if np.asarray(x).size else
                                 np.zeros(np.shape(x)))


def resolve_ref(spec: str):
    prefix, _, attr = spec.partition(".")
    if prefix == "np" and hasattr(np, attr):
        return getattr(np, attr)
    if prefix == "math" and hasattr(math, attr):
        return _math_ref(getattr(math, attr))
    if spec in REFS:
        return REFS[spec]
    raise LookupError(f"numpy_ref {spec!r} does not name a NumPy function, a math function or a REFS entry")


def _floats(domain, shape, rng, dtype):
    n = int(np.prod(shape))
    if domain in ("real", "nonempty", "nonzero_rhs"):
        x = rng.uniform(0.05, 1.4, n) * rng.choice([-1.0, 1.0], n)  # away from 0 (abs, relu kinks)
    elif domain == "positive":
        x = rng.uniform(0.1, 3.0, n)
    elif domain == "unit":
        x = rng.uniform(-0.9, 0.9, n)
    elif domain == "above_one":
        x = rng.uniform(1.1, 3.0, n)
    elif domain == "above_minus_one":
        x = rng.uniform(-0.9, 2.0, n)
    elif domain == "nonzero":
        x = rng.uniform(0.2, 3.0, n) * rng.choice([-1.0, 1.0], n)
    elif domain == "power":
        x = rng.uniform(0.2, 2.0, n)
    elif domain == "any":
        x = rng.randn(n) * 4
        if n >= 4:
            x[:3] = [np.nan, np.inf, -np.inf]
    else:
        raise LookupError(f"unknown domain {domain!r}")
    return np.asarray(x.reshape(shape).astype(dtype))


def _ints(domain, shape, rng, dtype):
    info = np.iinfo(dtype)
    if domain == "any":  # every bit pattern (randint cannot reach uint64's upper half)
        n = int(np.prod(shape))
        return np.frombuffer(rng.bytes(n * info.bits // 8), dtype=dtype).reshape(shape).copy()
    lo, hi = {"real": (-20, 21), "nonempty": (-20, 21), "nonzero_rhs": (-20, 21), "positive": (1, 21),
              "unit": (-1, 2), "above_one": (1, 21), "above_minus_one": (0, 21), "nonzero": (1, 21),
              "power": (0, 6), "any": (info.min, info.max)}[domain]
    if domain == "nonzero" and info.min == 0:  # unsigned: the whole nonzero range
        lo, hi = 1, int(info.max) + 1
    x = rng.randint(max(lo, info.min), min(hi, int(info.max) + 1, 2**62), size=shape, dtype=np.int64).astype(dtype)
    if domain == "nonzero" and info.min < 0:
        x = x * rng.choice(np.array([-1, 1], dtype), size=shape)
    return np.asarray(x)


def sample(domain, dtype, shape, rng, role=0):
    """An array of `shape` and `dtype` from `domain`. role: 0 for a unary input or a binary op's
    first operand, 1 for its second (nonzero_rhs / power treat them differently)."""
    dtype = np.dtype(dtype)
    if domain not in DOMAINS:
        raise LookupError(f"unknown domain {domain!r}")
    if domain == "nonzero_rhs" and role == 1:
        domain = "nonzero"
    if domain == "power" and role == 1:
        if dtype.kind == "f":
            return np.asarray(rng.uniform(-2.0, 2.0, shape)).astype(dtype)
        domain = "power"  # small non-negative ints (negative integer powers are a ValueError)
    if dtype == np.bool_:
        if domain in ("nonzero", "positive", "above_one"):
            return np.ones(shape, bool)
        return np.asarray(rng.rand(*shape) > 0.5)
    if dtype.kind in "iu":
        return _ints(domain, shape, rng, dtype)
    return _floats(domain, shape, rng, dtype)


@dataclass
class OpInfo:
    name: str
    family: str  # unary / binary / reduce
    arity: int
    dtypes: str
    differentiable: bool
    numpy_ref: str
    domain: str
    method: str | None
    operator: str | None = None  # binary ops: the Tensor dunder stem ("add": __add__, __radd__, __iadd__)

    @property
    def fn(self):
        return getattr(tl, self.name)

    def ref(self, *arrays, **kw):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # mean of empty slices etc.
            return resolve_ref(self.numpy_ref)(*arrays, **kw)

    def samples(self, dtype, shapes, rng):
        """One tuple of operands per shape (a shape is a tuple of operand shapes for binary ops)."""
        out = []
        for s in shapes:
            if self.arity == 2:
                out.append((sample(self.domain, dtype, s[0], rng, 0), sample(self.domain, dtype, s[1], rng, 1)))
            else:
                out.append((sample(self.domain, dtype, s, rng),))
        return out

    def expected(self, *arrays, **kw):
        """NumPy's result: ("ok", array) or ("TypeError", None) where NumPy has no loop."""
        try:
            want = np.asarray(self.ref(*arrays, **kw))
        except TypeError:
            return "TypeError", None
        return "ok", want


def registry():
    return [OpInfo(**row) for row in _core._op_table()]


def by_family(family):
    return [op for op in registry() if op.family == family]
