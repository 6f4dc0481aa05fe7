"""``tensorlet.keras.ops``: tensorlet's ops under Keras 3's names and signatures, for custom
layers written against ``keras.ops`` (``from tensorlet.keras import ops``).

Values are ``tensorlet.Tensor``s; everything is differentiable where the op is. Dtypes follow
Keras where they differ from NumPy: creation functions default to float32 (Keras's floatx), and
Python numbers given to ``convert_to_tensor`` become float32 / int32."""

from __future__ import annotations

import builtins

import numpy as np

import tensorlet as tl

from .layers.zero_padding import pad_spatial

_FLOATX = "float32"

# -- same name, same arguments ----------------------------------------------------------------------
# Elementwise (x1, x2) and unary (x) ops, and nn ops whose Keras signature is tensorlet's.
_SAME = ("add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "mod", "power", "maximum", "minimum",
         "equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and", "logical_or",
         "logical_xor", "logical_not", "matmul", "dot", "abs", "absolute", "negative", "exp", "log", "sqrt", "square",
         "sign", "sin", "cos", "tanh", "isnan", "isfinite", "sigmoid", "relu", "softmax", "log_softmax", "transpose",
         "squeeze", "expand_dims", "concatenate", "stack", "swapaxes", "ravel", "broadcast_to", "split",
         "average_pool", "max_pool", "depthwise_conv", "batch_normalization")
for _name in _SAME:
    globals()[_name] = getattr(tl, _name)


