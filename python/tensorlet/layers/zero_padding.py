"""ZeroPadding1D/2D: rows and columns of zeros around the spatial dims, with Keras's padding
arguments (an int, one int per dim, or a (before, after) pair per dim) and data_format."""

from __future__ import annotations

import numpy as np

import tensorlet as tl

from . import _window as W
from .layer import Layer

__all__ = ["ZeroPadding1D", "ZeroPadding2D", "pad_spatial"]


def _int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0


def normalize_padding_pairs(padding, rank: int, owner: str):
    """Keras's forms: p -> ((p, p),) * rank; (a, b, ...) -> ((a, a), (b, b), ...) for rank > 1, or
    (before, after) for rank 1; ((t, b), (l, r)) as given. Non-negative ints only."""
    pairs = None
    if _int(padding):
        pairs = ((padding, padding),) * rank
    elif isinstance(padding, (tuple, list)):
        if rank == 1 and len(padding) == 2 and all(_int(p) for p in padding):
            pairs = (tuple(padding),)
        elif len(padding) == rank and all(_int(p) for p in padding):
            pairs = tuple((p, p) for p in padding)
        elif len(padding) == rank and all(isinstance(p, (tuple, list)) and len(p) == 2 and all(_int(q) for q in p)
                                          for p in padding):
            pairs = tuple(tuple(p) for p in padding)
    if pairs is None:
        raise ValueError(f"{owner}: padding must be a non-negative int, a tuple of {rank} non-negative ints or a "
                         f"tuple of {rank} (before, after) pairs, got {padding!r}")
    return tuple((int(a), int(b)) for a, b in pairs)


def pad_spatial(x, pairs, axes):
    """x with (before, after) zeros along each of `axes` (differentiable: concatenation)."""
    for (before, after), axis in zip(pairs, axes):
        parts = []
        for n in (before, None, after):
            if n is None:
                parts.append(x)
            elif n:
                shape = list(x.shape)
                shape[axis] = n
                parts.append(tl.zeros(tuple(shape), dtype=x.dtype))
        x = tl.concatenate(parts, axis=axis) if len(parts) > 1 else x
    return x


class _ZeroPadding(Layer):
    rank = 2

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = f"{type(self).__name__} {self.name!r}"
        self.padding = normalize_padding_pairs(padding, self.rank, owner)
        # Keras's ZeroPadding1D has no data_format: its data are (batch, steps, channels).
        self.data_format = W.normalize_data_format(data_format, owner)

    def check_input_shape(self, input_shape):
        W.check_rank(input_shape, self.rank, f"{type(self).__name__} {self.name!r}")

    def compute_output_shape(self, input_shape):
        self.check_input_shape(input_shape)
        out = list(input_shape)
        for (a, b), axis in zip(self.padding, W.spatial_axes(self.rank, self.data_format)):
            out[axis] = None if out[axis] is None else out[axis] + a + b
        return tuple(out)

    def call(self, x, training=False):
        self.check_input_shape(tuple(x.shape))
        return pad_spatial(x, self.padding, W.spatial_axes(self.rank, self.data_format))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after the steps of (batch, steps, channels) inputs."""

    rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, None, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class ZeroPadding2D(_ZeroPadding):
    """Zero rows and columns around (batch, rows, cols, channels) inputs (channels first with
    data_format='channels_first')."""

    rank = 2
