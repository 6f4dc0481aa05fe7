"""Lambda: wraps a function of tensors as a layer, as Keras 3's. Saving a Lambda stores the
function's bytecode, as Keras does; loading it back runs that code, so ``load_model`` refuses
it unless ``safe_mode=False``."""

from __future__ import annotations

from .keras_tensor import KerasTensor, map_structure
from .layer import Layer, _is_shape

__all__ = ["Lambda"]


class Lambda(Layer):
    """``function(inputs, **arguments)``. The output shape is worked out by running the function
    on zeros, unless ``output_shape`` (one sample's shape, or a function of the input shape) is
    given."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda {self.name!r}: function must be callable, got {function!r}")
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def compute_output_spec(self, inputs, *args, **kwargs):
        if self._output_shape is None:
            return super().compute_output_spec(inputs, *args, **kwargs)
        shapes = map_structure(lambda t: t.shape, inputs)
        if callable(self._output_shape):
            out = self._output_shape(shapes)
        else:
            first = shapes if _is_shape(shapes) else [s for s in shapes][0]
            out = (first[0],) + tuple(self._output_shape)
        return KerasTensor(tuple(out), self.dtype)

    def get_config(self):
        from .._keras_format import serialize_function
        config = {**super().get_config(), "function": serialize_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = serialize_function(self._output_shape) if callable(self._output_shape) \
                else list(self._output_shape)
        config["arguments"] = self.arguments
        return config
