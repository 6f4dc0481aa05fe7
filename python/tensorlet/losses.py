"""Losses with Keras 3's names, defaults and formulas.

Functions (``categorical_crossentropy(y_true, y_pred)``, ...) return one value per sample;
classes (``CategoricalCrossentropy()``, ...) reduce them to their mean over the batch
(Keras's default ``"sum_over_batch_size"``). Everything is computed by tensor ops in the core.

A loss object can also say how to compute itself from the *logits* of a final activation
(``loss.fused_with("softmax")``): a model whose last layer is ``Dense(..., activation="softmax")``
trained with categorical cross-entropy then goes through the core's fused, stable
softmax+cross-entropy kernel instead of ``log(softmax(z))``.
"""

from __future__ import annotations

import functools
from typing import Callable, Dict, Optional

import tensorlet as tl

from ._lookup import by_name
from ._losses_catalog import (KLD, MAE, MAPE, MSLE, binary_focal_crossentropy, categorical_hinge, cosine_similarity,
                              hinge, huber, kl_divergence, kld, kullback_leibler_divergence, log_cosh, logcosh, mae,
                              mape, mean_absolute_error, mean_absolute_percentage_error,
                              mean_squared_logarithmic_error, msle, poisson, squared_hinge)

__all__ = [
    "Loss", "LossFunctionWrapper", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "BinaryCrossentropy", "MeanSquaredError", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "binary_crossentropy", "mean_squared_error", "mse", "MSE", "get", "squeeze_or_expand_to_same_rank",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Huber", "LogCosh", "Hinge",
    "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson", "CosineSimilarity", "BinaryFocalCrossentropy",
    "mean_absolute_error", "mae", "MAE", "mean_absolute_percentage_error", "mape", "MAPE",
    "mean_squared_logarithmic_error", "msle", "MSLE", "huber", "log_cosh", "logcosh", "hinge", "squared_hinge",
    "categorical_hinge", "kl_divergence", "kld", "KLD", "kullback_leibler_divergence", "poisson", "cosine_similarity",
    "binary_focal_crossentropy",
]

EPSILON = 1e-7  # keras.backend.epsilon()


# -- per-sample functions ----------------------------------------------------------------------
def _one_hot(labels, num_classes: int, dtype):
    labels = tl.asarray(labels)
    classes = tl.arange(num_classes, dtype=labels.dtype)
    mask = tl.reshape(labels, tuple(labels.shape) + (1,)) == classes
    return tl.where(mask, tl.ones((), dtype=dtype), tl.zeros((), dtype=dtype))


def _sparse_labels(y_true, y_pred):
    """Keras accepts sparse labels shaped like y_pred minus its last axis, or with a last axis of 1."""
    y_true = tl.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = tl.reshape(y_true, tuple(y_true.shape[:-1]))
    return y_true


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y_true * log(p)) along ``axis``; ``p`` is normalised and clipped to [eps, 1 - eps]
    (probabilities), or ``softmax(y_pred)`` computed stably in one kernel (logits)."""
    y_pred = tl.asarray(y_pred)
    y_true = tl.asarray(y_true, dtype=y_pred.dtype)
    if label_smoothing:
        num_classes = y_pred.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    if from_logits:
        return tl.softmax_cross_entropy(y_pred, y_true, axis=axis)
    p = y_pred / tl.sum(y_pred, axis=axis, keepdims=True)
    p = tl.clip(p, EPSILON, 1.0 - EPSILON)
    return -tl.sum(y_true * tl.log(p), axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """Categorical cross-entropy with integer labels (no one-hot needed)."""
    y_pred = tl.asarray(y_pred)
    labels = _sparse_labels(y_true, y_pred)
    if from_logits and axis in (-1, y_pred.ndim - 1):
        return tl.sparse_softmax_cross_entropy(y_pred, labels)
    onehot = _one_hot(labels, y_pred.shape[axis], y_pred.dtype)
    return categorical_crossentropy(onehot, y_pred, from_logits=from_logits, axis=axis)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over the last axis of -(y log p + (1 - y) log(1 - p)), p clipped to [eps, 1 - eps];
    with logits, the exact log-sigmoid form (one fused kernel either way)."""
    y_pred = tl.asarray(y_pred)
    if axis not in (-1, y_pred.ndim - 1):
        raise ValueError(f"binary_crossentropy: only the last axis is supported, got axis={axis}")
    y_true = tl.asarray(y_true, dtype=y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return tl.binary_cross_entropy(y_pred, y_true, from_logits=from_logits)


def mean_squared_error(y_true, y_pred):
    """mean(square(y_true - y_pred), axis=-1), in one fused kernel."""
    y_pred = tl.asarray(y_pred)
    return tl.mean_squared_error(y_pred, tl.asarray(y_true, dtype=y_pred.dtype))


mse = MSE = mean_squared_error


def squeeze_or_expand_to_same_rank(x1, x2):
    """Keras's rank matching of values and weights whose ranks differ by a trailing axis of 1:
    a rank-1 tensor gains the axis, a higher-rank one loses it."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1:
            x2 = tl.expand_dims(x2, -1)
        else:
            x1 = tl.squeeze(x1, axis=-1)
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1:
            x1 = tl.expand_dims(x1, -1)
        else:
            x2 = tl.squeeze(x2, axis=-1)
    return x1, x2


# -- classes -----------------------------------------------------------------------------------
class Loss:
    """Base class: ``fn(y_true, y_pred) -> per-sample tensor``, reduced to its batch mean."""

    #: Set by subclasses that are usually given probabilities: the labels are integer class ids.
    sparse_labels = False

    def __init__(self, name: Optional[str] = None, reduction: str = "sum_over_batch_size"):
        if reduction not in ("sum_over_batch_size", "sum", "none", None):
            raise ValueError(
                f"Invalid reduction {reduction!r}: expected 'sum_over_batch_size', 'sum' or 'none'"
            )
        self.name = name or _snake_name(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def reduce(self, values):
        if self.reduction == "sum_over_batch_size":
            return tl.mean(values)
        if self.reduction == "sum":
            return tl.sum(values)
        return values

    def reduce_weighted(self, values, sample_weight=None):
        """Per-sample ``values`` times ``sample_weight`` (ranks matched as Keras does), reduced."""
        if sample_weight is not None:
            values, weight = squeeze_or_expand_to_same_rank(values, tl.asarray(sample_weight, dtype=values.dtype))
            values = values * weight
        return self.reduce(values)

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self.reduce_weighted(self.call(y_true, y_pred), sample_weight)

    def fused_with(self, activation: Optional[str]) -> Optional[Callable]:
        """A per-sample function of (y_true, logits) equal to this loss applied to
        ``activation(logits)``, when a fused form exists; else None."""
        return None

    def get_config(self) -> Dict:
        return {"name": self.name, "reduction": self.reduction}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """Wraps a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn: Callable, name: Optional[str] = None, reduction="sum_over_batch_size", **kwargs):
        super().__init__(name or getattr(fn, "__name__", None), reduction)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


