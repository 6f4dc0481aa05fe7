"""The compiled training step that ``Sequential.fit`` uses for a plain stack of Dense layers.

When a model is nothing but ``Dense`` layers (hidden activations relu or linear) ending in a
softmax (or linear logits) trained with categorical or sparse categorical cross-entropy, and
its metrics are accuracies, one C++ call (``_core._DenseStack``, csrc/train/dense_stack.h) does
the whole forward and backward pass of a batch with the GIL released and no autograd graph;
the optimizer then applies the gradients exactly as on the generic path. Anything else (other
layers, losses, metrics, an overridden ``train_step``, ``compile(run_eagerly=True)``) runs the
generic path, which computes the same values.
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from . import _core
from . import losses as losses_module
from . import metrics as metrics_module
from .layers.dense import Dense

_HIT_METRICS = (metrics_module.CategoricalAccuracy, metrics_module.SparseCategoricalAccuracy)


def _loss_kind(loss, last_activation: str) -> Optional[str]:
    """'categorical' or 'sparse' when the loss is softmax cross-entropy on the last layer."""
    if type(loss) not in (losses_module.CategoricalCrossentropy, losses_module.SparseCategoricalCrossentropy):
        return None
    kw = loss._fn_kwargs
    if loss.reduction != "sum_over_batch_size" or kw.get("label_smoothing", 0.0) or kw.get("axis", -1) != -1:
        return None
    from_logits = bool(kw.get("from_logits"))
    if not ((last_activation == "softmax" and not from_logits) or (last_activation == "linear" and from_logits)):
        return None
    return "sparse" if loss.sparse_labels else "categorical"


class DenseStackStep:
    """Runs ``Sequential``'s train and test steps for an eligible model (see ``plan``)."""

    def __init__(self, model, kind: str, batch_size: int):
        layers = model.layers
        specs = [(layer.kernel, layer.bias, layer.activation_name == "relu") for layer in layers]
        self._stack = _core._DenseStack(specs, kind, batch_size)
        self._kind, self._dtype = kind, layers[0].kernel.dtype
        self._grads = list(self._stack.grads)
        self._weights = model._train_weights
        self._model = model
        self._optimizer = model.optimizer

    def accepts(self, x_t, y_t, batch_size: int) -> bool:
        """Whether test steps on this data (validation data, say) can run here."""
        return batch_size <= self._stack.max_batch and _data_fits(self._kind, self._dtype, x_t, y_t)

    def train(self, x, y, index, start: int, stop: int):
        """One optimisation step on rows index[start:stop] (or start:stop); returns the logs."""
        loss, hits, rows = self._stack.train_step(x, y, index, start, stop)
        self._optimizer.apply(self._weights, self._grads)
        return self._record(loss, hits, rows)

    def test(self, x, y, start: int, stop: int):
        loss, hits, rows = self._stack.test_step(x, y, start, stop)
        return self._record(loss, hits, rows)

    def _record(self, loss: float, hits: int, rows: int):
        model = self._model
        model._loss_tracker.update_state(loss, rows)
        for metric in model.metrics:
            metric.total += hits
            metric.count += rows
        return model._logs()


def _model_kind(model) -> Optional[str]:
    """The stack's loss kind when the model and its compile settings qualify, else None."""
    from .models import Sequential

    if getattr(model, "run_eagerly", False) or getattr(model, "jit_compile", "auto") is False:
        return None
    cls = type(model)
    if cls.train_step is not Sequential.train_step or cls.test_step is not Sequential.test_step:
        return None
    layers = model.layers
    if not layers or not model.trainable or any(type(layer) is not Dense or not layer.trainable for layer in layers):
        return None
    if any(layer.activation_name not in ("relu", "linear") for layer in layers[:-1]):
        return None
    kind = _loss_kind(model.loss, layers[-1].activation_name)
    if kind is None or any(type(m) not in _HIT_METRICS for m in model.metrics):
        return None
    weights: List = []
    for layer in layers:
        weights += [layer.kernel] + ([layer.bias] if layer.use_bias else [])
    if len(weights) != len(model._train_weights) or any(a is not b for a, b in zip(weights, model._train_weights)):
        return None
    dtype = layers[0].kernel.dtype
    if dtype not in (np.float32, np.float64) or any(w.dtype != dtype for w in weights):
        return None
    return kind


def _data_fits(kind: str, dtype, x_t, y_t) -> bool:
    """x is (n, features) of the weights' dtype; y one-hot rows of that dtype or int64 ids."""
    if x_t.ndim != 2 or x_t.dtype != dtype or not x_t.is_contiguous or not y_t.is_contiguous:
        return False
    if kind == "sparse":
        return y_t.ndim == 1 and y_t.dtype == np.int64
    return y_t.ndim == 2 and y_t.dtype == dtype


def plan(model, x_t, y_t, batch_size: int) -> Optional[DenseStackStep]:
    """A DenseStackStep when the model, its compile settings and the data qualify, else None."""
    kind = _model_kind(model)
    if kind is None or not _data_fits(kind, model.layers[0].kernel.dtype, x_t, y_t):
        return None
    return DenseStackStep(model, kind, batch_size)
