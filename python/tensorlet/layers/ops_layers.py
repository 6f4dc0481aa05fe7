"""Operations Keras 3 records as nodes of a functional graph (``keras.src.ops``), so a .keras file
that holds them loads: ``NotEqual`` is how Keras writes the mask of an Embedding with
``mask_zero=True`` when the mask is passed to a later layer."""

from __future__ import annotations

import tensorlet as tl

from .layer import Layer

__all__ = ["NotEqual"]


class NotEqual(Layer):
    """``x1 != x2`` elementwise (a bool tensor), as ``keras.ops.not_equal``."""

    _cast_inputs = False
    keras_module = "keras.src.ops.numpy"

    def __init__(self, name=None, **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, x1, x2=0):
        return tl.not_equal(x1, x2)

    def get_config(self):
        return {"name": self.name}
