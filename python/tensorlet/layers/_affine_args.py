"""The arguments Dense and the conv layers share: activation, bias, initializers, regularizers
and constraints."""

from __future__ import annotations

from .. import activations, constraints, regularizers


def set_penalty_args(layer, kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                     bias_constraint=None) -> None:
    """Stores the kernel's and bias's regularizers and constraints (given to add_weight in build)."""
    layer.kernel_regularizer = regularizers.get(kernel_regularizer)
    layer.bias_regularizer = regularizers.get(bias_regularizer)
    layer.kernel_constraint = constraints.get(kernel_constraint)
    layer.bias_constraint = constraints.get(bias_constraint)


def penalty_config(layer) -> dict:
    """The serialized regularizers and constraints, as Keras's get_config lists them."""
    def ser(module, value):
        return None if value is None or not hasattr(value, "get_config") else module.serialize(value)

    return {"kernel_regularizer": ser(regularizers, layer.kernel_regularizer),
            "bias_regularizer": ser(regularizers, layer.bias_regularizer),
            "activity_regularizer": ser(regularizers, layer.activity_regularizer),
            "kernel_constraint": ser(constraints, layer.kernel_constraint),
            "bias_constraint": ser(constraints, layer.bias_constraint)}


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
