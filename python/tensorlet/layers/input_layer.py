"""Input / InputLayer: the entry of a model. ``keras.Input(shape)`` is a symbolic ``KerasTensor``
(made by an ``InputLayer``) to build a functional model on, or to put first in a Sequential one."""

from __future__ import annotations

from typing import Optional

import numpy as np

from .keras_tensor import KerasTensor, Node
from .layer import Layer, check_sample_shape

__all__ = ["Input", "InputLayer"]


class InputLayer(Layer):
    """Holds the input shape ``(batch_size,) + shape`` and its symbolic ``output``; passes its
    input through unchanged. A Sequential model takes it as its input specification, not as one
    of its ``layers``; a functional model lists it first, as Keras does."""

    def __init__(self, shape=None, batch_size: Optional[int] = None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional: bool = False, name: Optional[str] = None, **kwargs):
        dtype = "float32" if dtype is None else dtype
        super().__init__(name=name, dtype=dtype)
        if sparse:
            raise ValueError(f"Input {self.name!r}: sparse inputs are not supported by tensorlet")
        if input_tensor is not None:
            raise ValueError(f"Input {self.name!r}: input_tensor is not supported by tensorlet")
        if batch_shape is not None:
            if shape is not None:
                raise ValueError(f"Input {self.name!r}: pass shape or batch_shape, not both")
            batch_shape = tuple(batch_shape)
            if not batch_shape:
                raise ValueError(f"Input {self.name!r}: batch_shape needs a batch dimension, got {batch_shape}")
            batch_size, shape = batch_shape[0], batch_shape[1:]
        if shape is None:
            raise ValueError("Input needs a shape, e.g. Input(shape=(784,))")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise ValueError(f"Input {self.name!r}: batch_size must be a positive integer or None, got {batch_size!r}")
        self.shape = (batch_size,) + check_sample_shape(shape, f"Input {self.name!r}", allow_none=True)
        self.batch_size = batch_size
        self.optional = bool(optional)
        self.built = True
        Node(self, [], {}, [KerasTensor(self.shape, self.dtype, name=self.name)])  # its `output`

    @property
    def batch_shape(self):
        return self.shape

    def compute_output_shape(self, input_shape):
        return self.shape

    def call(self, x, training=False):
        return x

    def get_config(self):
        return {"batch_shape": list(self.shape), "dtype": self.dtype.name, "sparse": False, "ragged": False,
                "name": self.name, "optional": self.optional}


def Input(shape=None, batch_size: Optional[int] = None, dtype=None, sparse=None, batch_shape=None, name: Optional[str] = None,
          tensor=None, optional: bool = False) -> KerasTensor:
    """``Input(shape=(784,))``: a symbolic tensor to call layers on (the functional API), or to
    put first in a Sequential model."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, batch_shape=batch_shape,
                       input_tensor=tensor, optional=optional, name=name)
    return layer.output
