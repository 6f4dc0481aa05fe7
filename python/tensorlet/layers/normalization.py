"""Normalization (feature-wise, statistics from ``adapt``) and UnitNormalization, as Keras 3's."""

from __future__ import annotations

import numpy as np

import tensorlet as tl

from .layer import Layer

__all__ = ["Normalization", "UnitNormalization"]

_EPSILON = 1e-7  # keras.backend.epsilon()


def _axes(axis, owner: str):
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis or ())
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
        raise ValueError(f"{owner}: axis must be an integer, a tuple of integers or None, got {axis!r}")
    return tuple(int(a) for a in axes)


class Normalization(Layer):
    """``(x - mean) / max(sqrt(variance), 1e-7)`` per feature along ``axis``; the statistics are
    given (``mean=``, ``variance=``) or computed by ``adapt(data)``. ``invert=True`` undoes it."""

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axes(axis, f"Normalization {self.name!r}")
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization {self.name!r}: pass both `mean` and `variance`, or neither; got "
                             f"mean={mean!r}, variance={variance!r}")
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)

    def _keep(self, ndim: int):
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"Normalization {self.name!r}: All `axis` values must be in the range [-ndim, ndim). "
                             f"Received inputs with ndim={ndim}, while axis={self.axis}")
        return tuple(sorted(a % ndim for a in self.axis))

    def build(self, input_shape):
        ndim = len(input_shape)
        keep = self._keep(ndim)
        if any(input_shape[d] is None for d in keep):
            raise ValueError(f"Normalization {self.name!r}: the kept axes {keep} must have known sizes, got input "
                             f"shape {tuple(input_shape)}")
        self._broadcast_shape = tuple(input_shape[d] if d in keep else 1 for d in range(ndim))[1:]
        stats_shape = tuple(input_shape[d] for d in keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=stats_shape, initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=stats_shape, initializer="ones",
                                                  trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int64", initializer="zeros", trainable=False)
        self.built = True

    def _stats(self):
        if self.input_mean is not None:
            mean = np.broadcast_to(np.asarray(self.input_mean, dtype=self.dtype), self._broadcast_shape)
            var = np.broadcast_to(np.asarray(self.input_variance, dtype=self.dtype), self._broadcast_shape)
            return tl.asarray(np.ascontiguousarray(mean)), tl.asarray(np.ascontiguousarray(var))
        return (tl.reshape(self.adapt_mean, self._broadcast_shape),
                tl.reshape(self.adapt_variance, self._broadcast_shape))

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Sets mean and variance (population) from ``data``, over every axis but ``axis``."""
        arr = np.asarray(data.numpy() if isinstance(data, tl.Tensor) else data, dtype=np.float64)
        if arr.ndim == 0 or arr.shape[0] == 0:
            raise ValueError(f"Normalization {self.name!r}: adapt needs a non-empty batch of data, got shape {arr.shape}")
        if self.input_mean is not None:
            raise ValueError(f"Normalization {self.name!r}: cannot adapt a layer made with a fixed mean and variance")
        if not self.built:
            self.ensure_built(arr.shape)
        keep = self._keep(arr.ndim)
        reduce_axes = tuple(d for d in range(arr.ndim) if d not in keep)
        if tuple(arr.shape[d] for d in keep) != tuple(self.adapt_mean.shape):
            raise ValueError(f"Normalization {self.name!r}: adapt data of shape {arr.shape} does not match the "
                             f"layer's statistics shape {tuple(self.adapt_mean.shape)}")
        np.copyto(self.adapt_mean.numpy(), arr.mean(axis=reduce_axes), casting="same_kind")
        np.copyto(self.adapt_variance.numpy(), arr.var(axis=reduce_axes), casting="same_kind")
        self.count.numpy()[...] = int(np.prod([arr.shape[d] for d in reduce_axes]))

    def call(self, x):
        mean, variance = self._stats()
        scale = tl.maximum(tl.sqrt(variance), tl.full((), _EPSILON, dtype=variance.dtype))
        if self.invert:
            return mean + x * scale
        return (x - mean) / scale

    def get_config(self):
        return {**super().get_config(), "axis": list(self.axis), "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(), "variance": np.array(self.input_variance).tolist()}


class UnitNormalization(Layer):
    """``x / ||x||`` along ``axis`` (Keras's ``x * min(rsqrt(sum(x^2)), 1e12)``)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axes(axis, f"UnitNormalization {self.name!r}")

    def call(self, x):
        square_sum = tl.sum(x * x, axis=self.axis, keepdims=True)
        inv_norm = tl.minimum(1.0 / tl.sqrt(square_sum), tl.full((), 1e12, dtype=x.dtype))
        return x * inv_norm

    def get_config(self):
        return {**super().get_config(), "axis": self.axis[0] if len(self.axis) == 1 else list(self.axis)}
