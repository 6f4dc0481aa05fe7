"""The arguments Dense and the conv layers share: activation, bias and initializers."""

from __future__ import annotations

from .. import activations


def set_affine_args(layer, activation, use_bias, kernel_initializer, bias_initializer) -> None:
    """Stores them on ``layer`` (weights not created yet); a softmax/sigmoid activation is marked
    as the layer's ``output_activation`` so a loss can fuse with it."""
    layer.activation = activations.get(activation)
    layer.activation_name = activations.serialize(layer.activation)
    layer.use_bias = bool(use_bias)
    layer.kernel_initializer = kernel_initializer
    layer.bias_initializer = bias_initializer
    layer.kernel = None
    layer.bias = None
    if layer.activation_name in ("softmax", "sigmoid"):
        layer.output_activation = layer.activation_name
