"""Model: a Layer that trains (the ``Trainer`` mixin), as Keras 3's ``Model``.

Subclass it and write ``call(x, training=False)``: layers assigned as attributes are tracked
(their weights are the model's), the model builds on its first call, and compile / fit /
evaluate / predict work as for ``Sequential``. (The functional form, ``Model(inputs, outputs)``,
comes later.)
"""

from __future__ import annotations

import os
from typing import List, Optional

import tensorlet as tl

from .. import _data, _keras_file, _saving, _summary
from ..layers.layer import Layer, _accepts
from ..trainer import Trainer

__all__ = ["Model"]


def _is_weights_h5(filepath) -> bool:
    """Whether the path names a Keras 3 ``.weights.h5`` file (else the ``.npz`` format applies)."""
    return isinstance(filepath, (str, os.PathLike)) and os.fspath(filepath).endswith(".weights.h5")


class Model(Trainer, Layer):
    """A model: layers composed by ``call``, trained by ``compile`` / ``fit``."""

    def __new__(cls, *args, **kwargs):
        # keras.Model(inputs, outputs) makes a functional model, as in Keras.
        if cls is Model and (len(args) >= 2 or "outputs" in kwargs or (args and "outputs" in kwargs)):
            from .functional import Functional
            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, name: Optional[str] = None, trainable: bool = True, dtype="float32", **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise TypeError(f"{type(self).__name__}: inputs/outputs are only accepted by keras.Model(inputs, outputs) "
                            "itself (a functional model), not by a subclass of Model")
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        Layer.__init__(self, name=name, trainable=trainable, dtype=dtype)
        Trainer.__init__(self)

    def get_layer(self, name: Optional[str] = None, index: Optional[int] = None) -> Layer:
        """A layer by name or by index in ``layers``, as Keras's ``get_layer``."""
        if (name is None) == (index is None):
            raise ValueError("get_layer: provide either a layer name or a layer index, not both or neither")
        layers = self.layers
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(layers)} layers.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}.")

    # -- structure -------------------------------------------------------------------------------
    @property
    def layers(self) -> List[Layer]:
        """The sublayers, in the order they were assigned."""
        return self._tracked_layers()

    @property
    def input_shape(self) -> Optional[tuple]:
        """The declared input shape (batch dimension first), or None when the model has none."""
        return self.build_input_shape

    @property
    def output_activation(self) -> Optional[str]:
        """The activation the model's output ends in, when a loss may fuse with it (a model
        that declares one also implements ``call_logits``). None for a subclassed model."""
        return None

    def call_logits(self, x, training: bool = False):
        raise NotImplementedError(f"{type(self).__name__} has no separate logits")

    def _output_layer_name(self) -> str:
        """The name the label checks report (the model's, or its output layer's)."""
        return self.name

    def build(self, input_shape) -> None:
        """Builds every sublayer by running ``call`` on zeros of ``input_shape`` (one sample),
        as Keras builds a subclassed model."""
        if not self.built:
            shape = (1,) + tuple(input_shape[1:])
            kwargs = {"training": False} if _accepts(type(self).call, "training") else {}
            with tl.no_grad():
                self.call(tl.zeros(shape, dtype=self.dtype), **kwargs)
            self.build_input_shape = (None,) + tuple(input_shape[1:])
            self.built = True

    def compute_output_shape(self, input_shape) -> tuple:
        """The output shape for inputs of ``input_shape``, found by running the model on one
        sample of zeros (this builds it)."""
        with tl.no_grad():
            out = self(tl.zeros((1,) + tuple(input_shape[1:]), dtype=self.dtype), training=False)
        return (None,) + tuple(out.shape[1:])

    def _checked_output_shape(self, x_shape) -> tuple:
        """The output shape for data of ``x_shape``, after checking the data can feed the model."""
        if x_shape is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} takes one input tensor")
        _data.check_batch_dimension(x_shape, self.layers[0].name if self.layers else self.name)
        return self.compute_output_shape((None,) + tuple(x_shape[1:]))

    # -- weights files and summary -----------------------------------------------------------------
    def _require_built(self, what: str) -> None:
        if not self.built:
            if self.input_shape is not None:
                self.build(self.input_shape)
                return
            raise ValueError(
                f"{type(self).__name__} {self.name!r} is not built yet, so {what} has no weights to use: call it "
                "on data, or give it an input shape first"
            )

    def save_weights(self, filepath) -> None:
        """Saves the weights: Keras 3's ``.weights.h5`` layout (needs h5py), or a NumPy ``.npz``
        archive."""
        self._require_built("save_weights")
        if _is_weights_h5(filepath):
            _keras_file.save_weights_h5(self, filepath)
        else:
            _saving.save_weights(self, filepath)

    def save(self, filepath) -> None:
        """Saves the model to a ``.keras`` file in Keras 3's format (config, weights, metadata),
        which Keras 3 loads too."""
        self._require_built("save")
        _keras_file.save_model(self, filepath)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A functional model's config (``layers``, ``input_layers``, ``output_layers``) makes a
        functional model, as ``keras.Model.from_config`` does; else ``cls(**config)``."""
        if cls is Model and isinstance(config, dict) and "input_layers" in config and "layers" in config:
            from .._keras_format import model_from_dict
            return model_from_dict({"class_name": "Functional", "config": config}, dict(custom_objects or {}), True)
        return cls(**config)

    def load_weights(self, filepath) -> None:
        """Loads weights saved by ``save_weights``; every name and shape is checked before any
        weight is assigned."""
        if not self.built:
            if self.input_shape is None:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} must be built before load_weights: give it an input "
                    "shape (layers.Input or build((None, n))) so its weights exist"
                )
            self.build(self.input_shape)
        if _is_weights_h5(filepath):
            _keras_file.load_weights_h5(self, filepath)
        else:
            _saving.load_weights(self, filepath)

    def layer_output_shapes(self) -> List[Optional[tuple]]:
        """Each layer's output shape as far as it is known: for a subclassed model, the shape of
        its last output (batch as None), None before the layer has run."""
        return [getattr(layer, "_last_output_shape", None) for layer in self.layers]

    def summary(self, line_length: Optional[int] = None, print_fn=None) -> None:
        """Prints the table of layers, output shapes and parameter counts."""
        _summary.print_summary(self, line_length=line_length, print_fn=print_fn)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
