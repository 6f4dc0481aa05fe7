"""GaussianNoise and SpatialDropout1D/2D, as Keras 3's (active only in training)."""

from __future__ import annotations

import tensorlet as tl

from .dropout import Dropout
from .layer import InputSpec, Layer

__all__ = ["GaussianNoise", "SpatialDropout1D", "SpatialDropout2D"]


class GaussianNoise(Layer):
    """Adds ``N(0, stddev)`` noise in training; the identity at inference."""

    supports_masking = True

    def __init__(self, stddev: float, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(f"GaussianNoise {self.name!r}: stddev must be a non-negative number, got {stddev!r}")
        self.stddev = float(stddev)
        self.seed = seed
        self._random = tl.random if seed is None else tl.random.Generator(seed)

    def call(self, x, training=False):
        if not training or self.stddev == 0:
            return x
        return x + self._random.normal(0.0, self.stddev, size=tuple(x.shape), dtype=x.dtype)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class SpatialDropout1D(Dropout):
    """Drops whole channels of (batch, steps, channels) inputs."""

    def __init__(self, rate: float, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def call(self, x, training=False):
        self.noise_shape = (x.shape[0], 1, x.shape[2])
        return super().call(x, training=training)

    def get_config(self):
        # Keras's spatial dropouts take no `trainable` (their config is exactly these keys).
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype.name}


class SpatialDropout2D(Dropout):
    """Drops whole feature maps of 4-D inputs (channels last, or first with data_format)."""

    def __init__(self, rate: float, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"SpatialDropout2D {self.name!r}: data_format must be 'channels_last' or "
                             f"'channels_first', got {data_format!r}")
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(ndim=4)

    def call(self, x, training=False):
        n = x.shape[0]
        self.noise_shape = (n, 1, 1, x.shape[3]) if self.data_format == "channels_last" else (n, x.shape[1], 1, 1)
        return super().call(x, training=training)

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype.name,
                "data_format": self.data_format}
