"""Input / InputLayer: declares the shape of one sample for a Sequential model."""

from __future__ import annotations

from typing import Optional

from .layer import Layer, check_sample_shape

__all__ = ["Input", "InputLayer"]


class InputLayer(Layer):
    """Holds the input shape ``(None,) + shape``; passes its input through unchanged.
    A Sequential model takes it as its input specification, not as one of its ``layers``."""

    def __init__(self, shape=None, batch_size: Optional[int] = None, dtype="float32", name: Optional[str] = None):
        super().__init__(name=name, dtype=dtype)
        if shape is None:
            raise ValueError("Input needs a shape, e.g. Input(shape=(784,))")
        self.shape = (batch_size,) + check_sample_shape(shape, f"Input {self.name!r}")
        self.batch_size = batch_size
        self.built = True

    def compute_output_shape(self, input_shape):
        return self.shape

    def call(self, x, training=False):
        return x

    def get_config(self):
        return {**super().get_config(), "shape": self.shape[1:], "batch_size": self.batch_size}


def Input(shape=None, batch_size: Optional[int] = None, dtype="float32", name: Optional[str] = None) -> InputLayer:
    """``Input(shape=(784,))``: the input specification to put first in a Sequential model."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name)
