"""Layers with Keras 3's names and arguments."""

from .activation import Activation
from .batch_normalization import BatchNormalization
from .conv import Conv1D, Conv2D
from .dense import Dense
from .depthwise_conv import DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D
from .dropout import Dropout
from .flatten import Flatten
from .input_layer import Input, InputLayer
from .layer import InputSpec, Layer
from .zero_padding import ZeroPadding1D, ZeroPadding2D
from .pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                      GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)

__all__ = ["Layer", "InputSpec", "Dense", "Activation", "Flatten", "Dropout", "Input", "InputLayer", "Conv1D",
           "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "BatchNormalization",
           "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "ZeroPadding1D", "ZeroPadding2D"]
