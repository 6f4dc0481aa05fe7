"""Merge layers, as Keras 3's: Add, Subtract, Multiply, Average, Maximum, Minimum (elementwise,
broadcasting the non-batch dimensions) and Concatenate (along ``axis``). Each takes a list of
tensors (Subtract exactly two)."""

from __future__ import annotations

import functools

import numpy as np

import tensorlet as tl

from .layer import Layer, _is_shape, format_shape

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]


def _broadcast(a, b, layer_name: str):
    """NumPy broadcasting of two shapes that may hold None (unknown sizes)."""
    out = []
    for x, y in zip((None,) * (len(b) - len(a)) + tuple(a) if len(a) < len(b) else a,
                    (None,) * (len(a) - len(b)) + tuple(b) if len(b) < len(a) else b):
        if x is None or y is None:
            out.append(y if x in (None, 1) and y != 1 else x if y in (None, 1) else None)
        elif x == 1 or y == 1 or x == y:
            out.append(max(x, y) if 1 in (x, y) else x)
        else:
            raise ValueError(f"Layer {layer_name!r}: inputs with shapes {format_shape(a)} and {format_shape(b)} "
                             "cannot be merged (the sizes must be equal or 1)")
    return tuple(out)


class _Merge(Layer):
    """Elementwise merge of a list of at least ``min_inputs`` tensors."""

    min_inputs = 2
    max_inputs = None

    def _check_list(self, inputs):
        if not isinstance(inputs, (list, tuple)) or _is_shape(inputs):
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) must be called on a list of inputs, "
                             f"got {type(inputs).__name__}")
        n = len(inputs)
        if n < self.min_inputs or (self.max_inputs is not None and n > self.max_inputs):
            want = self.min_inputs if self.max_inputs == self.min_inputs else f"at least {self.min_inputs}"
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) should be called on {want} inputs. "
                             f"Received: {n} inputs.")

    def build(self, input_shape):
        self._check_list(input_shape)
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        shape = tuple(input_shape[0])
        for other in input_shape[1:]:
            shape = _broadcast(shape, tuple(other), self.name)
        return shape

    def call(self, inputs):
        self._check_list(inputs)
        self.compute_output_shape([tuple(t.shape) for t in inputs])
        return self._merge(list(inputs))

    def _merge(self, inputs):
        raise NotImplementedError


class Add(_Merge):
    def _merge(self, inputs):
        return functools.reduce(tl.add, inputs)


class Subtract(_Merge):
    max_inputs = 2

    def _merge(self, inputs):
        return tl.subtract(inputs[0], inputs[1])


class Multiply(_Merge):
    def _merge(self, inputs):
        return functools.reduce(tl.multiply, inputs)


class Average(_Merge):
    def _merge(self, inputs):
        return functools.reduce(tl.add, inputs) * (1.0 / len(inputs))


class Maximum(_Merge):
    def _merge(self, inputs):
        return functools.reduce(tl.maximum, inputs)


class Minimum(_Merge):
    def _merge(self, inputs):
        return functools.reduce(tl.minimum, inputs)


class Concatenate(_Merge):
    """Joins a list of tensors along ``axis`` (the other dimensions must match)."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"Concatenate {self.name!r}: axis must be an integer, got {axis!r}")
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        self._check_list(input_shape)
        shapes = [tuple(s) for s in input_shape]
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank or (rank and self.axis % rank == 0):
            raise ValueError(f"Concatenate {self.name!r} requires inputs of the same rank with matching shapes except "
                             f"for the concatenation axis {self.axis}. Received: input_shape="
                             f"{[format_shape(s) for s in shapes]}")
        axis = self.axis % rank
        out = list(shapes[0])
        for s in shapes[1:]:
            for i, (a, b) in enumerate(zip(out, s)):
                if i == axis:
                    out[i] = None if a is None or b is None else a + b
                elif a is not None and b is not None and a != b:
                    raise ValueError(f"Concatenate {self.name!r} requires inputs with matching shapes except for the "
                                     f"concatenation axis. Received: input_shape={[format_shape(s) for s in shapes]}")
                elif a is None:
                    out[i] = b
        return tuple(out)

    def _merge(self, inputs):
        return tl.concatenate(inputs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
