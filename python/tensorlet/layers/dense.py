"""Dense: ``activation(x @ kernel + bias)`` with the kernel shaped (in, units) as in Keras."""

from __future__ import annotations

from typing import Optional

import tensorlet as tl

from .. import activations
from ._affine_args import penalty_config, set_affine_args, set_penalty_args
from .layer import InputSpec, Layer

__all__ = ["Dense"]

_FUSED_LINEAR = getattr(tl, "linear", None)


def _affine(x, kernel, bias, relu: bool):
    """x @ kernel + bias (then relu), through the core's fused linear op when it exists."""
    if _FUSED_LINEAR is not None:
        return _FUSED_LINEAR(x, kernel, bias, activation="relu" if relu else None)
    y = tl.matmul(x, kernel)
    if bias is not None:
        y = y + bias
    return tl.relu(y) if relu else y


class Dense(Layer):
    """A densely connected layer.

    Args:
        units: the output size.
        activation: a name ('relu', 'sigmoid', 'tanh', 'softmax', 'linear'), a callable, or None.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: names or initializers.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties added to the loss
            (see tensorlet.regularizers); kernel_constraint, bias_constraint: projections applied
            after each optimizer step (see tensorlet.constraints).
        input_shape: the shape of one input sample, e.g. ``(784,)`` (optional).
    """

    supports_masking = True

    def __init__(self, units: int, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, input_shape=None, name: Optional[str] = None, **kwargs):
        super().__init__(name=name, input_shape=input_shape, **kwargs)
        set_penalty_args(self, kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"Dense {self.name!r}: units must be a positive integer, got {units!r}")
        self.units = units
        set_affine_args(self, activation, use_bias, kernel_initializer, bias_initializer)
        self.input_spec = InputSpec(min_ndim=2)
        # relu is fused into the GEMM; softmax/sigmoid can be fused into the loss by the model.
        self._fused_relu = self.activation is activations.relu

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(
                f"Dense {self.name!r} needs inputs with a known last axis, got input shape {tuple(input_shape)}"
            )
        in_dim = int(input_shape[-1])
        self.kernel = self.add_weight("kernel", (in_dim, self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})
        self.built = True

    def compute_output_shape(self, input_shape):
        self.check_input_shape(input_shape)
        return tuple(input_shape[:-1]) + (self.units,)

    def call_logits(self, x, training=False):
        return _affine(x, self.kernel, self.bias, relu=False)

    def call(self, x, training=False):
        y = _affine(x, self.kernel, self.bias, relu=self._fused_relu)
        if self._fused_relu or self.activation is activations.linear:
            return y
        return self.activation(y)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation_name,
                "use_bias": self.use_bias, **penalty_config(self)}
