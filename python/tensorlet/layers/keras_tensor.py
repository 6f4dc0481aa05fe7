"""Symbolic tensors of the functional API, as Keras 3's ``KerasTensor`` and ``Node``.

``keras.Input((8,))`` is a ``KerasTensor``: a shape (batch dimension None), a dtype and a
``_keras_history`` (the layer that made it, which of its calls, which output). Calling a layer on
KerasTensors builds the layer, works out the output shapes and records a ``Node`` (the call's
inputs and outputs) on the layer: the graph a functional ``Model`` replays on real tensors.
Also the small tree helpers (nested lists / tuples / dicts) the graph and the trainer share.
"""

from __future__ import annotations

from typing import Any, Callable, List, NamedTuple, Optional

import numpy as np

__all__ = ["KerasTensor", "Node", "KerasHistory", "flatten", "map_structure", "pack_sequence_as", "any_symbolic"]


class KerasHistory(NamedTuple):
    layer: Any
    node_index: int
    tensor_index: int


class KerasTensor:
    """A symbolic tensor: shape (None for unknown sizes), dtype and where it came from."""

    def __init__(self, shape, dtype="float32", name: Optional[str] = None, record_history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.name = name
        self._keras_history: Optional[KerasHistory] = record_history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype.name}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "A symbolic KerasTensor (from keras.Input or a layer called on one) has no values: it can only be "
            "passed to layers (use layers.Lambda to apply other functions) and to keras.Model(inputs, outputs)")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a Python bool")

    # Operators on symbolic tensors go through the matching merge layer, as Keras 3's ops do.
    def __add__(self, other):
        from .merging import Add
        return Add()([self, other])

    def __sub__(self, other):
        from .merging import Subtract
        return Subtract()([self, other])

    def __mul__(self, other):
        from .merging import Multiply
        return Multiply()([self, other])


class Node:
    """One call of ``layer`` on symbolic inputs: the nested ``call_args`` (KerasTensors in a
    structure), the call's other (constant) arguments and the flat list of output KerasTensors."""

    def __init__(self, layer, call_args, call_kwargs, outputs: List[KerasTensor], extra_args=()):
        self.layer = layer
        self.call_args = call_args
        self.extra_args = tuple(extra_args)
        self.call_kwargs = dict(call_kwargs)
        self.outputs = outputs
        self.input_tensors = [t for t in flatten([call_args, list(self.call_kwargs.values())])
                              if isinstance(t, KerasTensor)]
        node_index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(outputs):
            t._keras_history = KerasHistory(layer, node_index, i)

    @property
    def parent_nodes(self) -> List["Node"]:
        return [t._keras_history.layer._inbound_nodes[t._keras_history.node_index] for t in self.input_tensors]


def flatten(structure) -> List:
    """The leaves of nested lists / tuples / dicts (dict values in key-insertion order)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for item in structure.values() for leaf in flatten(item)]
    return [structure]


def map_structure(fn: Callable, structure):
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def pack_sequence_as(structure, leaves: List):
    """``structure`` with its leaves replaced, in ``flatten`` order, by ``leaves``."""
    it = iter(leaves)
    return map_structure(lambda _: next(it), structure)


def any_symbolic(structure) -> bool:
    return any(isinstance(leaf, KerasTensor) for leaf in flatten(structure))