# -- reductions: Keras's (x, axis=None, keepdims=False) -----------------------------------------------
def sum(x, axis=None, keepdims=False):
    return tl.sum(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return tl.mean(x, axis=axis, keepdims=keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    return tl.prod(x, axis=axis, dtype=dtype, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    return tl.var(x, axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    return tl.std(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False, initial=None):
    out = tl.max(x, axis=axis, keepdims=keepdims)
    return out if initial is None else tl.maximum(out, initial)


def min(x, axis=None, keepdims=False, initial=None):
    out = tl.min(x, axis=axis, keepdims=keepdims)
    return out if initial is None else tl.minimum(out, initial)


def any(x, axis=None, keepdims=False):
    return tl.any(x, axis=axis, keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    return tl.all(x, axis=axis, keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    return tl.argmax(x, axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims=False):
    return tl.argmin(x, axis=axis, keepdims=keepdims)


# -- shapes and selection ------------------------------------------------------------------------------
def reshape(x, newshape):
    return tl.reshape(x, newshape)


def shape(x):
    return tuple(convert_to_tensor(x).shape)


def where(condition, x1=None, x2=None):
    if x1 is None or x2 is None:
        raise ValueError("keras.ops.where: tensorlet needs both x1 and x2 (the one-argument form, nonzero, "
                         "is not supported)")
    return tl.where(condition, x1, x2)


def clip(x, x_min, x_max):
    return tl.clip(x, x_min, x_max)


def take(x, indices, axis=None):
    return tl.take(x, indices, axis=axis)


def pad(x, pad_width, mode="constant", constant_values=None):
    """Constant zero padding (Keras's default); other modes and values are refused."""
    if mode != "constant" or constant_values not in (None, 0):
        raise ValueError(f"keras.ops.pad: tensorlet supports mode='constant' with zeros, got mode={mode!r}, "
                         f"constant_values={constant_values!r}")
    x = convert_to_tensor(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    if (widths < 0).any():
        raise ValueError(f"keras.ops.pad: pad_width must be non-negative, got {pad_width!r}")
    return pad_spatial(x, [tuple(int(v) for v in w) for w in widths], range(x.ndim))


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Rows of zeros with a one at each index (indices outside [0, num_classes) give zeros)."""
    if sparse:
        raise ValueError("keras.ops.one_hot: sparse=True is not supported by tensorlet")
    x = convert_to_tensor(x)
    hot = tl.astype(tl.expand_dims(x, -1) == tl.arange(num_classes, dtype=x.dtype), dtype or _FLOATX)
    if axis in (-1, hot.ndim - 1):
        return hot
    order = list(range(hot.ndim - 1))
    order.insert(axis % hot.ndim, hot.ndim - 1)  # the class axis moves to `axis`
    return tl.transpose(hot, order)


# -- dtypes and conversion ---------------------------------------------------------------------------
def cast(x, dtype):
    return tl.astype(convert_to_tensor(x), dtype)


def convert_to_tensor(x, dtype=None, sparse=None):
    if isinstance(x, tl.Tensor):
        return x if dtype is None else tl.astype(x, dtype, copy=False)
    if dtype is None and not isinstance(x, np.ndarray):
        # Keras: Python floats become floatx, Python ints int32.
        inferred = np.asarray(x).dtype
        dtype = _FLOATX if inferred.kind == "f" else "int32" if inferred.kind in "iu" else None
    return tl.asarray(x, dtype=dtype)


def convert_to_numpy(x):
    return np.array(x.detach().numpy() if isinstance(x, tl.Tensor) else x, copy=True)


# -- creation (float32 by default, as Keras) -----------------------------------------------------------
def zeros(shape, dtype=None):
    return tl.zeros(shape, dtype=dtype or _FLOATX)


def ones(shape, dtype=None):
    return tl.ones(shape, dtype=dtype or _FLOATX)


def full(shape, fill_value, dtype=None):
    return tl.full(shape, fill_value, dtype=dtype or _FLOATX)


def zeros_like(x, dtype=None):
    return tl.zeros_like(x, dtype=dtype)


def ones_like(x, dtype=None):
    return tl.ones_like(x, dtype=dtype)


def full_like(x, fill_value, dtype=None):
    return tl.full_like(x, fill_value, dtype=dtype)


def eye(N, M=None, k=0, dtype=None):
    return tl.eye(N, M, k, dtype=dtype or _FLOATX)


def arange(start, stop=None, step=1, dtype=None):
    return tl.arange(start, stop, step, dtype=dtype)


# -- nn ------------------------------------------------------------------------------------------------
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """keras.ops.conv (a kernel with fewer input channels than the inputs is a grouped conv)."""
    return tl.conv(inputs, kernel, strides, padding, data_format, dilation_rate)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """The depthwise conv, then the pointwise (1x1) conv, as keras.ops.separable_conv."""
    depthwise = tl.depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return tl.conv(depthwise, pointwise_kernel, 1, "valid", data_format)


def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, biased variance) over `axes`, as keras.ops.moments."""
    if synchronized:
        raise ValueError("keras.ops.moments: synchronized=True is not supported by tensorlet")
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else axes
    m = tl.mean(x, axis=axes, keepdims=True)
    v = tl.mean(tl.square(x - m), axis=axes, keepdims=True)
    if not keepdims:
        m, v = tl.squeeze(m, axis=axes), tl.squeeze(v, axis=axes)
    return m, v


# -- activations and losses composed of ops (Keras's formulas) ----------------------------------------
_EPSILON = 1e-7  # keras.backend.epsilon(), the clip of probabilities in the cross-entropies


def softplus(x):
    """log(1 + exp(x)), computed as max(x, 0) + log(1 + exp(-|x|)) so it never overflows."""
    x = convert_to_tensor(x)
    return tl.maximum(x, 0) + tl.log(1 + tl.exp(-tl.abs(x)))


def silu(x):
    x = convert_to_tensor(x)
    return x * tl.sigmoid(x)


swish = silu


def leaky_relu(x, negative_slope=0.2):
    x = convert_to_tensor(x)
    return tl.where(x >= 0, x, x * negative_slope)


def elu(x, alpha=1.0):
    x = convert_to_tensor(x)
    return tl.where(x > 0, x, (tl.exp(tl.minimum(x, 0)) - 1) * alpha)


def relu6(x):
    x = convert_to_tensor(x)
    return tl.clip(x, 0, 6)


def hard_sigmoid(x):
    x = convert_to_tensor(x)
    return relu6(x + 3) / 6


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise, as keras.ops.binary_crossentropy (the mean is the loss's business)."""
    target, output = convert_to_tensor(target), convert_to_tensor(output)
    if from_logits:
        return tl.maximum(output, 0) - output * target + tl.log(1 + tl.exp(-tl.abs(output)))
    p = tl.clip(output, _EPSILON, 1 - _EPSILON)
    return -(target * tl.log(p) + (1 - target) * tl.log(1 - p))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target, output = convert_to_tensor(target), convert_to_tensor(output)
    if from_logits:
        return tl.softmax_cross_entropy(output, target, axis)
    p = tl.clip(output / tl.sum(output, axis=axis, keepdims=True), _EPSILON, 1 - _EPSILON)
    return -tl.sum(target * tl.log(p), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    output = convert_to_tensor(output)
    if axis not in (-1, output.ndim - 1):
        raise ValueError(f"keras.ops.sparse_categorical_crossentropy: tensorlet supports axis=-1, got {axis!r}")
    if from_logits:
        return tl.sparse_softmax_cross_entropy(output, target)
    hot = one_hot(target, output.shape[-1], dtype=output.dtype)
    return categorical_crossentropy(hot, output)


__all__ = sorted(builtins.set(_SAME) | {
    "sum", "mean", "prod", "var", "std", "max", "min", "any", "all", "argmax", "argmin", "reshape", "shape", "where",
    "clip", "take", "pad", "one_hot", "cast", "convert_to_tensor", "convert_to_numpy", "zeros", "ones", "full",
    "zeros_like", "ones_like", "full_like", "eye", "arange", "conv", "separable_conv", "moments", "softplus", "silu",
    "swish", "leaky_relu", "elu", "relu6", "hard_sigmoid", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy"})
