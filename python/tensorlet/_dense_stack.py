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


def _specs(model):
    return [(layer.kernel, layer.bias, layer.activation_name == "relu") for layer in model.layers]


def _stack_for(model, kind: str, rows: int, training: bool, output: str):
    """A _core._DenseStack for the model. Training makes a fresh one per fit; evaluation and
    predict reuse the model's last one while the weights are the same objects, so repeated
    evaluate/predict calls do not allocate (and page-fault in) a new workspace each time."""
    specs = _specs(model)
    if training:
        return _core._DenseStack(specs, kind, rows, True, output)
    weights = [w for spec in specs for w in spec[:2]]
    key = (rows, output, tuple(spec[2] for spec in specs))
    cache = model.__dict__.setdefault("_dense_stack_cache", {})  # one entry per loss kind
    cached = cache.get(kind)
    # The cache keeps the weight objects themselves, so identity comparisons cannot be fooled
    # by a recycled id().
    if cached is not None and cached[0] == key and len(cached[1]) == len(weights) and \
            all(a is b for a, b in zip(cached[1], weights)):
        return cached[2]
    stack = _core._DenseStack(specs, kind, rows, False, output)
    cache[kind] = (key, weights, stack)
    return stack


class DenseStackStep:
    """Runs ``Sequential``'s train and test steps for an eligible model (see ``plan``)."""

    def __init__(self, model, kind: str, batch_size: int, training: bool):
        layers = model.layers
        self._stack = _stack_for(model, kind, batch_size, training, layers[-1].activation_name)
        self._kind, self._dtype = kind, layers[0].kernel.dtype
        self._grads = list(self._stack.grads)
        self._weights = model._train_weights
        self._model = model
        self._optimizer = model.optimizer

    @property
    def max_batch(self) -> int:
        return self._stack.max_batch

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


def _stack_output(model) -> Optional[str]:
    """'softmax' or 'linear' (the last activation) when the model is a built stack of Dense
    layers with relu or linear hidden activations and one float dtype, else None."""
    layers = model.layers
    if not layers or getattr(model, "run_eagerly", False) or getattr(model, "jit_compile", "auto") is False:
        return None
    if any(type(layer) is not Dense or layer.kernel is None for layer in layers):
        return None
    if any(layer.activation_name not in ("relu", "linear") for layer in layers[:-1]):
        return None
    if layers[-1].activation_name not in ("softmax", "linear"):
        return None
    dtype = layers[0].kernel.dtype
    weights = [w for layer in layers for w in ([layer.kernel] + ([layer.bias] if layer.use_bias else []))]
    if dtype not in (np.float32, np.float64) or any(w.dtype != dtype for w in weights):
        return None
    return layers[-1].activation_name


def _model_kind(model, training: bool) -> Optional[str]:
    """The stack's loss kind when the model and its compile settings qualify, else None."""
    from .models import Sequential

    cls = type(model)
    if cls.train_step is not Sequential.train_step or cls.test_step is not Sequential.test_step:
        return None
    output = _stack_output(model)
    if output is None:
        return None
    kind = _loss_kind(model.loss, output)
    if kind is None or any(type(m) not in _HIT_METRICS for m in model.metrics):
        return None
    if training:
        layers = model.layers
        if not model.trainable or any(not layer.trainable for layer in layers):
            return None
        weights = [w for layer in layers for w in ([layer.kernel] + ([layer.bias] if layer.use_bias else []))]
        if len(weights) != len(model._train_weights) or any(a is not b for a, b in zip(weights, model._train_weights)):
            return None
    return kind


def _data_fits(kind: str, dtype, x_t, y_t) -> bool:
    """x is (n, features) of the weights' dtype; y one-hot rows of that dtype or int64 ids."""
    if x_t.ndim != 2 or x_t.dtype != dtype or not x_t.is_contiguous or not y_t.is_contiguous:
        return False
    if kind == "sparse":
        return y_t.ndim == 1 and y_t.dtype == np.int64
    return y_t.ndim == 2 and y_t.dtype == dtype


def plan(model, x_t, y_t, batch_size: int, training: bool = True) -> Optional[DenseStackStep]:
    """A DenseStackStep for fit (training) or evaluate when the model, its compile settings and
    the data qualify, else None."""
    kind = _model_kind(model, training)
    if kind is None or not _data_fits(kind, model.layers[0].kernel.dtype, x_t, y_t):
        return None
    return DenseStackStep(model, kind, batch_size, training)


def predictor(model, x_t, batch_size: int):
    """A function predict(start, stop, out) writing the model's output rows, or None when the
    model (or an overridden predict_step) needs the generic path."""
    from .models import Sequential

    if type(model).predict_step is not Sequential.predict_step:
        return None
    output = _stack_output(model)
    if output is None or x_t.ndim != 2 or x_t.dtype != model.layers[0].kernel.dtype or not x_t.is_contiguous:
        return None
    stack = _stack_for(model, "none", min(batch_size, x_t.shape[0]), False, output)
    return lambda start, stop, out: stack.predict(x_t, start, stop, out)
