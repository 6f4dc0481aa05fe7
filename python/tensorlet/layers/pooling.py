"""Pooling layers with Keras's names and defaults: MaxPooling1D/2D, AveragePooling1D/2D (through
the core's max_pool / average_pool) and the global poolings (through the reductions)."""

from __future__ import annotations

import tensorlet as tl

from . import _window as W
from .layer import Layer

__all__ = ["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D"]


class _Pooling(Layer):
    """Shared by the 1-D/2-D max and average poolings. An int pool_size or strides means that
    value along every spatial dim, so the default 2 is Keras's (2, 2) for the 2-D layers."""

    rank = 2
    _op = None  # "max_pool" or "average_pool"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = f"{type(self).__name__} {self.name!r}"
        self.pool_size = W.normalize_tuple(pool_size, self.rank, "pool_size", owner)
        self.strides = self.pool_size if strides is None else W.normalize_tuple(strides, self.rank, "strides", owner)
        self.padding = W.normalize_padding(padding, owner)
        self.data_format = W.normalize_data_format(data_format, owner)

    def _owner(self):
        return f"{type(self).__name__} {self.name!r}"

    def check_input_shape(self, input_shape):
        W.check_rank(input_shape, self.rank, self._owner())

    def compute_output_shape(self, input_shape):
        self.check_input_shape(input_shape)
        out = list(input_shape)
        for i, axis in enumerate(W.spatial_axes(self.rank, self.data_format)):
            out[axis] = W.output_length(input_shape[axis], self.pool_size[i], self.strides[i], 1, self.padding,
                                        self._owner(), input_shape)
        return tuple(out)

    def call(self, x, training=False):
        self.check_input_shape(tuple(x.shape))
        return getattr(tl, self._op)(x, self.pool_size, strides=self.strides, padding=self.padding,
                                     data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    rank, _op = 1, "max_pool"


class MaxPooling2D(_Pooling):
    rank, _op = 2, "max_pool"


class AveragePooling1D(_Pooling):
    rank, _op = 1, "average_pool"


class AveragePooling2D(_Pooling):
    rank, _op = 2, "average_pool"


class _GlobalPooling(Layer):
    rank = 2
    _reduce = None  # "mean" or "max"

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = W.normalize_data_format(data_format, f"{type(self).__name__} {self.name!r}")
        self.keepdims = bool(keepdims)

    def check_input_shape(self, input_shape):
        W.check_rank(input_shape, self.rank, f"{type(self).__name__} {self.name!r}")

    def compute_output_shape(self, input_shape):
        self.check_input_shape(input_shape)
        axes = W.spatial_axes(self.rank, self.data_format)
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def call(self, x, training=False):
        self.check_input_shape(tuple(x.shape))
        return getattr(tl, self._reduce)(x, axis=W.spatial_axes(self.rank, self.data_format), keepdims=self.keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling):
    rank, _reduce = 1, "mean"

    def call(self, x, training=False, mask=None):
        """The mean over the steps, or, given a (batch, steps) mask (e.g. from an Embedding with
        mask_zero), over the unmasked steps only: Keras's sum(x * mask) / sum(mask)."""
        if mask is None:
            return super().call(x, training=training)
        self.check_input_shape(tuple(x.shape))
        step_axis = 1 if self.data_format == "channels_last" else 2
        weights = tl.expand_dims(tl.astype(tl.asarray(mask), x.dtype), 2 if step_axis == 1 else 1)
        return tl.sum(x * weights, axis=step_axis, keepdims=self.keepdims) / \
            tl.sum(weights, axis=step_axis, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    rank, _reduce = 2, "mean"


class GlobalMaxPooling1D(_GlobalPooling):
    rank, _reduce = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    rank, _reduce = 2, "max"
