"""Weight constraints with Keras 3's names and formulas (``keras.constraints``).

A constraint maps a weight to its projected value; the optimizer applies it after each step
(``weight[...] = constraint(weight)``) to every variable that carries one as
``weight.constraint``, with tensor ops, so a captured step replays it.
"""

from __future__ import annotations

import math
from typing import Dict

import tensorlet as tl

from ._lookup import Configurable, by_name, serialize
from ._lookup import deserialize as _deserialize

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg", "unit_norm",
           "min_max_norm", "get", "serialize", "deserialize"]

EPSILON = 1e-7  # keras.backend.epsilon()


def _number(owner, name, value, lo=0.0):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < lo:
        raise ValueError(f"{owner}: `{name}` must be a finite number >= {lo}, got {value!r}")
    return value


def _norms(w, axis):
    return tl.sqrt(tl.sum(tl.square(w), axis=axis, keepdims=True))


class Constraint(Configurable):
    def __call__(self, w):
        return w


class MaxNorm(Constraint):
    """w * clip(norms, 0, max_value) / (epsilon + norms), norms along ``axis``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = _number("MaxNorm", "max_value", max_value)
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        return w * (tl.clip(norms, 0.0, self.max_value) / (EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """w * (w >= 0)."""

    def __call__(self, w):
        return w * (w >= 0.0).astype(w.dtype)


class UnitNorm(Constraint):
    """w / (epsilon + norms), norms along ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """w * (rate * clip(norms, min_value, max_value) + (1 - rate) * norms) / (epsilon + norms)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _number("MinMaxNorm", "min_value", min_value)
        self.max_value = _number("MinMaxNorm", "max_value", max_value, lo=min_value)
        self.rate = _number("MinMaxNorm", "rate", rate)
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * tl.clip(norms, self.min_value, self.max_value) + (1.0 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
_BY_NAME = {"max_norm": MaxNorm, "maxnorm": MaxNorm, "non_neg": NonNeg, "nonneg": NonNeg, "unit_norm": UnitNorm,
            "unitnorm": UnitNorm, "min_max_norm": MinMaxNorm, "minmaxnorm": MinMaxNorm}


def get(identifier):
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str):
        return by_name("constraint", identifier, _BY_NAME)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")


def deserialize(config: Dict, custom_objects=None):
    return _deserialize("constraint", config, {c.__name__: c for c in (MaxNorm, NonNeg, UnitNorm, MinMaxNorm)},
                        custom_objects)
