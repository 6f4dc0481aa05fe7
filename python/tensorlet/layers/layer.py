"""The Layer base class: lazy build on first call, weights as Tensors, NumPy get/set."""

from __future__ import annotations

import collections
import math
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

import tensorlet as tl

from .. import initializers

__all__ = ["Layer", "unique_name", "format_shape", "check_sample_shape"]

_name_counts: Dict[str, int] = collections.defaultdict(int)


def unique_name(prefix: str) -> str:
    """Keras's automatic names: 'dense', then 'dense_1', 'dense_2', ..."""
    n = _name_counts[prefix]
    _name_counts[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def format_shape(shape) -> str:
    """(None, 512) as Keras prints shapes, the batch dimension as None."""
    dims = ["None" if d is None else str(int(d)) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def check_sample_shape(shape, owner: str) -> Tuple[int, ...]:
    """Validates the shape of one sample (no batch dimension): a tuple of positive ints."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"{owner}: a shape must be a tuple of positive integers, got {shape!r}") from None
    if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in dims):
        raise ValueError(f"{owner}: a shape must be a tuple of positive integers, got {shape!r}")
    return tuple(int(d) for d in dims)


class Layer:
    """Base class of layers.

    Subclasses implement ``call(x, training=False)``, and usually ``build(input_shape)``
    (creating weights with ``add_weight``) and ``compute_output_shape(input_shape)``.
    Shapes include the batch dimension as None: ``(None, 784)``.

    Args:
        name: defaults to the snake-case class name, made unique ('dense', 'dense_1').
        input_shape: the shape of one sample, e.g. ``(784,)``; lets a Sequential model build
            before it sees data (Keras 3 prefers an ``Input`` layer; both are accepted).
        trainable: whether the optimizer updates this layer's weights.
        dtype: the dtype of the weights (float32 by default).
    """

    #: The name of the activation this layer applies last, when a loss could fuse with it
    #: (see ``call_logits``).
    output_activation: Optional[str] = None

    def __init__(self, name: Optional[str] = None, input_shape: Optional[Sequence[int]] = None,
                 trainable: bool = True, dtype="float32"):
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = np.dtype(dtype)
        self.built = False
        self._weights: List[Tuple[str, "tl.Tensor", bool]] = []
        self._input_dim: Optional[int] = None  # required size of the input's last axis, once built
        self.input_shape_arg = None
        if input_shape is not None:
            self.input_shape_arg = (None,) + check_sample_shape(input_shape, f"Layer {self.name!r}")
        self.build_input_shape = None

    # -- weights ---------------------------------------------------------------------------
    def add_weight(self, name: str, shape: Sequence[int], initializer="glorot_uniform", trainable: bool = True):
        shape = tuple(int(d) for d in shape)
        init = initializers.get(initializer)
        value = tl.asarray(init(shape, dtype=self.dtype), dtype=self.dtype)
        if tuple(value.shape) != shape:
            raise ValueError(
                f"Layer {self.name!r}: initializer {init!r} returned shape {tuple(value.shape)} for weight "
                f"{name!r} of shape {shape}"
            )
        weight = value.detach()
        weight.requires_grad = bool(trainable and self.trainable)
        self._weights.append((name, weight, trainable))
        return weight

    @property
    def weights(self) -> List:
        return [w for _, w, _ in self._weights]

    @property
    def trainable_weights(self) -> List:
        if not self.trainable:
            return []
        return [w for _, w, t in self._weights if t]

    @property
    def non_trainable_weights(self) -> List:
        if not self.trainable:
            return self.weights
        return [w for _, w, t in self._weights if not t]

    @property
    def weight_names(self) -> List[str]:
        return [n for n, _, _ in self._weights]

    def count_params(self) -> int:
        return int(sum(math.prod(w.shape) for w in self.weights))

    def get_weights(self) -> List[np.ndarray]:
        """Copies of the weights as NumPy arrays."""
        return [np.array(w.detach().numpy(), copy=True) for w in self.weights]

    def set_weights(self, weights: Sequence) -> None:
        """Assigns NumPy arrays (or tensors) to the weights in place, after checking every shape."""
        arrays = [np.asarray(w) for w in weights]
        if len(arrays) != len(self._weights):
            raise ValueError(
                f"Layer {self.name!r} expects {len(self._weights)} weights, but the given list has {len(arrays)}"
            )
        for (name, w, _), a in zip(self._weights, arrays):
            if tuple(a.shape) != tuple(w.shape):
                raise ValueError(
                    f"Layer {self.name!r} weight {name!r} has shape {tuple(w.shape)}, "
                    f"but the given array has shape {a.shape}"
                )
        for (_, w, _), a in zip(self._weights, arrays):
            np.copyto(w.detach().numpy(), a, casting="same_kind")

    # -- building and calling ----------------------------------------------------------------
    def build(self, input_shape) -> None:
        self.built = True

    def compute_output_shape(self, input_shape) -> Tuple:
        return tuple(input_shape)

    def ensure_built(self, input_shape) -> None:
        if not self.built:
            shape = (None,) + tuple(input_shape[1:])
            self.build(shape)
            self.build_input_shape = shape
            self.built = True

    def check_input_shape(self, input_shape) -> None:
        """Raises ValueError when ``input_shape`` (batch dimension included) cannot feed this layer."""
        if self._input_dim is not None and (len(input_shape) < 2 or input_shape[-1] != self._input_dim):
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected axis -1 of input '
                f"shape to have value {self._input_dim}, but received input with shape {format_shape(input_shape)}"
            )

    def call(self, x, training: bool = False):
        raise NotImplementedError(f"{type(self).__name__}.call")

    def __call__(self, x, training: bool = False):
        # Like Keras, inputs are cast to the layer's dtype (float64 NumPy data into float32 weights).
        if not isinstance(x, tl.Tensor) or x.dtype != self.dtype:
            x = tl.asarray(x, dtype=self.dtype)
        if not self.built:
            self.ensure_built(tuple(x.shape))
        elif self._input_dim is not None and (x.ndim < 2 or x.shape[-1] != self._input_dim):
            self.check_input_shape((None,) + tuple(x.shape[1:]))
        return self.call(x, training=training)

    def call_logits(self, x, training: bool = False):
        """The output before ``output_activation`` (only for layers that have one)."""
        raise NotImplementedError(f"{type(self).__name__} has no separate logits")

    def get_config(self) -> Dict:
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
