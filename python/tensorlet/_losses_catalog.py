"""The rest of Keras 3's losses (keras/src/losses/losses.py), as per-sample functions built from
tensor ops (so they differentiate and a captured step replays them) and their classes."""

from __future__ import annotations

import math

import tensorlet as tl

from .activations import softplus

EPSILON = 1e-7  # keras.backend.epsilon()
_LOG2 = math.log(2.0)


def _prep(y_true, y_pred):
    """Tensors of y_pred's dtype, ranks matched as Keras does (a trailing axis of 1)."""
    from .losses import squeeze_or_expand_to_same_rank

    y_pred = tl.asarray(y_pred)
    y_true = tl.asarray(y_true, dtype=y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|, axis=-1)."""
    y_true, y_pred = _prep(y_true, y_pred)
    return tl.mean(tl.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|, axis=-1)."""
    y_true, y_pred = _prep(y_true, y_pred)
    diff = tl.abs((y_true - y_pred) / tl.maximum(tl.abs(y_true), EPSILON))
    return 100.0 * tl.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2, axis=-1)."""
    y_true, y_pred = _prep(y_true, y_pred)
    first = tl.log(tl.maximum(y_pred, EPSILON) + 1.0)
    second = tl.log(tl.maximum(y_true, EPSILON) + 1.0)
    return tl.mean(tl.square(first - second), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """mean(0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2), e = y_pred - y_true."""
    y_true, y_pred = _prep(y_true, y_pred)
    error = y_pred - y_true
    abs_error = tl.abs(error)
    quadratic = 0.5 * tl.square(error)
    linear = delta * abs_error - 0.5 * delta * delta
    return tl.mean(tl.where(abs_error <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(e)), axis=-1), e = y_pred - y_true, as e + softplus(-2e) - log(2)."""
    y_true, y_pred = _prep(y_true, y_pred)
    error = y_pred - y_true
    return tl.mean(error + softplus(-2.0 * error) - _LOG2, axis=-1)


def _hinge_labels(y_true):
    """Keras's convert_binary_labels_to_hinge: labels that are all 0 or 1 become -1 or 1, others
    are kept; chosen with tensor ops (no Python branch on the data, so a capture stays valid)."""
    is_binary = tl.all(tl.logical_or(y_true == 0.0, y_true == 1.0))
    return tl.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0), axis=-1); labels in {0, 1} are mapped to {-1, 1}."""
    y_true, y_pred = _prep(y_true, y_pred)
    return tl.mean(tl.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0)^2, axis=-1); labels in {0, 1} are mapped to {-1, 1}."""
    y_true, y_pred = _prep(y_true, y_pred)
    return tl.mean(tl.square(tl.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0) along the last axis."""
    y_true, y_pred = _prep(y_true, y_pred)
    pos = tl.sum(y_true * y_pred, axis=-1)
    neg = tl.max((1.0 - y_true) * y_pred, axis=-1)
    return tl.maximum(neg - pos + 1.0, 0.0)


def kl_divergence(y_true, y_pred):
    """sum(t * log(t / p), axis=-1), t and p clipped to [eps, 1]."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_true = tl.clip(y_true, EPSILON, 1.0)
    y_pred = tl.clip(y_pred, EPSILON, 1.0)
    return tl.sum(y_true * tl.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + eps), axis=-1)."""
    y_true, y_pred = _prep(y_true, y_pred)
    return tl.mean(y_pred - y_true * tl.log(y_pred + EPSILON), axis=-1)


def _l2_normalize(x, axis):
    return x / tl.sqrt(tl.maximum(tl.sum(tl.square(x), axis=axis, keepdims=True), 1e-12))


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis) (0 for a zero vector)."""
    y_true, y_pred = _prep(y_true, y_pred)
    return -tl.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                              label_smoothing=0.0, axis=-1):
    """mean((1 - p_t)^gamma * bce, axis), p_t = y p + (1 - y)(1 - p), bce with p clipped to
    [eps, 1 - eps]; weighted by y alpha + (1 - y)(1 - alpha) when apply_class_balancing."""
    y_pred = tl.asarray(y_pred)
    y_true = tl.asarray(y_true, dtype=y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = tl.sigmoid(y_pred)
    p = tl.clip(y_pred, EPSILON, 1.0 - EPSILON)
    bce = -(y_true * tl.log(p) + (1.0 - y_true) * tl.log(1.0 - p))
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = tl.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return tl.mean(focal, axis=axis)


# Keras's aliases.
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
logcosh = log_cosh
kld = KLD = kullback_leibler_divergence = kl_divergence
