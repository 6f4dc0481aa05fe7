"""Activation functions, by name or as callables, as ``keras.activations`` (Keras 3's names,
defaults and formulas), built from tensor ops so they differentiate and capture."""

from __future__ import annotations

import math
from typing import Callable, Optional, Union

import tensorlet as tl

from ._lookup import by_name

__all__ = ["relu", "sigmoid", "tanh", "softmax", "linear", "elu", "selu", "gelu", "swish", "silu", "softplus",
           "softsign", "leaky_relu", "relu6", "hard_sigmoid", "hard_swish", "hard_silu", "exponential", "mish",
           "log_softmax", "get", "serialize", "deserialize"]

# SELU's constants (Klambauer et al., 2017), as Keras.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0) by default; Keras's options: ``negative_slope * (x - threshold)`` below
    ``threshold``, and outputs capped at ``max_value``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return tl.relu(x)
    x = tl.asarray(x)
    y = tl.where(x >= threshold, x, negative_slope * (x - threshold)) if negative_slope else \
        tl.where(x > threshold, x, 0.0)
    return tl.minimum(y, float(max_value)) if max_value is not None else y


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return tl.sigmoid(x)


def tanh(x):
    return tl.tanh(x)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis`` (computed stably in the core)."""
    return tl.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """x - log(sum(exp(x))) along ``axis`` (stably, in the core)."""
    return tl.log_softmax(x, axis=axis)


def linear(x):
    """The identity (Keras's name for 'no activation')."""
    return x


def _expm1_nonpositive(x):
    """expm1(min(x, 0)): the negative branch of elu, kept finite where x is large so that its
    (unused) gradient there is 0, not 0 * inf."""
    return tl.expm1(tl.minimum(x, 0.0))


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    x = tl.asarray(x)
    return tl.where(x > 0.0, x, alpha * _expm1_nonpositive(x))


def selu(x):
    """scale * elu(x, alpha) with Klambauer et al.'s alpha and scale."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def gelu(x, approximate=False):
    """x * Phi(x): 0.5 x (1 + erf(x / sqrt(2))), or with ``approximate=True``
    0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
    x = tl.asarray(x)
    if approximate:
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + tl.tanh(inner))
    return 0.5 * x * (1.0 + tl.erf(x / math.sqrt(2.0)))


def silu(x):
    """x * sigmoid(x) (also named swish)."""
    x = tl.asarray(x)
    return x * tl.sigmoid(x)


swish = silu


def softplus(x):
    """log(exp(x) + 1), computed as max(x, 0) + log(1 + exp(-|x|)) (no overflow)."""
    x = tl.asarray(x)
    return tl.maximum(x, 0.0) + tl.log1p(tl.exp(-tl.abs(x)))


def softsign(x):
    """x / (|x| + 1)."""
    x = tl.asarray(x)
    return x / (tl.abs(x) + 1.0)


def leaky_relu(x, negative_slope=0.2):
    """x for x >= 0, negative_slope * x otherwise (Keras's default slope is 0.2)."""
    x = tl.asarray(x)
    return tl.where(x >= 0.0, x, negative_slope * x)


def relu6(x):
    """min(max(x, 0), 6)."""
    return tl.minimum(tl.relu(tl.asarray(x)), 6.0)


def hard_sigmoid(x):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, x / 6 + 0.5 between (Keras 3's definition)."""
    return relu6(tl.asarray(x) + 3.0) / 6.0


def hard_silu(x):
    """x * hard_sigmoid(x) (also named hard_swish)."""
    x = tl.asarray(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def exponential(x):
    return tl.exp(x)


def mish(x):
    """x * tanh(softplus(x))."""
    x = tl.asarray(x)
    return x * tl.tanh(softplus(x))


_BY_NAME = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "linear": linear, "elu": elu,
            "selu": selu, "gelu": gelu, "silu": silu, "swish": swish, "softplus": softplus, "softsign": softsign,
            "leaky_relu": leaky_relu, "relu6": relu6, "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu,
            "hard_swish": hard_swish, "exponential": exponential, "mish": mish, "log_softmax": log_softmax}


def get(identifier: Union[None, str, Callable]) -> Callable:
    """The activation function for a name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return by_name("activation", identifier, _BY_NAME)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation identifier: {identifier!r} (expected a name or a callable)")


def serialize(fn: Callable) -> Optional[str]:
    """The registered name of an activation function, else its ``__name__``."""
    for name, known in _BY_NAME.items():
        if fn is known:
            return name
    return getattr(fn, "__name__", repr(fn))


def deserialize(name: str) -> Callable:
    return get(name)
