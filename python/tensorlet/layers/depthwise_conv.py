"""DepthwiseConv1D/2D and SeparableConv1D/2D with Keras 3's arguments and weights:
- depthwise: kernel (kernel_size..., in_channels, depth_multiplier), bias (in * multiplier,);
  output channel c * depth_multiplier + m is input channel c convolved with kernel[..., c, m];
- separable: depthwise_kernel as above, then pointwise_kernel (1..., in * multiplier, filters),
  a 1x1 conv, and bias (filters,)."""

from __future__ import annotations

from typing import Optional

import tensorlet as tl

from .conv import ConvBase, positive_int

__all__ = ["DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"]


class _DepthwiseConv(ConvBase):
    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier: int = 1, data_format=None,
                 dilation_rate=1, activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", input_shape=None, name: Optional[str] = None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         depthwise_initializer, bias_initializer, input_shape, name, **kwargs)
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", self._owner())
        self.depthwise_initializer = depthwise_initializer

    def output_channels(self, in_channels):
        return in_channels * self.depth_multiplier

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight("kernel", self.kernel_size + (channels, self.depth_multiplier),
                                      self.depthwise_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (channels * self.depth_multiplier,), self.bias_initializer)
        self._in_channels = channels
        self.built = True

    def _conv(self, x, relu=False):
        y = self._add_bias(tl.depthwise_conv(x, self.kernel, **self._window_args()))
        return tl.relu(y) if relu else y

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier}


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution over (batch, steps, channels); kernel (kernel_size, in, depth_multiplier)."""

    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution over (batch, rows, cols, channels); kernel (kh, kw, in, depth_multiplier)."""

    rank = 2


class _SeparableConv(ConvBase):
    def __init__(self, filters: int, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier: int = 1, activation=None, use_bias: bool = True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", input_shape=None, name: Optional[str] = None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         depthwise_initializer, bias_initializer, input_shape, name, **kwargs)
        self.filters = positive_int(filters, "filters", self._owner())
        self.depth_multiplier = positive_int(depth_multiplier, "depth_multiplier", self._owner())
        self.depthwise_initializer = depthwise_initializer
        self.pointwise_initializer = pointwise_initializer
        self.depthwise_kernel = self.pointwise_kernel = None

    def output_channels(self, in_channels):
        return self.filters

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.depthwise_kernel = self.add_weight("depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
                                                self.depthwise_initializer)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer)
        self._in_channels = channels
        self.built = True

    def _conv(self, x, relu=False):
        # keras.ops.separable_conv: the depthwise conv, then a 1x1 conv (bias and relu fused into it).
        y = tl.depthwise_conv(x, self.depthwise_kernel, **self._window_args())
        return tl.conv(y, self.pointwise_kernel, data_format=self.data_format, bias=self.bias,
                       activation="relu" if relu else None)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "depth_multiplier": self.depth_multiplier}


class SeparableConv1D(_SeparableConv):
    """Depthwise then pointwise 1-D convolution over (batch, steps, channels)."""

    rank = 1


class SeparableConv2D(_SeparableConv):
    """Depthwise then pointwise 2-D convolution over (batch, rows, cols, channels)."""

    rank = 2
