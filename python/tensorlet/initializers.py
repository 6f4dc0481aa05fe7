"""Weight initializers with Keras 3's names, defaults and formulas.

Each is a callable ``init(shape, dtype="float32") -> Tensor`` drawing from tensorlet's
global generator (``tl.random.seed`` / ``tensorlet.utils.set_random_seed`` make it
reproducible), or, given ``seed=<int>``, from its own generator: then every call returns the
same values, as in Keras 3. Fans follow Keras: for a Dense kernel ``(in, units)``, fan_in = in and
fan_out = units.
"""

from __future__ import annotations

import math
from typing import Dict, Tuple

import tensorlet as tl

from ._householder import householder_qr
from ._lookup import Configurable, by_name, serialize
from ._lookup import deserialize as _deserialize

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform",
    "Identity", "IdentityInitializer", "Orthogonal", "OrthogonalInitializer", "get", "serialize", "deserialize",
    "compute_fans", "zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal",
    "variance_scaling", "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
    "identity", "orthogonal",
]

# Keras truncates normal draws at two standard deviations; the standard deviation of a
# standard normal truncated to [-2, 2] is this constant, which VarianceScaling divides out.
_TRUNCATED_STD = 0.87962566103423978
_MAX_REDRAWS = 64


def compute_fans(shape: Tuple[int, ...]) -> Tuple[int, int]:
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _source(seed):
    """Where draws come from: the global generator, or for an int seed a fresh generator, so a
    seeded initializer gives the same values on every call (Keras 3's semantics)."""
    return tl.random if seed is None else tl.random.Generator(seed)


def _check_seed(seed, owner: str):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"{owner}: seed must be None or a non-negative integer, got {seed!r}")
    return seed


def _truncated_standard_normal(gen, shape, dtype):
    """Standard normal draws, redrawing those outside [-2, 2] (all in the core)."""
    x = gen.normal(0.0, 1.0, size=shape, dtype=dtype)
    for _ in range(_MAX_REDRAWS):
        outside = tl.abs(x) > 2.0
        if int(tl.sum(outside)) == 0:
            break
        x = tl.where(outside, gen.normal(0.0, 1.0, size=shape, dtype=dtype), x)
    return x


class Initializer(Configurable):
    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError


class Zeros(Initializer):
    def __call__(self, shape, dtype="float32"):
        return tl.zeros(tuple(shape), dtype=dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype="float32"):
        return tl.ones(tuple(shape), dtype=dtype)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, dtype="float32"):
        return tl.full(tuple(shape), self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = float(mean), float(stddev)
        self.seed = _check_seed(seed, type(self).__name__)

    def __call__(self, shape, dtype="float32"):
        return _source(self.seed).normal(self.mean, self.stddev, size=tuple(shape), dtype=dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal draws truncated at two standard deviations from the mean."""

    def __call__(self, shape, dtype="float32"):
        return _truncated_standard_normal(_source(self.seed), tuple(shape), dtype) * self.stddev + self.mean


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        if not minval < maxval:
            raise ValueError(f"RandomUniform: minval ({minval}) must be less than maxval ({maxval})")
        self.minval, self.maxval = float(minval), float(maxval)
        self.seed = _check_seed(seed, "RandomUniform")

    def __call__(self, shape, dtype="float32"):
        return _source(self.seed).uniform(self.minval, self.maxval, size=tuple(shape), dtype=dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras's VarianceScaling: scale / n with n = fan_in, fan_out or their mean, drawn from a
    truncated normal, an untruncated normal, or a uniform of that variance."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in self._MODES:
            raise ValueError(f"VarianceScaling: mode must be one of {self._MODES}, got {mode!r}")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"VarianceScaling: distribution must be one of {self._DISTRIBUTIONS}, got {distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        self.seed = _check_seed(seed, type(self).__name__)

    def __call__(self, shape, dtype="float32"):
        shape = tuple(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        gen = _source(self.seed)
        if self.distribution == "truncated_normal":
            return _truncated_standard_normal(gen, shape, dtype) * (math.sqrt(scale) / _TRUNCATED_STD)
        if self.distribution == "untruncated_normal":
            return gen.normal(0.0, math.sqrt(scale), size=shape, dtype=dtype)
        limit = math.sqrt(3.0 * scale)
        return gen.uniform(-limit, limit, size=shape, dtype=dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class _PresetVarianceScaling(VarianceScaling):
    """A VarianceScaling with fixed arguments (the named initializers below)."""

    PRESET = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed=None):
        super().__init__(*self.PRESET, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_PresetVarianceScaling):
    """Uniform in [-limit, limit], limit = sqrt(6 / (fan_in + fan_out))."""

    PRESET = (1.0, "fan_avg", "uniform")


class GlorotNormal(_PresetVarianceScaling):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out))."""

    PRESET = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_PresetVarianceScaling):
    """Truncated normal with stddev sqrt(2 / fan_in)."""

    PRESET = (2.0, "fan_in", "truncated_normal")


class HeUniform(_PresetVarianceScaling):
    """Uniform in [-limit, limit], limit = sqrt(6 / fan_in)."""

    PRESET = (2.0, "fan_in", "uniform")


class LecunNormal(_PresetVarianceScaling):
    """Truncated normal with stddev sqrt(1 / fan_in)."""

    PRESET = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_PresetVarianceScaling):
    """Uniform in [-limit, limit], limit = sqrt(3 / fan_in)."""

    PRESET = (1.0, "fan_in", "uniform")


