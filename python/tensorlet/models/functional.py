"""Functional models: ``keras.Model(inputs, outputs)`` over the graph that calling layers on
``keras.Input`` tensors recorded (``layers.keras_tensor``), as Keras 3's ``Functional``.

The graph's nodes are put in dependency order once, at construction; ``call`` runs them in that
order on real tensors. Inputs and outputs may be one tensor, a list or a dict; a layer called
twice (shared) has two nodes and one set of weights.
"""

from __future__ import annotations

from typing import Dict, List, Optional

import tensorlet as tl

from ..layers.input_layer import InputLayer
from ..layers.keras_tensor import KerasTensor, Node, flatten, map_structure, pack_sequence_as
from .. import _data
from ..layers.layer import Layer, format_shape, unique_name
from .model import Model

__all__ = ["Functional", "sorted_nodes"]


def _check_tensors(structure, what: str) -> List[KerasTensor]:
    flat = flatten(structure)
    if not flat:
        raise ValueError(f"Model: {what} is empty")
    for t in flat:
        if not isinstance(t, KerasTensor) or t._keras_history is None:
            raise ValueError(f"Model: every one of {what} must be a symbolic tensor made by keras.Input or by a layer "
                             f"called on one; got {t!r} (of type {type(t).__name__})")
    return flat


def _node_of(t: KerasTensor) -> Node:
    layer, node_index, _ = t._keras_history
    return layer._inbound_nodes[node_index]


def sorted_nodes(inputs: List[KerasTensor], outputs: List[KerasTensor]) -> List[Node]:
    """The nodes between ``inputs`` and ``outputs``, each after the nodes it depends on (a
    depth-first walk from the outputs, parents in argument order: Keras's layer order). Raises
    "Graph disconnected" when an output needs an Input that is not among ``inputs``."""
    input_ids = {id(t) for t in inputs}
    order: List[Node] = []
    done = set()
    for out in outputs:
        stack = [(_node_of(out), False)] if id(out) not in input_ids else []
        while stack:
            node, expanded = stack.pop()
            if id(node) in done:
                continue
            if expanded:
                done.add(id(node))
                order.append(node)
                continue
            stack.append((node, True))
            if isinstance(node.layer, InputLayer):
                if id(node.outputs[0]) not in input_ids:
                    raise ValueError(
                        f"Graph disconnected: cannot find the value of tensor {node.outputs[0]!r} (the Input "
                        f"{node.layer.name!r}): it is needed to compute the outputs but is not one of the model's "
                        "inputs")
                continue
            for t in reversed(node.input_tensors):
                if id(t) not in input_ids and id(_node_of(t)) not in done:
                    stack.append((_node_of(t), False))
    # The model's own Inputs first, in input order, as Keras lists its InputLayers.
    input_nodes = [_node_of(t) for t in inputs]
    return input_nodes + [n for n in order if all(n is not m for m in input_nodes)]