class _LogitsFusable(LossFunctionWrapper):
    """A cross-entropy of probabilities that has an exact, stable form in terms of the logits
    of ``fusable_activation``: the same function with ``from_logits=True``."""

    fusable_activation: Optional[str] = None

    def fused_with(self, activation):
        if activation != self.fusable_activation or self._fn_kwargs.get("from_logits"):
            return None
        fn, kwargs = self.fn, dict(self._fn_kwargs, from_logits=True)
        return functools.partial(fn, **kwargs)  # (y_true, logits); a partial pickles with the model

    @property
    def from_logits(self) -> bool:
        return bool(self._fn_kwargs.get("from_logits"))


class CategoricalCrossentropy(_LogitsFusable):
    fusable_activation = "softmax"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy"):
        super().__init__(categorical_crossentropy, name, reduction, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_LogitsFusable):
    fusable_activation = "softmax"
    sparse_labels = True

    def __init__(self, from_logits=False, reduction="sum_over_batch_size", name="sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, name, reduction, from_logits=from_logits)


class BinaryCrossentropy(_LogitsFusable):
    fusable_activation = "sigmoid"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy"):
        super().__init__(binary_crossentropy, name, reduction, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class MeanSquaredError(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(mean_squared_error, name, reduction)


def _loss_class(class_name, fn, default_name, **defaults):
    """A LossFunctionWrapper class over ``fn`` taking ``reduction``, ``name`` and the keyword
    arguments ``defaults`` (Keras's defaults)."""
    def __init__(self, reduction="sum_over_batch_size", name=default_name, **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(f"{class_name}: unexpected argument(s) {sorted(unknown)}")
        LossFunctionWrapper.__init__(self, fn, name, reduction, **{**defaults, **kwargs})

    return type(class_name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": fn.__doc__,
                                                     "__module__": __name__, "__qualname__": class_name})


MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _loss_class("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                          "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _loss_class("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                          "mean_squared_logarithmic_error")
Huber = _loss_class("Huber", huber, "huber_loss", delta=1.0)
LogCosh = _loss_class("LogCosh", log_cosh, "log_cosh")
Hinge = _loss_class("Hinge", hinge, "hinge")
SquaredHinge = _loss_class("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _loss_class("CategoricalHinge", categorical_hinge, "categorical_hinge")
KLDivergence = _loss_class("KLDivergence", kl_divergence, "kl_divergence")
Poisson = _loss_class("Poisson", poisson, "poisson")
CosineSimilarity = _loss_class("CosineSimilarity", cosine_similarity, "cosine_similarity", axis=-1)
BinaryFocalCrossentropy = _loss_class("BinaryFocalCrossentropy", binary_focal_crossentropy,
                                      "binary_focal_crossentropy", apply_class_balancing=False, alpha=0.25,
                                      gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1)


def _snake_name(name: str) -> str:
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(c.lower())
    return "".join(out)


_CLASSES = {
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError, "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError, "msle": MeanSquaredLogarithmicError,
    "huber": Huber, "huber_loss": Huber, "log_cosh": LogCosh, "logcosh": LogCosh, "hinge": Hinge,
    "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge, "kl_divergence": KLDivergence,
    "kld": KLDivergence, "kullback_leibler_divergence": KLDivergence, "poisson": Poisson,
    "cosine_similarity": CosineSimilarity, "binary_focal_crossentropy": BinaryFocalCrossentropy,
}
_FUNCTIONS = {
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError, mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError, huber: Huber, log_cosh: LogCosh, hinge: Hinge,
    squared_hinge: SquaredHinge, categorical_hinge: CategoricalHinge, kl_divergence: KLDivergence, poisson: Poisson,
    cosine_similarity: CosineSimilarity, binary_focal_crossentropy: BinaryFocalCrossentropy,
}


def get(identifier) -> Loss:
    """A Loss object from a name, one of this module's functions or classes, a Loss, or any
    callable ``fn(y_true, y_pred)`` returning per-sample values."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return by_name("loss", identifier, _CLASSES)()
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
