"""Metrics with Keras 3's names: accuracies, running means, and (from _metrics_catalog) the
regression, confusion-matrix, top-k, R2 and F-score metrics.

A metric accumulates over batches (``update_state``) into state tensors it owns and reports
``result()`` as a 0-d tensor; everything is computed by tensor ops in the core, so nothing
crosses into Python until someone reads a result.
"""

from __future__ import annotations

import tensorlet as tl

from ._lookup import by_name
from ._metric_base import Mean, MeanMetricWrapper, Metric
from ._metrics_catalog import (AUC, CategoricalHinge, CosineSimilarity, F1Score, FBetaScore, Hinge, KLDivergence,
                               LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                               MeanSquaredLogarithmicError, Poisson, Precision, R2Score, Recall, RootMeanSquaredError,
                               SparseTopKCategoricalAccuracy, SquaredHinge, TopKCategoricalAccuracy, cosine_similarity,
                               sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .losses import (mae, mape, mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                     mean_squared_logarithmic_error, mse, msle)

__all__ = [
    "Metric", "Mean", "MeanMetricWrapper", "Accuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "BinaryAccuracy", "accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy",
    "get", "resolve_accuracy", "AUC", "CategoricalHinge", "CosineSimilarity", "F1Score", "FBetaScore", "Hinge",
    "KLDivergence", "LogCoshError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredError",
    "MeanSquaredLogarithmicError", "Poisson", "Precision", "R2Score", "Recall", "RootMeanSquaredError",
    "SparseTopKCategoricalAccuracy", "SquaredHinge", "TopKCategoricalAccuracy", "cosine_similarity",
    "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy", "mae", "mape", "mse", "msle",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error",
]


# -- hits: a bool tensor, True where the prediction is right ------------------------------------
def _exact_hits(y_true, y_pred):
    return tl.asarray(y_true) == tl.asarray(y_pred)


def _categorical_hits(y_true, y_pred):
    return tl.argmax(tl.asarray(y_true), axis=-1) == tl.argmax(tl.asarray(y_pred), axis=-1)


def _sparse_categorical_hits(y_true, y_pred):
    y_pred = tl.asarray(y_pred)
    y_true = tl.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = tl.reshape(y_true, tuple(y_true.shape[:-1]))
    return y_true == tl.argmax(y_pred, axis=-1)


def _binary_hits(y_true, y_pred, threshold=0.5):
    """Per element (samples x outputs): y_true == (y_pred > threshold)."""
    y_pred = tl.asarray(y_pred)
    y_true = tl.asarray(y_true, dtype=y_pred.dtype)
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = tl.reshape(y_true, tuple(y_true.shape) + (1,))
    return y_true == (y_pred > threshold).astype(y_pred.dtype)


# -- per-sample functions, as Keras's (1.0 where right, 0.0 where wrong) ------------------------
def accuracy(y_true, y_pred):
    """Exact equality of labels and predictions."""
    return _exact_hits(y_true, y_pred).astype(tl.float32)


def categorical_accuracy(y_true, y_pred):
    """argmax(y_true) == argmax(y_pred) along the last axis (one-hot labels)."""
    return _categorical_hits(y_true, y_pred).astype(tl.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """y_true == argmax(y_pred) along the last axis (integer labels, shape (n,) or (n, 1))."""
    return _sparse_categorical_hits(y_true, y_pred).astype(tl.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of y_true == (y_pred > threshold). Labels of shape (n,) are
    compared with predictions of shape (n, 1) per sample."""
    return tl.mean(_binary_hits(y_true, y_pred, threshold).astype(tl.float32), axis=-1)


class _HitRate(MeanMetricWrapper):
    """An accuracy: the fraction of right predictions, counted from a bool tensor of hits
    (one reduction per batch, added to the state tensors)."""

    _hits = staticmethod(_exact_hits)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            return super().update_state(y_true, y_pred, sample_weight)
        with tl.no_grad():
            hits = self._hits(y_true, y_pred, **self._fn_kwargs)
            samples = hits.shape[0] if hits.ndim else 1
            if not samples:
                return None
            total = tl.sum(hits, dtype=self.dtype)
            if hits.size != samples:  # several outputs per sample: the per-sample mean, summed
                total = total * (samples / hits.size)
            self.update_totals(total, samples)


class Accuracy(_HitRate):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class CategoricalAccuracy(_HitRate):
    _hits = staticmethod(_categorical_hits)

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(_HitRate):
    _hits = staticmethod(_sparse_categorical_hits)

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class BinaryAccuracy(_HitRate):
    _hits = staticmethod(_binary_hits)

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


_CLASSES = {
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError, "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError, "msle": MeanSquaredLogarithmicError,
    "root_mean_squared_error": RootMeanSquaredError, "logcosh": LogCoshError, "hinge": Hinge,
    "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge, "kl_divergence": KLDivergence,
    "poisson": Poisson, "cosine_similarity": CosineSimilarity,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "precision": Precision, "recall": Recall, "auc": AUC, "r2_score": R2Score, "f1_score": F1Score,
}
_FUNCTIONS = {
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    binary_accuracy: BinaryAccuracy,
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy, cosine_similarity: CosineSimilarity,
}
_ACCURACY_NAMES = ("accuracy", "acc")


def resolve_accuracy(name: str, y_true_shape, y_pred_shape, sparse_loss: bool, binary_loss: bool) -> Metric:
    """Keras's resolution of ``metrics=["accuracy"]``: binary accuracy for a single output
    unit or a binary loss, sparse categorical accuracy when the labels lack the class axis
    (or the loss is sparse), categorical accuracy otherwise. The metric keeps the name given."""
    y_true_rank, y_pred_rank = len(y_true_shape), len(y_pred_shape)
    if y_pred_shape[-1] == 1 or binary_loss:
        return BinaryAccuracy(name=name)
    if sparse_loss or y_true_rank < y_pred_rank or (y_true_rank == y_pred_rank and y_true_shape[-1] == 1):
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def is_accuracy_alias(identifier) -> bool:
    return isinstance(identifier, str) and identifier.lower() in _ACCURACY_NAMES


def get(identifier) -> Metric:
    """A Metric from a name, a function of this module, a Metric class or instance, or a
    callable ``fn(y_true, y_pred)`` returning per-sample values. ('accuracy' needs the loss and
    label shapes: models resolve it with ``resolve_accuracy``.)"""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        return by_name("metric", identifier, _CLASSES, extra_names=_ACCURACY_NAMES)()
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