class Functional(Model):
    """A model defined by its inputs and outputs: ``keras.Model(inputs, outputs)``."""

    _cast_inputs = False  # each input is cast to its own Input's dtype in call

    def __init__(self, inputs, outputs, name: Optional[str] = None, trainable: bool = True, **kwargs):
        if kwargs:
            raise TypeError(f"Model: unexpected arguments {sorted(kwargs)}")
        if isinstance(inputs, dict) and not all(isinstance(k, str) for k in inputs):
            raise ValueError("Model: the keys of a dict of inputs must be strings")
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        flat_in = _check_tensors(inputs, "the inputs")
        flat_out = _check_tensors(outputs, "the outputs")
        nodes = sorted_nodes(flat_in, flat_out)
        layers: List[Layer] = []
        for node in nodes:
            if all(node.layer is not layer for layer in layers):
                layers.append(node.layer)
        names = [layer.name for layer in layers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"Model: the name(s) {dup} are used by more than one layer; all layer names should be unique")
        self._layers = layers
        self._nodes = nodes
        super().__init__(name=name or unique_name("functional"), trainable=trainable)
        self.inputs = flat_in
        self.outputs = flat_out
        self.built = True

    # -- structure -------------------------------------------------------------------------------
    @property
    def layers(self) -> List[Layer]:
        return list(self._layers)

    def _tracked_layers(self) -> List[Layer]:
        return self._layers

    @property
    def input_names(self) -> List[str]:
        return [t._keras_history.layer.name for t in self.inputs]

    @property
    def output_names(self) -> List[str]:
        if isinstance(self._outputs_struct, dict):
            return list(self._outputs_struct)
        return [t._keras_history.layer.name for t in self.outputs]

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_shape(self):
        shapes = map_structure(lambda t: t.shape, self._inputs_struct)
        return shapes[0] if isinstance(shapes, list) and len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        return map_structure(lambda t: t.shape, self._outputs_struct)

    def build(self, input_shape=None) -> None:
        """A functional model is built when it is made."""

    def compute_output_shape(self, input_shape=None):
        return map_structure(lambda t: t.shape, self._outputs_struct)

    def _checked_output_shape(self, x_shape):
        """The output shape(s), after checking data of ``x_shape`` fits the (single) input."""
        if x_shape is not None:
            t = self.inputs[0]
            name = t._keras_history.layer.name
            _data.check_batch_dimension(x_shape, name)
            if len(x_shape) != len(t.shape) or any(d is not None and d != s for d, s in zip(t.shape[1:], x_shape[1:])):
                raise ValueError(f'Input 0 of layer "{name}" is incompatible with the layer: expected shape='
                                 f"{format_shape(t.shape)}, found shape={format_shape((None,) + tuple(x_shape[1:]))}")
        return self.compute_output_shape()

    def connections(self) -> Optional[List[str]]:
        """Per layer, the "Connected to" text of Keras's summary ('dense[0][0], x[0][0]'), or
        None when the graph is a plain chain (the summary then has no such column)."""
        chain = len(self.inputs) == 1 and len(self.outputs) == 1
        previous = self.inputs[0] if chain else None
        for node in self._nodes[1:] if chain else ():
            if len(node.input_tensors) != 1 or node.input_tensors[0] is not previous or len(node.outputs) != 1:
                chain = False
                break
            previous = node.outputs[0]
        if chain:
            return None
        texts = []
        for layer in self._layers:
            refs = []
            for node in (n for n in self._nodes if n.layer is layer):
                for t in node.input_tensors:
                    source, node_index, tensor_index = t._keras_history
                    refs.append(f"{source.name}[{node_index}][{tensor_index}]")
            texts.append(", ".join(refs) if refs else "-")
        return texts

    def layer_output_shapes(self) -> List[Optional[tuple]]:
        """The first output shape of each layer (a list of shapes for a layer with several outputs)."""
        shapes = []
        for layer in self._layers:
            outs = layer._inbound_nodes[0].outputs if layer._inbound_nodes else []
            node = next((n for n in self._nodes if n.layer is layer), None)
            outs = node.outputs if node is not None else outs
            shapes.append(outs[0].shape if len(outs) == 1 else [t.shape for t in outs])
        return shapes

    def get_config(self):
        from .._keras_format import functional_config
        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .._keras_format import model_from_dict
        return model_from_dict({"class_name": "Functional", "config": config}, dict(custom_objects or {}), True)

    # -- inputs ----------------------------------------------------------------------------------
    def flatten_inputs(self, inputs) -> List:
        """The data for each Input, in ``self.inputs`` order, from one array, a list / tuple in
        the same order, or a dict keyed by input name."""
        n = len(self.inputs)
        if isinstance(inputs, dict):
            keys = list(self._inputs_struct) if isinstance(self._inputs_struct, dict) else self.input_names
            missing = [k for k in keys if k not in inputs]
            extra = [k for k in inputs if k not in keys]
            if missing or extra:
                raise ValueError(f"Model {self.name!r} expects inputs named {keys}; got a dict with keys "
                                 f"{list(inputs)} (missing {missing}, unexpected {extra})")
            return [inputs[k] for k in keys]
        if isinstance(inputs, (list, tuple)) and not (n == 1 and _is_data(inputs)):
            if len(inputs) != n:
                raise ValueError(f"Model {self.name!r} expects {n} input(s) {self.input_names}, but it received "
                                 f"{len(inputs)} input tensors")
            return list(inputs)
        if n != 1:
            raise ValueError(f"Model {self.name!r} expects {n} inputs {self.input_names}: pass a list or a dict of "
                             f"arrays, got one {type(inputs).__name__}")
        return [inputs]

    # -- forward ---------------------------------------------------------------------------------
    def _run(self, inputs, training: bool, logits: bool = False):
        values: Dict[int, object] = {}
        for t, x in zip(self.inputs, self.flatten_inputs(inputs)):
            layer = t._keras_history.layer
            if not isinstance(x, tl.Tensor) or x.dtype != t.dtype:
                x = tl.asarray(x, dtype=t.dtype)
            if x.ndim != len(t.shape) or any(d is not None and d != s for d, s in zip(t.shape[1:], x.shape[1:])):
                raise ValueError(f'Input "{layer.name}" of model {self.name!r} expects shape {t.shape}, '
                                 f"got data of shape {tuple(x.shape)}")
            values[id(t)] = x
        last = self._nodes[-1]
        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            args = map_structure(lambda t: values[id(t)], node.call_args)
            if logits and node is last:
                out = node.layer.call_logits(args, training=training)
            else:
                kwargs = map_structure(lambda t: values[id(t)] if isinstance(t, KerasTensor) else t, node.call_kwargs)
                out = node.layer(args, *node.extra_args, training=training, **kwargs)
            for t, value in zip(node.outputs, flatten(out)):
                values[id(t)] = value
        return pack_sequence_as(self._outputs_struct, [values[id(t)] for t in self.outputs])

    def call(self, inputs, training: bool = False):
        return self._run(inputs, training)

    def _fusable_output_layer(self) -> Optional[Layer]:
        """The layer whose activation a loss may fuse with: the single output's, when the last
        node computes it from one tensor and nothing else reads that output."""
        if len(self.outputs) != 1 or isinstance(self._outputs_struct, (dict, list, tuple)):
            return None
        last = self._nodes[-1]
        if last.outputs[0] is not self.outputs[0] or last.extra_args or last.call_kwargs or \
                not isinstance(last.call_args, KerasTensor) or isinstance(last.layer, (InputLayer, Model)):
            return None
        if any(self.outputs[0] in n.input_tensors for n in self._nodes):
            return None
        return last.layer

    @property
    def output_activation(self) -> Optional[str]:
        layer = self._fusable_output_layer()
        return None if layer is None else layer.output_activation

    def call_logits(self, inputs, training: bool = False):
        return self._run(inputs, training, logits=True)

    def _output_layer_name(self) -> str:
        return self.output_names[0]


def _is_data(value) -> bool:
    """A nested list of numbers (one input given as a Python list) rather than a list of arrays."""
    return bool(value) and all(isinstance(v, (int, float)) or (isinstance(v, (list, tuple)) and _is_data(v))
                               for v in value)
