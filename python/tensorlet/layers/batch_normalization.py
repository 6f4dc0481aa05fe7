"""BatchNormalization with Keras 3's arguments, weights and formulas:
``y = (x - mean) / sqrt(variance + epsilon) * gamma + beta`` per channel along ``axis``. In
training (``fit``, or ``training=True``, on a trainable layer) mean and variance are the batch's
(the biased variance over all axes but ``axis``) and the moving statistics are updated as
``moving = moving * momentum + batch * (1 - momentum)``; otherwise the moving statistics are
used. Weights, in Keras's order: gamma, beta (trainable), moving_mean, moving_variance (not)."""

from __future__ import annotations

import tensorlet as tl

from .layer import InputSpec, Layer

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center: bool = True, scale: bool = True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        owner = f"BatchNormalization {self.name!r}"
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"{owner}: axis must be an integer, got {axis!r}")
        self.axis = axis
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        if not self.epsilon >= 0:
            raise ValueError(f"{owner}: epsilon must be >= 0, got {epsilon!r}")
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def _channels(self, input_shape) -> int:
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"BatchNormalization {self.name!r}: axis {self.axis} is out of range for inputs of "
                             f"shape {tuple(input_shape)}")
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(f"BatchNormalization {self.name!r} needs a known size along axis {self.axis}, got "
                             f"input shape {tuple(input_shape)}")
        return int(channels)

    def build(self, input_shape):
        shape = (self._channels(input_shape),)
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer)
        if self.center:
            self.beta = self.add_weight("beta", shape, self.beta_initializer)
        self.moving_mean = self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape, self.moving_variance_initializer,
                                               trainable=False)
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: shape[0]})
        self.built = True

    def compute_output_shape(self, input_shape):
        self._channels(input_shape)
        return tuple(input_shape)

    def call(self, x, training=False):
        if training and self.trainable:
            # One op: the batch statistics normalise x and update the moving statistics in place,
            # so a captured train step replays the update with the rest of the op.
            return tl.batch_norm_train(x, self.moving_mean, self.moving_variance, axis=self.axis, offset=self.beta,
                                       scale=self.gamma, momentum=self.momentum, epsilon=self.epsilon)
        return tl.batch_normalization(x, self.moving_mean, self.moving_variance, self.axis, offset=self.beta,
                                      scale=self.gamma, epsilon=self.epsilon)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}
