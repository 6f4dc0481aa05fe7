"""The Layer base class (lazy build on first call, weights as Tensors, NumPy get/set, sublayers
tracked as attributes) and ``InputSpec``, the input checks every layer runs on its own input."""

from __future__ import annotations

import collections
import math
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

import inspect
import threading

import tensorlet as tl

from .. import constraints, initializers, regularizers
from .keras_tensor import any_symbolic, flatten, map_structure, pack_sequence_as

__all__ = ["Layer", "InputSpec", "assert_input_compatibility", "unique_name", "format_shape", "check_sample_shape"]

_name_counts: Dict[str, int] = collections.defaultdict(int)


def unique_name(prefix: str) -> str:
    """Keras's automatic names: 'dense', then 'dense_1', 'dense_2', ..."""
    n = _name_counts[prefix]
    _name_counts[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


# The ``training`` flag of the enclosing layer call (None outside any call), per thread.
_call_context = threading.local()
_ACCEPTS: Dict[Tuple, bool] = {}


def _accepts(fn, arg: str) -> bool:
    """Whether ``fn`` takes an argument ``arg`` (or **kwargs); cached per function."""
    key = (fn, arg)
    if key not in _ACCEPTS:
        params = inspect.signature(fn).parameters
        _ACCEPTS[key] = arg in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
    return _ACCEPTS[key]


def _is_shape(value) -> bool:
    """A single shape: a tuple (or list) of ints / None, not a list of shapes."""
    return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, (int, np.integer)) for d in value)


def map_structure_of_shapes(fn, shapes):
    """``fn`` applied to each shape in a list / tuple / dict of shapes."""
    if _is_shape(shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, dict):
        return {k: map_structure_of_shapes(fn, v) for k, v in shapes.items()}
    return type(shapes)(map_structure_of_shapes(fn, v) for v in shapes)


def _batchless(shape):
    """The shape(s) with the batch dimension replaced by None."""
    return map_structure_of_shapes(lambda s: (None,) + tuple(s[1:]), shape)


def _snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: 'Dense' -> 'dense', 'LeakyReLU' -> 'leaky_re_lu'."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def format_shape(shape) -> str:
    """(None, 512) as Keras prints shapes, the batch dimension as None."""
    dims = ["None" if d is None else str(int(d)) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def check_sample_shape(shape, owner: str, allow_none: bool = False) -> Tuple[int, ...]:
    """Validates the shape of one sample (no batch dimension): a tuple of positive ints (or
    None for a size known only at run time, when ``allow_none``)."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"{owner}: a shape must be a tuple of positive integers, got {shape!r}") from None
    if not all((d is None and allow_none) or (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0)
               for d in dims):
        raise ValueError(f"{owner}: a shape must be a tuple of positive integers, got {shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


class InputSpec:
    """What a layer accepts as input, as ``keras.InputSpec``: a rank (``ndim``, ``min_ndim``,
    ``max_ndim``), a dtype, a full ``shape`` (None matches any size), or sizes of some ``axes``
    (``{-1: 784}``). A layer sets ``self.input_spec`` (in ``__init__`` or ``build``) and
    ``Layer.__call__`` checks every input against it before building or calling."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None,
                 allow_last_axis_squeeze=False, name=None):
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.shape = None if shape is None else tuple(None if d is None else int(d) for d in shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        if self.ndim is not None and self.axes:
            worst = max(k if k >= 0 else -k - 1 for k in self.axes)
            if worst >= self.ndim:
                raise ValueError(f"Axis {worst} is greater than the maximum allowed value: {self.ndim - 1}")

    def __repr__(self):
        fields = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
                                         ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim),
                                         ("axes", self.axes or None)) if v is not None]
        return f"InputSpec({', '.join(fields)})"


