"""Dropout: in training, zeroes a fraction ``rate`` of the inputs and scales the rest by
1 / (1 - rate); the identity at inference."""

from __future__ import annotations

import tensorlet as tl

from .layer import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    supports_masking = True

    def __init__(self, rate: float, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout {self.name!r}: rate must be a float in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        # A seeded layer draws its masks from its own generator (a new mask each call).
        self._random = tl.random if seed is None else tl.random.Generator(seed)

    def call(self, x, training=False):
        if not training or self.rate == 0:
            return x
        keep = 1.0 - self.rate
        shape = tuple(x.shape) if self.noise_shape is None else tuple(
            x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        kept = self._random.uniform(size=shape, dtype=x.dtype) < keep
        return tl.where(kept, x * (1.0 / keep), tl.zeros((), dtype=x.dtype))

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}
