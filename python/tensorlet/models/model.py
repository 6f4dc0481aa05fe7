"""Model: a Layer that trains (the ``Trainer`` mixin), as Keras 3's ``Model``.

Subclass it and write ``call(x, training=False)``: layers assigned as attributes are tracked
(their weights are the model's), the model builds on its first call, and compile / fit /
evaluate / predict work as for ``Sequential``. (The functional form, ``Model(inputs, outputs)``,
comes later.)
"""

from __future__ import annotations

from typing import List, Optional

import tensorlet as tl

from .. import _data, _saving, _summary
from ..layers.layer import Layer
from ..trainer import Trainer

__all__ = ["Model"]


class Model(Trainer, Layer):
    """A model: layers composed by ``call``, trained by ``compile`` / ``fit``."""

    def __init__(self, name: Optional[str] = None, trainable: bool = True, dtype="float32"):
        Layer.__init__(self, name=name, trainable=trainable, dtype=dtype)
        Trainer.__init__(self)

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

    def _layer_chain(self) -> Optional[List[Layer]]:
        """The layers when the model computes exactly ``layers[-1](...layers[0](x))`` (what a
        compiled step for a plain stack needs to know); None for a model with its own ``call``."""
        return None

    def _output_layer_name(self) -> str:
        """The name the label checks report (the model's, or its output layer's)."""
        return self.name

    def build(self, input_shape) -> None:
        """Builds every sublayer by running ``call`` on zeros of ``input_shape`` (one sample),
        as Keras builds a subclassed model."""
        if not self.built:
            shape = (1,) + tuple(input_shape[1:])
            with tl.no_grad():
                self.call(tl.zeros(shape, dtype=self.dtype), training=False)
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
        """Saves the weights to a NumPy ``.npz`` archive."""
        self._require_built("save_weights")
        _saving.save_weights(self, filepath)

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
        _saving.load_weights(self, filepath)

    def layer_output_shapes(self) -> List[Optional[tuple]]:
        """Each layer's output shape as far as it is known (not known for a subclassed model)."""
        return [None] * len(self.layers)

    def summary(self, line_length: Optional[int] = None, print_fn=None) -> None:
        """Prints the table of layers, output shapes and parameter counts."""
        _summary.print_summary(self, line_length=line_length, print_fn=print_fn)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
