"""Embedding: integer indices -> rows of a trainable (input_dim, output_dim) matrix, as Keras 3's.
The gradient flows through ``take``'s backward (a scatter-add into the rows used)."""

from __future__ import annotations

import numpy as np

import tensorlet as tl

from .. import initializers
from .layer import Layer

__all__ = ["Embedding"]


def _positive(value, what: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner}: {what} must be a positive integer, got {value!r}")
    return int(value)


class Embedding(Layer):
    """``embeddings[indices]``; with ``mask_zero=True`` index 0 is padding (``compute_mask``)."""

    _cast_inputs = False

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero: bool = False, weights=None, input_length=None, **kwargs):
        super().__init__(**kwargs)
        owner = f"Embedding {self.name!r}"
        self.input_dim = _positive(input_dim, "input_dim", owner)
        self.output_dim = _positive(output_dim, "output_dim", owner)
        # Keras's "uniform" is RandomUniform(-0.05, 0.05).
        self.embeddings_initializer = initializers.RandomUniform() if embeddings_initializer == "uniform" \
            else initializers.get(embeddings_initializer)
        self.embeddings_regularizer = embeddings_regularizer
        self.embeddings_constraint = embeddings_constraint
        self.mask_zero = bool(mask_zero)
        self._initial_weights = weights

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer, name="embeddings",
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _indices(self, x):
        if x.dtype.kind == "f":
            x = tl.astype(x, "int64")
        elif x.dtype.kind not in "iu":
            raise ValueError(f"Embedding {self.name!r} takes integer indices, got dtype {x.dtype}")
        return x

    def call(self, x):
        return tl.take(self.embeddings, self._indices(x), axis=0)

    def compute_mask(self, inputs, mask=None):
        """``inputs != 0`` when ``mask_zero``, else None."""
        if not self.mask_zero:
            return None
        return tl.not_equal(self._indices(tl.asarray(inputs)), 0)

    def get_config(self):
        from .._keras_format import serialize_object
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": serialize_object(self.embeddings_initializer),
                "embeddings_regularizer": serialize_object(self.embeddings_regularizer),
                "activity_regularizer": None,
                "embeddings_constraint": serialize_object(self.embeddings_constraint), "mask_zero": self.mask_zero}
