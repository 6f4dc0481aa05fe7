"""Metrics with Keras 3's names: accuracy variants and running means.

A metric accumulates over batches (``update_state``) into state tensors it owns and reports
``result()`` as a 0-d tensor; everything is computed by tensor ops in the core, so nothing
crosses into Python until someone reads a result.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

import numpy as np

import tensorlet as tl

from ._lookup import by_name
from .losses import squeeze_or_expand_to_same_rank

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
    """Base class: ``update_state(...)``, ``result()``, ``reset_state()``, as Keras 3's.

    The state lives in tensors made by ``add_variable`` in ``__init__`` and updated in place by
    tensor ops, so a training step that updates metrics is tensor ops from end to end (nothing
    crosses into Python per batch; a recorded step replays the updates). ``result()`` is a
    0-d tensor; ``float(metric.result())`` reads it."""

    def __init__(self, name: Optional[str] = None, dtype=None):
        self.name = name or type(self).__name__.lower()
        self.dtype = np.dtype(dtype or "float32")
        self._variables: List = []

    def add_variable(self, shape=(), initializer="zeros", dtype=None, name: Optional[str] = None):
        """A state tensor (zeros: the only initializer metrics need), reset by ``reset_state``."""
        if initializer != "zeros":
            raise ValueError(f"Metric {self.name!r}: state variables start at zeros, got initializer {initializer!r}")
        variable = tl.zeros(tuple(shape), dtype=dtype or self.dtype)
        self._variables.append(variable)
        return variable

    @property
    def variables(self) -> List:
        return list(self._variables)

    def reset_state(self) -> None:
        """Zeroes every state tensor in place (the tensors stay the same objects)."""
        for variable in self._variables:
            variable.fill(0)

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def get_config(self) -> Dict:
        return {"name": self.name, "dtype": self.dtype.name}

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _mean_over_trailing_axes(t, first: int):
    return tl.mean(t, axis=tuple(range(first, t.ndim))) if t.ndim > first else t


class Mean(Metric):
    """The running (optionally weighted) mean of the values given to ``update_state``, by
    Keras's formula: values are reduced to one per sample (mean over the other axes), then
    ``total += sum(values * sample_weight)`` and ``count += sum(sample_weight)`` (or the number
    of samples); ``result() = total / count`` (0 before any update)."""

    def __init__(self, name: Optional[str] = None, dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_totals(self, total, count) -> None:
        """Adds a sum of per-sample values and the number (or total weight) of samples it covers:
        what ``update_state`` does once it has reduced a batch. Numbers or 0-d tensors."""
        # In place on the state tensors, outside any autograd graph.
        if isinstance(total, tl.Tensor):
            total = total.detach()
        if isinstance(count, tl.Tensor):
            count = count.detach()
        self.total += total
        self.count += count

    def update_state(self, values, sample_weight=None):
        if isinstance(values, (int, float)) and (sample_weight is None or isinstance(sample_weight, (int, float))):
            # Plain numbers (a loss read by a caller, say): the same formula without tensors.
            weight = 1.0 if sample_weight is None else float(sample_weight)
            return self.update_totals(float(values) * weight, weight)
        with tl.no_grad():
            values = tl.asarray(values).detach().astype(self.dtype, copy=False)
            if sample_weight is None:
                values = _mean_over_trailing_axes(values, 1)
                return self.update_totals(tl.sum(values), values.shape[0] if values.ndim else 1)
            weight = tl.asarray(sample_weight).detach().astype(self.dtype, copy=False)
            values, weight = squeeze_or_expand_to_same_rank(values, weight)
            values = _mean_over_trailing_axes(values, weight.ndim)
            weight = tl.broadcast_to(weight, values.shape)
            values = _mean_over_trailing_axes(values * weight, 1)
            weight = _mean_over_trailing_axes(weight, 1)
            self.update_totals(tl.sum(values), tl.sum(weight))

    def result(self):
        count = self.count
        return tl.where(count != 0, self.total / count, 0.0)


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred)`` over all samples seen."""

    def __init__(self, fn: Callable, name: Optional[str] = None, dtype=None, **kwargs):
        super().__init__(name or fn.__name__, dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        with tl.no_grad():
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, sample_weight)

    def get_config(self):
        return {**super().get_config(), **self._fn_kwargs}


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
