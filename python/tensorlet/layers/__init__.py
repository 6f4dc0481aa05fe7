"""Layers with Keras 3's names and arguments."""

from .activation import Activation
from .activation_layers import ELU, LeakyReLU, ReLU, Softmax
from .embedding import Embedding
from .keras_tensor import KerasTensor
from .lambda_layer import Lambda
from .merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from .noise import GaussianNoise, SpatialDropout1D, SpatialDropout2D
from .normalization import Normalization, UnitNormalization
from .ops_layers import NotEqual  # noqa: F401  (a Keras op node in .keras files; not in keras.layers)
from .reshaping import Permute, RepeatVector, Reshape
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
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "KerasTensor", "ReLU", "LeakyReLU",
           "ELU", "Softmax", "Embedding", "Lambda", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
           "Concatenate", "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D", "Normalization",
           "UnitNormalization", "Reshape", "Permute", "RepeatVector", "BatchNormalization",
           "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "ZeroPadding1D", "ZeroPadding2D"]
