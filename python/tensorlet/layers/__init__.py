"""Layers with Keras 3's names and arguments."""

from .activation import Activation
from .dense import Dense
from .dropout import Dropout
from .flatten import Flatten
from .input_layer import Input, InputLayer
from .layer import InputSpec, Layer

__all__ = ["Layer", "InputSpec", "Dense", "Activation", "Flatten", "Dropout", "Input", "InputLayer"]
