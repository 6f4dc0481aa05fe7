"""The metrics' base classes: ``Metric`` (state tensors, reset, result), ``Mean`` (Keras's
weighted running mean) and ``MeanMetricWrapper`` (the running mean of a per-sample function)."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

import numpy as np

import tensorlet as tl

from .losses import squeeze_or_expand_to_same_rank

__all__ = ["Metric", "Mean", "MeanMetricWrapper"]


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


