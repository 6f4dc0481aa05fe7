"""Activation functions, by name or as callables, as ``keras.activations``."""

from __future__ import annotations

from typing import Callable, Optional, Union

import tensorlet as tl

from ._lookup import by_name

__all__ = ["relu", "sigmoid", "tanh", "softmax", "linear", "get", "serialize"]


def relu(x):
    """max(x, 0)."""
    return tl.relu(x)


def sigmoid(x):
    """1 / (1 + exp(-x))."""
    return tl.sigmoid(x)


def tanh(x):
    return tl.tanh(x)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis`` (computed stably in the core)."""
    return tl.softmax(x, axis=axis)


def linear(x):
    """The identity (Keras's name for 'no activation')."""
    return x


_BY_NAME = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax, "linear": linear}


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
