"""Activation layers with parameters, as Keras 3's: ReLU, LeakyReLU, ELU, Softmax."""

from __future__ import annotations

import numpy as np

import tensorlet as tl

from .layer import Layer

__all__ = ["ReLU", "LeakyReLU", "ELU", "Softmax"]


def _number(value, what: str, owner: str, minimum=None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or \
            (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{owner}: {what} must be a number{bound}, got {value!r}")
    return float(value)


def _zero(x):
    return tl.zeros((), dtype=x.dtype)


class ReLU(Layer):
    """``max(x, 0)``, clipped at ``max_value``, with ``negative_slope * (x - threshold)`` below
    ``threshold`` (Keras 3's formula, term by term)."""

    supports_masking = True

    def __init__(self, max_value=None, negative_slope: float = 0.0, threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        owner = f"ReLU {self.name!r}"
        self.max_value = None if max_value is None else _number(max_value, "max_value", owner, 0)
        self.negative_slope = _number(negative_slope, "negative_slope", owner, 0)
        self.threshold = _number(threshold, "threshold", owner)

    def call(self, x):
        slope, threshold = self.negative_slope, self.threshold
        if slope and self.max_value is None and threshold == 0:
            return tl.where(x >= 0, x, x * slope)
        negative = tl.relu(threshold - x) if slope else None
        if threshold:
            x = x * tl.astype(x > threshold, x.dtype)
        else:
            x = tl.relu(x)
        if self.max_value is not None:
            x = tl.minimum(x, tl.full((), self.max_value, dtype=x.dtype))
        if slope:
            x = x - negative * slope
        return x

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Layer):
    """``x`` for x >= 0, ``negative_slope * x`` below (default slope 0.3, as Keras)."""

    supports_masking = True

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2's name, still accepted by Keras 3
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _number(negative_slope, "negative_slope", f"LeakyReLU {self.name!r}", 0)

    def call(self, x):
        return tl.where(x >= 0, x, x * self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""

    supports_masking = True

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _number(alpha, "alpha", f"ELU {self.name!r}")

    def call(self, x):
        # exp of the negative part only, so large positive inputs do not overflow in the unused branch.
        return tl.where(x > 0, x, (tl.exp(tl.minimum(x, _zero(x))) - 1.0) * self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """Softmax along ``axis`` (the last by default)."""

    supports_masking = True

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        if self.axis == -1:
            self.output_activation = "softmax"

    def call_logits(self, x, training=False):
        return x

    def call(self, x, mask=None):
        if mask is not None:  # Keras: keep where the mask is True (or > 0.5), -1e9 elsewhere
            mask = tl.asarray(mask)
            if mask.dtype != np.bool_:
                mask = mask > 0.5
            x = tl.where(mask, x, tl.full((), -1e9, dtype=x.dtype))
        return tl.softmax(x, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
