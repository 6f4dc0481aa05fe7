"""Metrics with Keras 3's names: accuracy variants and running means.

A metric accumulates over batches (``update_state``) and reports a Python float
(``result()``); the per-sample values are computed by tensor ops in the core and only their
sum crosses into Python.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional

import tensorlet as tl

from ._lookup import by_name

__all__ = [
    "Metric", "Mean", "MeanMetricWrapper", "Accuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "BinaryAccuracy", "accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy",
    "get", "resolve_accuracy",
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


# -- stateful metrics --------------------------------------------------------------------------
class Metric:
    """Base class: ``update_state(...)``, ``result() -> float``, ``reset_state()``."""

    #: Final activations this metric is invariant to: it may then be given the logits.
    logit_invariant_for = ()

    def __init__(self, name: Optional[str] = None, dtype="float32"):
        self.name = name or type(self).__name__.lower()
        self.dtype = dtype
        self.reset_state()

    def reset_state(self) -> None:
        raise NotImplementedError

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def get_config(self) -> Dict:
        return {"name": self.name}

    def __call__(self, *args, **kwargs) -> float:
        self.update_state(*args, **kwargs)
        return self.result()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The running (optionally weighted) mean of the values given to ``update_state``."""

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        if sample_weight is None:
            if isinstance(values, (int, float)):
                self.total += float(values)
                self.count += 1.0
                return
            values = tl.asarray(values)
            self.total += float(tl.sum(values))
            self.count += float(values.size)
        else:
            if isinstance(values, (int, float)) and isinstance(sample_weight, (int, float)):
                self.total += float(values) * sample_weight
                self.count += float(sample_weight)
                return
            values = tl.asarray(values)
            weight = tl.asarray(sample_weight, dtype=values.dtype)
            self.total += float(tl.sum(values * weight))
            self.count += float(tl.sum(tl.broadcast_to(weight, values.shape)))

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred)`` over all samples seen."""

    def __init__(self, fn: Callable, name: Optional[str] = None, dtype="float32", **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name or fn.__name__, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        return {"name": self.name, **self._fn_kwargs}


class _HitRate(MeanMetricWrapper):
    """An accuracy: the fraction of right predictions, counted from a bool tensor of hits (one
    reduction and one number into Python per batch)."""

    _hits = staticmethod(_exact_hits)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            return super().update_state(y_true, y_pred, sample_weight)
        hits = self._hits(y_true, y_pred, **self._fn_kwargs)
        samples = hits.shape[0] if hits.ndim else 1
        if samples:
            self.total += float(tl.sum(hits)) * samples / hits.size
            self.count += samples


class Accuracy(_HitRate):
    def __init__(self, name="accuracy", dtype="float32"):
        super().__init__(accuracy, name, dtype)


class CategoricalAccuracy(_HitRate):
    logit_invariant_for = ("softmax",)
    _hits = staticmethod(_categorical_hits)

    def __init__(self, name="categorical_accuracy", dtype="float32"):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(_HitRate):
    logit_invariant_for = ("softmax",)
    _hits = staticmethod(_sparse_categorical_hits)

    def __init__(self, name="sparse_categorical_accuracy", dtype="float32"):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class BinaryAccuracy(_HitRate):
    _hits = staticmethod(_binary_hits)

    def __init__(self, name="binary_accuracy", dtype="float32", threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)


_CLASSES = {
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy,
}
_FUNCTIONS = {
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    binary_accuracy: BinaryAccuracy,
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