class Identity(Initializer):
    """gain * the identity matrix (2-D shapes only; a rectangular one has ones on its diagonal)."""

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype="float32"):
        shape = tuple(int(d) for d in shape)
        if len(shape) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices, got shape {shape} of "
                             f"rank {len(shape)}")
        return tl.eye(*shape, dtype=dtype) * self.gain

    def get_config(self):
        return {"gain": self.gain}


class Orthogonal(Initializer):
    """gain * a random orthogonal matrix (Keras 3's recipe): the QR of a normal (max(r, c),
    min(r, c)) matrix, r = prod(shape[:-1]), c = shape[-1], with Q's columns signed by R's
    diagonal (so Q is uniformly distributed), transposed when r < c, reshaped to ``shape``."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = float(gain)
        self.seed = _check_seed(seed, "Orthogonal")

    def __call__(self, shape, dtype="float32"):
        shape = tuple(int(d) for d in shape)
        if len(shape) < 2:
            raise ValueError(f"The tensor to initialize must be at least two-dimensional, got shape {shape} of rank "
                             f"{len(shape)}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = _source(self.seed).normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)), dtype="float64")
        q, r = householder_qr(a)
        n = r.shape[0]
        diagonal = tl.sum(r * tl.eye(n, dtype="float64"), axis=0)
        q = q * tl.where(diagonal < 0.0, -1.0, 1.0)  # sign(0) counts as +1
        if rows < cols:
            q = tl.transpose(q)
        return (tl.reshape(q, shape) * self.gain).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


IdentityInitializer, OrthogonalInitializer = Identity, Orthogonal
# Keras's lower-case aliases are the classes.
zeros, ones, constant, random_normal, random_uniform, truncated_normal = (
    Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal)
variance_scaling, glorot_uniform, glorot_normal, he_normal, he_uniform = (
    VarianceScaling, GlorotUniform, GlorotNormal, HeNormal, HeUniform)
lecun_normal, lecun_uniform, identity, orthogonal = LecunNormal, LecunUniform, Identity, Orthogonal

_BY_NAME = {
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_normal": HeNormal,
    "he_uniform": HeUniform, "zeros": Zeros, "ones": Ones, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal, "constant": Constant,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform, "variance_scaling": VarianceScaling,
    "identity": Identity, "orthogonal": Orthogonal,
}
_CLASSES = {c.__name__: c for c in set(_BY_NAME.values())}
_CLASSES.update(IdentityInitializer=Identity, OrthogonalInitializer=Orthogonal)


def deserialize(config: Dict, custom_objects=None) -> Initializer:
    return _deserialize("initializer", config, _CLASSES, custom_objects)


def get(identifier) -> Initializer:
    """An initializer from a name ('glorot_uniform', ...), an Initializer, a serialized dict, or a
    callable."""
    if isinstance(identifier, str):
        return by_name("initializer", identifier, _BY_NAME)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")
