"""Flatten: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...), a view when the input is contiguous."""

from __future__ import annotations

import math

import tensorlet as tl

from .layer import InputSpec, Layer

__all__ = ["Flatten"]


class Flatten(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = InputSpec(min_ndim=1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def call(self, x, training=False):
        if x.ndim == 2:
            return x
        return tl.reshape(x, (x.shape[0], math.prod(x.shape[1:])))