def assert_input_compatibility(input_spec: Optional[InputSpec], shape, layer_name: str, dtype=None,
                               input_index: int = 0) -> None:
    """Raises Keras's ValueError when an input of ``shape`` (batch dimension first, None for an
    unknown size) and ``dtype`` does not satisfy ``input_spec``."""
    if input_spec is None:
        return
    shape = tuple(shape)
    ndim = len(shape)
    head = f'Input {input_index} of layer "{layer_name}" is incompatible with the layer: '
    spec = input_spec
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise ValueError(f"{head}expected ndim={spec.ndim}, found ndim={ndim}. "
                         f"Full shape received: {format_shape(shape)}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(f"{head}expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(f"{head}expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                         f"Full shape received: {format_shape(shape)}")
    if spec.dtype is not None and dtype is not None and np.dtype(dtype) != spec.dtype:
        raise ValueError(f"{head}expected dtype={spec.dtype}, found dtype={np.dtype(dtype)}")
    for axis, value in spec.axes.items():
        if value is not None and -ndim <= axis < ndim and shape[axis] not in (value, None):
            raise ValueError(f"{head}expected axis {axis} of input shape to have value {value}, "
                             f"but received input with shape {format_shape(shape)}")
    if spec.shape is not None:
        spec_shape, got = spec.shape, shape
        if spec.allow_last_axis_squeeze:
            got = got[:-1] if got and got[-1] == 1 else got
            spec_shape = spec_shape[:-1] if spec_shape and spec_shape[-1] == 1 else spec_shape
        if any(s is not None and d is not None and s != d for s, d in zip(spec_shape, got)):
            raise ValueError(f"{head}expected shape={format_shape(spec.shape)}, found shape={format_shape(shape)}")


class Layer:
    """Base class of layers (and, through ``Model``, of models).

    Subclasses implement ``call(x, training=False)``, and usually ``build(input_shape)``
    (creating weights with ``add_weight``), ``compute_output_shape(input_shape)`` and an
    ``input_spec`` (an ``InputSpec`` checked on every call). Shapes include the batch dimension
    as None: ``(None, 784)``. Layers assigned as attributes (or in lists of attributes) are
    sublayers: their weights are part of this layer's, as in Keras.

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
                 trainable: bool = True, dtype="float32", activity_regularizer=None):
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.trainable = trainable
        self.dtype = np.dtype(dtype)
        self.built = False
        self.input_spec: Optional[InputSpec] = None
        self._weights: List[Tuple[str, "tl.Tensor", bool]] = []
        self.input_shape_arg = None
        if input_shape is not None:
            self.input_shape_arg = (None,) + check_sample_shape(input_shape, f"Layer {self.name!r}")
        self.build_input_shape = None
        self._inbound_nodes: list = []
        self._added_losses: list = []

    # -- sublayers -----------------------------------------------------------------------------
    def _tracked_layers(self) -> List["Layer"]:
        """Layers held in this layer's attributes (directly or in a list, tuple or dict), in
        assignment order: Keras's tracking of sublayers, read from the attributes themselves."""
        found: List[Layer] = []
        for value in vars(self).values():
            if isinstance(value, Layer):
                candidates = (value,)
            elif isinstance(value, (list, tuple)):
                candidates = value
            elif isinstance(value, dict):
                candidates = value.values()
            else:
                continue
            for item in candidates:
                if isinstance(item, Layer) and item is not self and all(item is not f for f in found):
                    found.append(item)
        return found

    # -- weights ---------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable: bool = True, regularizer=None,
                   constraint=None, name: Optional[str] = None, *legacy):
        """Creates a weight, as Keras 3's ``add_weight(shape, initializer, dtype, trainable,
        regularizer, constraint, name)``. The initializer defaults to glorot_uniform (zeros for an
        integer dtype). A regularizer is kept as ``weight.regularizer`` and a constraint as
        ``weight.constraint``; ``losses`` adds the regularizer's penalty. The older positional
        form ``add_weight(name, shape, initializer)`` is accepted too."""
        if isinstance(shape, str):  # add_weight("kernel", (3, 4), "zeros")
            name, shape = shape, initializer
            initializer = dtype if dtype is not None else (legacy[0] if legacy else None)
            dtype = None
        if shape is None:
            shape = ()
        try:
            shape = tuple(int(d) for d in shape)
        except (TypeError, ValueError):
            raise ValueError(f"Layer {self.name!r}: add_weight needs a shape of integers, got {shape!r}") from None
        if any(d < 0 for d in shape):
            raise ValueError(f"Layer {self.name!r}: add_weight got a negative dimension in shape {shape}")
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        if name is None:
            name = "variable" if not any(n == "variable" for n, _, _ in self._weights) else \
                f"variable_{len(self._weights)}"
        if initializer is None:
            initializer = "zeros" if dtype.kind in "biu" else "glorot_uniform"
        init = initializers.get(initializer)
        value = tl.asarray(init(shape, dtype=dtype), dtype=dtype)
        if tuple(value.shape) != shape:
            raise ValueError(
                f"Layer {self.name!r}: initializer {init!r} returned shape {tuple(value.shape)} for weight "
                f"{name!r} of shape {shape}"
            )
        weight = value.detach()
        weight.requires_grad = bool(trainable and self.trainable and dtype.kind == "f")
        # The protocol of regularizers.py and constraints.py: the penalty and the projection
        # travel with the weight (layer.losses and the optimizer read them).
        weight.regularizer = regularizers.get(regularizer)
        weight.constraint = constraints.get(constraint)
        weight.trainable = bool(trainable)
        self._weights.append((name, weight, bool(trainable)))
        return weight

    def add_loss(self, loss) -> None:
        """Adds a loss tensor (e.g. an activity penalty computed in ``call``) to ``losses``;
        cleared at the start of each top-level call."""
        self._added_losses.append(loss)

    @property
    def losses(self) -> List:
        """The current penalties of this layer and its sublayers: weight regularizers, and the
        activity penalties and ``add_loss`` losses of the latest call; the train step adds their
        sum to the loss."""
        return regularizers.layer_losses(self)

    @property
    def weights(self) -> List:
        own = [w for _, w, _ in self._weights]
        return own + [w for layer in self._tracked_layers() for w in layer.weights]

    @property
    def trainable_weights(self) -> List:
        if not self.trainable:
            return []
        own = [w for _, w, t in self._weights if t]
        return own + [w for layer in self._tracked_layers() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> List:
        if not self.trainable:
            return self.weights
        own = [w for _, w, t in self._weights if not t]
        return own + [w for layer in self._tracked_layers() for w in layer.non_trainable_weights]

    @property
    def weight_names(self) -> List[str]:
        """Each weight's name, in ``weights`` order (a sublayer's prefixed with its name)."""
        own = [n for n, _, _ in self._weights]
        return own + [f"{layer.name}/{n}" for layer in self._tracked_layers() for n in layer.weight_names]

    def count_params(self) -> int:
        return int(sum(math.prod(w.shape) for w in self.weights))

    def get_weights(self) -> List[np.ndarray]:
        """Copies of the weights as NumPy arrays."""
        return [np.array(w.detach().numpy(), copy=True) for w in self.weights]

    def set_weights(self, weights: Sequence) -> None:
        """Assigns NumPy arrays (or tensors) to the weights in place, after checking every shape."""
        arrays = [np.asarray(w) for w in weights]
        current = self.weights
        if len(arrays) != len(current):
            raise ValueError(
                f"Layer {self.name!r} expects {len(current)} weights, but the given list has {len(arrays)}"
            )
        for name, w, a in zip(self.weight_names, current, arrays):
            if tuple(a.shape) != tuple(w.shape):
                raise ValueError(
                    f"Layer {self.name!r} weight {name!r} has shape {tuple(w.shape)}, "
                    f"but the given array has shape {a.shape}"
                )
        for w, a in zip(current, arrays):
            np.copyto(w.detach().numpy(), a, casting="same_kind")

    # -- building and calling ----------------------------------------------------------------
    def build(self, input_shape) -> None:
        self.built = True

    def compute_output_shape(self, input_shape) -> Tuple:
        return tuple(input_shape)

    def ensure_built(self, input_shape) -> None:
        """Builds for inputs of ``input_shape`` (a shape, or a list / dict of shapes for a layer
        with several inputs), the batch dimension replaced by None, unless already built."""
        if not self.built:
            shape = _batchless(input_shape)
            self.build(shape)
            self.build_input_shape = shape
            self.built = True

    def check_input_shape(self, input_shape, dtype=None) -> None:
        """Raises Keras's ValueError when an input of ``input_shape`` (batch dimension included)
        does not satisfy this layer's ``input_spec``."""
        assert_input_compatibility(self.input_spec, input_shape, self.name, dtype)

    def call(self, x, training: bool = False):
        raise NotImplementedError(f"{type(self).__name__}.call")

    #: Whether ``__call__`` casts inputs to the layer's dtype (Keras's autocast: NumPy float64 or
    #: uint8 data into float32 weights); a layer taking integer indices (Embedding) turns it off.
    _cast_inputs = True

    def _convert_input(self, x):
        if self._cast_inputs:
            if isinstance(x, tl.Tensor):
                if x.dtype != self.dtype:
                    x = x.astype(self.dtype)  # differentiable, as Keras's cast: the gradient flows back
            else:
                x = tl.asarray(x, dtype=self.dtype)
        elif not isinstance(x, tl.Tensor):
            x = tl.asarray(x)
        return x

    def __call__(self, inputs, *args, **kwargs):
        """Calls ``call`` on tensors (building the layer first), or, when the inputs are symbolic
        (``keras.Input``), records the call in the functional graph and returns KerasTensors.
        ``training`` not given is inherited from the enclosing layer's call, as in Keras."""
        if any_symbolic(inputs) or any_symbolic(args) or any_symbolic(kwargs):
            return self._symbolic_call(inputs, args, kwargs)
        training = kwargs.pop("training", None)
        if training is None:
            training = getattr(_call_context, "training", None)
        inputs = map_structure(self._convert_input, inputs)
        if self.input_spec is not None and isinstance(inputs, tl.Tensor):
            # The batch size is printed as None, as in the messages of fit and evaluate.
            assert_input_compatibility(self.input_spec, (None,) + tuple(inputs.shape[1:]) if inputs.ndim else (),
                                       self.name, inputs.dtype)
        if not self.built:
            self.ensure_built(map_structure(lambda t: tuple(t.shape), inputs))
        if _accepts(type(self).call, "training"):
            kwargs["training"] = bool(training)
        # Keras's masks: a tensor may carry `_keras_mask` (an Embedding with mask_zero sets it);
        # a layer whose call takes `mask` receives it, and compute_mask gives the output's.
        mask = kwargs.pop("mask", None) if "mask" in kwargs else getattr(inputs, "_keras_mask", None)
        if mask is not None and _accepts(type(self).call, "mask"):
            kwargs["mask"] = mask
        outer = getattr(_call_context, "training", None)
        _call_context.training = training
        if outer is None:
            self._clear_added_losses()
        try:
            out = self.call(inputs, *args, **kwargs)
        finally:
            _call_context.training = outer
        if self.activity_regularizer is not None and isinstance(out, tl.Tensor):
            regularizers.record_activity(self, [regularizers.activity_penalty(self.activity_regularizer, out)])
        if isinstance(out, tl.Tensor):  # what summary() shows for a layer of a subclassed model
            self._last_output_shape = (None,) + tuple(out.shape[1:]) if out.ndim else ()
        if isinstance(out, tl.Tensor) and (mask is not None or type(self).compute_mask is not Layer.compute_mask):
            out_mask = self.compute_mask(inputs, mask)
            if out_mask is not None or getattr(out, "_keras_mask", None) is not None:
                out._keras_mask = out_mask
        return out

    #: Whether the layer passes its input's mask on to its output (Keras's ``supports_masking``).
    supports_masking = False

    def compute_mask(self, inputs, mask=None):
        """The output's mask: the input's for a layer that ``supports_masking``, else None."""
        return mask if self.supports_masking else None

    def _clear_added_losses(self) -> None:
        self._added_losses = []
        for layer in self._tracked_layers():
            layer._clear_added_losses()

    def _symbolic_call(self, inputs, args, kwargs):
        from .keras_tensor import KerasTensor, Node
        kwargs.pop("training", None)
        if any_symbolic(args) or any(any_symbolic(v) for k, v in kwargs.items() if k != "mask"):
            raise ValueError(f"Layer {self.name!r}: symbolic tensors must be passed as the first argument "
                             "(a tensor, or a list / dict of them) or as the mask")
        for leaf in flatten(inputs):
            if not isinstance(leaf, KerasTensor):
                raise ValueError(f"Layer {self.name!r} was called on a mix of symbolic tensors (keras.Input) and "
                                 f"other values ({type(leaf).__name__}): pass every input as a KerasTensor")
        if self.input_spec is not None and isinstance(inputs, KerasTensor):
            assert_input_compatibility(self.input_spec, inputs.shape, self.name, inputs.dtype)
        shapes = map_structure(lambda t: t.shape, inputs)
        if not self.built:
            self.ensure_built(shapes)
        mask = kwargs.pop("mask", None)
        out = self.compute_output_spec(inputs, *args, **kwargs)
        if mask is not None:
            kwargs["mask"] = mask
        Node(self, inputs, kwargs, flatten(out), extra_args=args)
        return out

    def _only_node(self, what: str):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name!r} has never been called on a symbolic tensor (keras.Input), "
                                 f"so it has no defined {what}")
        if len(self._inbound_nodes) > 1:
            raise AttributeError(f"Layer {self.name!r} has been called {len(self._inbound_nodes)} times on symbolic "
                                 f"tensors, so its {what} is ambiguous")
        return self._inbound_nodes[0]

    @property
    def output(self):
        """The symbolic output of the layer's one call on symbolic tensors (Keras's ``layer.output``:
        e.g. ``keras.Model(model.inputs, [layer.output for layer in model.layers])``)."""
        outputs = self._only_node("output").outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)

    @property
    def input(self):
        """The symbolic input(s) of the layer's one call on symbolic tensors."""
        node = self._only_node("input")
        if not node.input_tensors:  # an InputLayer: its own tensor
            return node.outputs[0]
        return node.call_args

    def compute_output_spec(self, inputs, *args, **kwargs):
        """The symbolic outputs for symbolic ``inputs``: from ``compute_output_shape`` when the
        class defines one, else by running ``call`` on zeros twice (unknown sizes as 1, then 2:
        the sizes that change are unknown in the output)."""
        from .keras_tensor import KerasTensor
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            shapes = self.compute_output_shape(map_structure(lambda t: t.shape, inputs))
            if _is_shape(shapes):
                return KerasTensor(shapes, self.dtype)
            return map_structure_of_shapes(lambda s: KerasTensor(s, self.dtype), shapes)
        runs = []
        with tl.no_grad():
            for fill in (1, 2):
                concrete = map_structure(
                    lambda t: tl.zeros(tuple(fill if d is None else d for d in t.shape), dtype=t.dtype), inputs)
                runs.append(self(concrete, *args, training=False, **kwargs))
        first, second = flatten(runs[0]), flatten(runs[1])
        specs = [KerasTensor(tuple(a if a == b else None for a, b in zip(x.shape, y.shape)), x.dtype)
                 for x, y in zip(first, second)]
        return pack_sequence_as(runs[0], specs)

    def call_logits(self, x, training: bool = False):
        """The output before ``output_activation`` (only for layers that have one)."""
        raise NotImplementedError(f"{type(self).__name__} has no separate logits")

    def get_config(self) -> Dict:
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config: Dict):
        """A new layer made from ``get_config()``'s output (no weights), as in Keras."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
