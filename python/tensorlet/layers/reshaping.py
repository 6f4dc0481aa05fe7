"""Reshape, Permute and RepeatVector, as Keras 3's (shapes exclude the batch dimension)."""

from __future__ import annotations

import math

import numpy as np

import tensorlet as tl

from .layer import InputSpec, Layer, format_shape

__all__ = ["Reshape", "Permute", "RepeatVector"]


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1: inferred)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(target_shape) if isinstance(target_shape, (tuple, list)) else (target_shape,)
        if sum(1 for d in dims if d == -1) > 1 or not all(
                isinstance(d, (int, np.integer)) and not isinstance(d, bool) and (d > 0 or d == -1) for d in dims):
            raise ValueError(f"Reshape {self.name!r}: target_shape must hold positive integers and at most one -1, "
                             f"got {target_shape!r}")
        self.target_shape = tuple(int(d) for d in dims)

    def compute_output_shape(self, input_shape):
        size = None if any(d is None for d in input_shape[1:]) else math.prod(input_shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 not in self.target_shape:
            if size is not None and size != known:
                raise ValueError(f"Reshape {self.name!r}: the total size of the input {format_shape(input_shape)} "
                                 f"({size}) does not match target_shape {self.target_shape} ({known})")
            return (input_shape[0],) + self.target_shape
        if size is None:
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        if size % known:
            raise ValueError(f"Reshape {self.name!r}: cannot reshape input {format_shape(input_shape)} to "
                             f"target_shape {self.target_shape}")
        return (input_shape[0],) + tuple(size // known if d == -1 else d for d in self.target_shape)

    def call(self, x):
        shape = self.compute_output_shape((x.shape[0],) + tuple(x.shape[1:]))
        return tl.reshape(x, (x.shape[0],) + tuple(shape[1:]))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` is a permutation of 1..rank (1-based, as in Keras)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute {self.name!r}: Invalid permutation argument `dims` for Permute Layer. The set of "
                             f"indices in `dims` must be consecutive and start from 1. Received dims={dims}")
        self.dims = tuple(int(d) for d in dims)
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def call(self, x):
        return tl.transpose(x, (0,) + self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """Repeats each input vector ``n`` times: (batch, features) -> (batch, n, features)."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"RepeatVector {self.name!r}: n must be a positive integer, got {n!r}")
        self.n = int(n)
        self.input_spec = InputSpec(ndim=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def call(self, x):
        return tl.broadcast_to(tl.expand_dims(x, 1), (x.shape[0], self.n, x.shape[1])) * 1.0

    def get_config(self):
        return {**super().get_config(), "n": self.n}


