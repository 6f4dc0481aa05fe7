"""Activation: applies an activation function as a layer of its own."""

from __future__ import annotations

from .. import activations
from .layer import Layer

__all__ = ["Activation"]


class Activation(Layer):
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.activation_name = activations.serialize(self.activation)
        if self.activation_name in ("softmax", "sigmoid"):
            self.output_activation = self.activation_name

    def call_logits(self, x, training=False):
        return x

    def call(self, x, training=False):
        return self.activation(x)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation_name}
