"""``keras.models.load_model`` and ``keras.models.clone_model``."""

from __future__ import annotations

from .. import _keras_file, _keras_format

__all__ = ["load_model", "clone_model"]


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Loads a ``.keras`` file (written by tensorlet or Keras 3). A Lambda layer's stored code is
    refused unless ``safe_mode=False``; a damaged file raises ValueError."""
    return _keras_file.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialised weights (Keras's
    ``clone_model``: built from the model's config; weights are not copied)."""
    if input_tensors is not None or clone_function is not None:
        raise ValueError("clone_model: input_tensors and clone_function are not supported by tensorlet")
    return _keras_format.from_config(_keras_format.to_config(model), safe_mode=False)
