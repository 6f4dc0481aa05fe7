"""Conv1D and Conv2D: ``activation(conv(x, kernel) + bias)`` with Keras's kernel layout
(kernel_size..., in_channels // groups, filters) and argument names; ``ConvBase``, the window
arguments, checks and shape inference they share with the depthwise and separable convs."""

from __future__ import annotations

from typing import Optional

import tensorlet as tl

from .. import activations
from . import _window as W
from ._affine_args import set_affine_args
from .layer import Layer

__all__ = ["Conv1D", "Conv2D", "ConvBase"]


def positive_int(value, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return value


class ConvBase(Layer):
    """The window arguments of the conv layers (an int for kernel_size, strides or dilation_rate
    means that value along every spatial dim, so the defaults 1 are Keras's (1, 1) for 2-D), the
    rank and channel checks, and ``compute_output_shape``. Subclasses define ``build`` (setting
    ``self._in_channels``), ``output_channels(in_channels)`` and ``_conv(x, relu)``."""

    rank = 2

    def __init__(self, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 input_shape=None, name: Optional[str] = None, **kwargs):
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        owner = self._owner()
        self.kernel_size = W.normalize_tuple(kernel_size, self.rank, "kernel_size", owner)
        self.strides = W.normalize_tuple(strides, self.rank, "strides", owner)
        self.dilation_rate = W.normalize_tuple(dilation_rate, self.rank, "dilation_rate", owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{owner}: strides > 1 is not supported together with dilation_rate > 1 (as in "
                             f"Keras), got strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.padding = W.normalize_padding(padding, owner)
        self.data_format = W.normalize_data_format(data_format, owner)
        set_affine_args(self, activation, use_bias, kernel_initializer, bias_initializer)
        self._in_channels = None

    def _owner(self):
        return f"{type(self).__name__} {self.name!r}"

    def output_channels(self, in_channels: int) -> int:
        raise NotImplementedError

    def _input_channels(self, input_shape) -> int:
        """The channels of a build's input shape (known, or an error naming the shape)."""
        self.check_input_shape(input_shape)
        channels = input_shape[W.channel_axis(self.data_format)]
        if channels is None:
            raise ValueError(f"{self._owner()} needs a known channel dimension, got input shape {tuple(input_shape)}")
        return int(channels)

    def check_input_shape(self, input_shape):
        W.check_rank(input_shape, self.rank, self._owner())
        channels = input_shape[W.channel_axis(self.data_format)]
        if self._in_channels is not None and channels != self._in_channels:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                             f"{self._in_channels} channels, but received input with shape {tuple(input_shape)}")

    def compute_output_shape(self, input_shape):
        self.check_input_shape(input_shape)
        axes = W.spatial_axes(self.rank, self.data_format)
        out = list(input_shape)
        for i, axis in enumerate(axes):
            out[axis] = W.output_length(input_shape[axis], self.kernel_size[i], self.strides[i],
                                        self.dilation_rate[i], self.padding, self._owner(), input_shape)
        channels = input_shape[W.channel_axis(self.data_format)]
        out[W.channel_axis(self.data_format)] = None if channels is None else self.output_channels(channels)
        return tuple(out)

    def _window_args(self):
        return dict(strides=self.strides, padding=self.padding, data_format=self.data_format,
                    dilation_rate=self.dilation_rate)

    def _add_bias(self, y):
        """y + bias along the channel axis (for convs whose op takes no bias)."""
        if self.bias is None:
            return y
        if self.data_format == "channels_first":
            return y + tl.reshape(self.bias, (-1,) + (1,) * self.rank)
        return y + self.bias

    def call_logits(self, x, training=False):
        return self._conv(x)

    def call(self, x, training=False):
        self.check_input_shape(tuple(x.shape))
        if self.activation is activations.relu:
            return self._conv(x, relu=True)
        y = self._conv(x)
        return y if self.activation is activations.linear else self.activation(y)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": self.activation_name, "use_bias": self.use_bias}


class _Conv(ConvBase):
    """Shared by Conv1D/Conv2D: Keras's ``groups`` splits the channels into groups convolved apart
    (the kernel has in_channels // groups input channels; the op infers the groups from it)."""

    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups: int = 1, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", input_shape=None, name: Optional[str] = None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         kernel_initializer, bias_initializer, input_shape, name, **kwargs)
        self.filters = positive_int(filters, "filters", self._owner())
        if positive_int(groups, "groups", self._owner()) and filters % groups:
            raise ValueError(f"{self._owner()}: groups={groups} must divide filters={filters}")
        self.groups = groups

    def output_channels(self, in_channels):
        return self.filters

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"{self._owner()}: the {channels} input channels of shape {tuple(input_shape)} are not "
                             f"divisible by groups={self.groups}")
        self.kernel = self.add_weight("kernel", self.kernel_size + (channels // self.groups, self.filters),
                                      self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer)
        self._in_channels = channels
        self.built = True

    def _conv(self, x, relu=False):
        self.check_input_shape(tuple(x.shape))
        # Bias and relu are applied by the conv's GEMM epilogue, on the tiles in registers.
        return tl.conv(x, self.kernel, **self._window_args(), bias=self.bias, activation="relu" if relu else None)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "groups": self.groups}


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels) inputs; kernel (kernel_size, in, filters)."""

    rank = 1


class Conv2D(_Conv):
    """2-D convolution over (batch, rows, cols, channels) inputs; kernel (kh, kw, in, filters)."""

    rank = 2
