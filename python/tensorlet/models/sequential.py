"""Sequential: a linear stack of layers, as Keras 3's ``keras.Sequential``; training comes from
``Model`` (the ``Trainer``)."""

from __future__ import annotations

from typing import List, Optional, Sequence

from ..layers.input_layer import InputLayer
from ..layers.keras_tensor import KerasTensor
from ..layers.layer import InputSpec, Layer, assert_input_compatibility, format_shape, unique_name
from .model import Model

__all__ = ["Sequential"]


class Sequential(Model):
    """A linear stack of layers.

    >>> model = Sequential([layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")])
    >>> model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> model.fit(x_train, y_train, epochs=5, batch_size=128)
    """

    def __init__(self, layers: Optional[Sequence[Layer]] = None, trainable: bool = True, name: Optional[str] = None):
        self._layers: List[Layer] = []
        self._input_layer: Optional[InputLayer] = None
        super().__init__(name=name or unique_name("sequential"), trainable=trainable)
        for layer in layers or ():
            self.add(layer)

    # -- structure -----------------------------------------------------------------------------
    def add(self, layer) -> None:
        """Appends a layer (an ``Input`` is taken as the input specification)."""
        if isinstance(layer, KerasTensor) and layer._keras_history is not None and \
                isinstance(layer._keras_history.layer, InputLayer):
            layer = layer._keras_history.layer
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(
                    f"Sequential {self.name!r}: an Input can only be added first, before any other layer"
                )
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of tensorlet.layers.Layer can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(
                f"All layers added to a Sequential model should have unique names. Name {layer.name!r} is "
                f"already the name of a layer in model {self.name!r}."
            )
        self._layers.append(layer)
        if self.input_shape is not None:
            # Keras builds as soon as the input shape is known (an Input, or input_shape=).
            try:
                self.build()
            except ValueError:
                self._layers.pop()
                raise

    def pop(self) -> Layer:
        if not self._layers:
            raise ValueError(f"Sequential {self.name!r} has no layers to pop")
        return self._layers.pop()

    @property
    def layers(self) -> List[Layer]:
        return list(self._layers)

    def _tracked_layers(self) -> List[Layer]:
        return self._layers

    def _output_layer_name(self) -> str:
        return self._layers[-1].name

    @property
    def input_shape(self) -> Optional[tuple]:
        """The declared or built input shape, batch dimension first (None when unknown)."""
        if self._input_layer is not None:
            return (None,) + tuple(self._input_layer.shape[1:])
        if not self._layers:
            return None
        first = self._layers[0]
        return first.input_shape_arg or first.build_input_shape

    def layer_output_shapes(self) -> List[Optional[tuple]]:
        """Each layer's output shape, as far as the input shape is known."""
        shape = self.input_shape
        shapes = []
        for layer in self._layers:
            shape = None if shape is None else tuple(layer.compute_output_shape(shape))
            shapes.append(shape)
        return shapes

    # -- the symbolic graph (Keras 3 builds a Sequential with an Input as a functional graph) ----
    def _graph(self):
        """The KerasTensors from the Input through every layer (made once per list of layers),
        so ``inputs``, ``outputs`` and each layer's ``output`` exist as in Keras."""
        if self._input_layer is None:
            raise AttributeError(f"Sequential {self.name!r} has no Input, so it has no symbolic inputs/outputs: "
                                 "start it with keras.Input(shape=...)")
        key = tuple(self._layers)  # the layers themselves (compared by identity), kept across copies
        cached = self.__dict__.get("_graph_cache")
        if cached is None or cached[0] != key:
            x = self._input_layer.output
            for layer in self._layers:
                x = layer(x)
            self._graph_cache = (key, self._input_layer.output, x)
        return self._graph_cache[1:]

    @property
    def inputs(self):
        return [self._graph()[0]]

    @property
    def outputs(self):
        return [self._graph()[1]]

    @property
    def input(self):
        return self._graph()[0]

    @property
    def output(self):
        return self._graph()[1]

    @property
    def output_shape(self) -> Optional[tuple]:
        shapes = self.layer_output_shapes()
        return shapes[-1] if shapes else None

    @property
    def output_activation(self) -> Optional[str]:
        return self._layers[-1].output_activation if self._layers else None

    @property
    def built(self) -> bool:
        return bool(self._layers) and all(layer.built for layer in self._layers)

    @built.setter
    def built(self, value) -> None:
        """Layer.__init__ and ensure_built assign the flag; a Sequential's is its layers'."""

    def compute_output_shape(self, input_shape) -> tuple:
        """The model's output shape for inputs of ``input_shape``, checked layer by layer
        against each layer's input spec without building anything."""
        if not self._layers:
            raise ValueError(f"Sequential {self.name!r} has no layers: add some before using it")
        shape = (None,) + tuple(input_shape[1:])
        declared = self.input_shape
        if declared is not None:
            assert_input_compatibility(InputSpec(shape=declared), shape, self._layers[0].name)
        for layer in self._layers:
            layer.check_input_shape(shape)
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def _checked_output_shape(self, x_shape) -> tuple:
        if not self._layers:
            raise ValueError(f"Sequential {self.name!r} has no layers: add some before using it")
        return super()._checked_output_shape(x_shape)

    def build(self, input_shape=None) -> None:
        """Creates every layer's weights for inputs of ``input_shape`` (batch dimension first,
        e.g. ``(None, 784)``); defaults to the declared input shape."""
        if not self._layers:
            raise ValueError(f"Sequential {self.name!r} has no layers to build")
        if input_shape is None:
            input_shape = self.input_shape
        if input_shape is None:
            raise ValueError(
                f"Sequential {self.name!r} cannot be built without an input shape: call build((None, 784)), "
                "start the model with layers.Input(shape=(784,)), or give the first layer input_shape=(784,)"
            )
        shape = (None,) + tuple(input_shape[1:])
        self.compute_output_shape(shape)  # validates before anything is created
        for layer in self._layers:
            layer.ensure_built(shape)
            shape = tuple(layer.compute_output_shape(shape))

    # -- forward ---------------------------------------------------------------------------------
    def call(self, x, training: bool = False):
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def call_logits(self, x, training: bool = False):
        """The last layer's output before its ``output_activation`` (for a fused loss)."""
        layers = self._layers
        for layer in layers[:-1]:
            x = layer(x, training=training)
        last = layers[-1]
        last.check_input_shape((None,) + tuple(x.shape[1:]))
        return last.call_logits(x, training=training)

    def get_config(self):
        from .._keras_format import _dtype_policy, _layer_dict
        layers = [_layer_dict(layer) for layer in ([self._input_layer] if self._input_layer is not None else [])
                  + self._layers]
        shape = self.input_shape
        return {"name": self.name, "trainable": self.trainable, "dtype": _dtype_policy(self.dtype.name),
                "layers": layers, "build_input_shape": None if shape is None else list(shape)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .._keras_format import model_from_dict
        return model_from_dict({"class_name": "Sequential", "config": config}, dict(custom_objects or {}), True)

    def __repr__(self):
        shape = self.input_shape
        return f"<Sequential name={self.name}, layers={len(self._layers)}, input_shape={shape and format_shape(shape)}>"
