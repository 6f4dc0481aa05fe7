"""The compiled step for a plain stack of Dense layers (``_core._DenseStack``,
csrc/train/dense_stack.h), behind the trainer's function interface.

The trainer asks once per compile (``train_function`` / ``test_function`` /
``predict_function``) whether it applies, from public attributes only: the layers are all
``Dense`` (hidden activations relu or linear, the last softmax or linear, one float dtype, every
weight trainable for training), the loss is categorical or sparse categorical cross-entropy
matching the last activation (``loss.get_config()``: default reduction, no label smoothing,
last axis), and the metrics are accuracies. The function it returns takes the trainer's
``Batch``es: one C++ call does a batch's forward and backward pass with the GIL released, reading
the rows in place; the optimizer then applies the gradients exactly as the generic path does,
and the loss tracker and metrics are updated through their public methods. Data it cannot take
(another dtype, sample weights) goes to the generic ``fallback`` function, which computes the
same values. To be replaced by the captured step (issue 12).
"""

from __future__ import annotations

from typing import Callable, List, Optional

import numpy as np

import tensorlet as tl

from . import _core
from . import losses as losses_module
from . import metrics as metrics_module
from .layers.dense import Dense

__all__ = ["train_function", "test_function", "predict_function"]

_HIT_METRICS = (metrics_module.CategoricalAccuracy, metrics_module.SparseCategoricalAccuracy)
_CROSS_ENTROPIES = (losses_module.CategoricalCrossentropy, losses_module.SparseCategoricalCrossentropy)

# Rows per compiled evaluate/predict call when batches may be grouped: big enough for GEMMs at
# full speed and few calls, small enough for a modest workspace (4096 x 512 float32 = 8 MiB).
EVAL_GROUP_ROWS = 4096


def _layer_weights(layers) -> List:
    return [w for layer in layers for w in ([layer.kernel] + ([layer.bias] if layer.use_bias else []))]


def _stack_output(layers) -> Optional[str]:
    """'softmax' or 'linear' (the last activation) when the layers are a built stack of Dense
    layers with relu or linear hidden activations and one float dtype, else None."""
    if not layers or any(type(layer) is not Dense or layer.kernel is None for layer in layers):
        return None
    activations = [layer.get_config()["activation"] for layer in layers]
    if any(a not in ("relu", "linear") for a in activations[:-1]) or activations[-1] not in ("softmax", "linear"):
        return None
    dtype = layers[0].kernel.dtype
    if dtype not in (np.float32, np.float64) or any(w.dtype != dtype for w in _layer_weights(layers)):
        return None
    return activations[-1]


def _loss_kind(loss, output: str) -> Optional[str]:
    """'categorical' or 'sparse' when the loss is softmax cross-entropy on the stack's output."""
    if type(loss) not in _CROSS_ENTROPIES:
        return None
    config = loss.get_config()
    if config["reduction"] != "sum_over_batch_size" or config.get("label_smoothing", 0.0) or \
            config.get("axis", -1) != -1:
        return None
    from_logits = bool(config["from_logits"])
    if not ((output == "softmax" and not from_logits) or (output == "linear" and from_logits)):
        return None
    return "sparse" if loss.sparse_labels else "categorical"


def _specs(layers):
    return [(layer.kernel, layer.bias, layer.get_config()["activation"] == "relu") for layer in layers]


def _data_fits(kind: str, dtype, arrays) -> bool:
    """x is (n, features) of the weights' dtype; y one-hot rows of that dtype or int64 ids; no
    sample weights."""
    if len(arrays) != (1 if kind == "none" else 2):
        return False
    x = arrays[0]
    if x.ndim != 2 or x.dtype != dtype or not x.is_contiguous:
        return False
    if kind == "none":
        return True
    y = arrays[1]
    if not y.is_contiguous:
        return False
    if kind == "sparse":
        return y.ndim == 1 and y.dtype == np.int64
    return y.ndim == 2 and y.dtype == dtype


class _StackFunction:
    """Shared parts: the stack (made on the first batch, remade for a larger one) and the
    fallback for data the stack cannot take."""

    def __init__(self, layers, kind: str, output: str, training: bool, fallback: Callable, group: bool):
        self._specs = _specs(layers)
        self._kind, self._output, self._training = kind, output, training
        self._dtype = layers[0].kernel.dtype
        self._fallback = fallback
        self._group = group
        self._stack = None
        self._grads = None

    def _stack_for(self, rows: int):
        if self._stack is None or rows > self._stack.max_batch:
            self._stack = _core._DenseStack(self._specs, self._kind, rows, self._training, self._output)
            self._grads = list(self._stack.grads) if self._training else None
        return self._stack

    def fits(self, arrays) -> bool:
        return _data_fits(self._kind, self._dtype, arrays)

    def takes(self, batch) -> bool:
        """Whether the stack can take the batch's arrays (checked once per iterator)."""
        verdict = batch.notes.get(self)
        if verdict is None:
            verdict = batch.notes[self] = self.fits(batch.arrays)
        return verdict

    def steps_per_execution(self, arrays, batch_size: int) -> int:
        if self._group and self.fits(arrays):
            return max(1, EVAL_GROUP_ROWS // batch_size)
        return 1


class _Metrics:
    """The loss tracker and accuracies a stack step updates with its loss and hit count."""

    def __init__(self, loss_tracker, metrics, results: Callable):
        self._loss_tracker, self._metrics, self._results = loss_tracker, list(metrics), results

    def record(self, loss: float, hits: int, rows: int):
        self._loss_tracker.update_totals(loss * rows, rows)  # update_state(loss, sample_weight=rows)
        for metric in self._metrics:
            metric.update_totals(hits, rows)
        return self._results()


class _TrainFunction(_StackFunction):
    def __init__(self, layers, kind, output, metrics: _Metrics, optimizer, weights, fallback):
        super().__init__(layers, kind, output, True, fallback, group=False)
        self._metrics, self._optimizer, self._weights = metrics, optimizer, list(weights)

    def __call__(self, batch):
        if not self.takes(batch):
            return self._fallback(batch)
        stack = self._stack_for(batch.size)
        x, y = batch.arrays
        loss, hits, rows = stack.train_step(x, y, batch.index, batch.start, batch.stop)
        self._optimizer.apply(self._weights, self._grads)
        return self._metrics.record(loss, hits, rows)


class _TestFunction(_StackFunction):
    def __init__(self, layers, kind, output, metrics: _Metrics, fallback):
        super().__init__(layers, kind, output, False, fallback, group=True)
        self._metrics = metrics

    def __call__(self, batch):
        if not self.takes(batch):
            return self._fallback(batch)
        x, y = batch.arrays
        loss, hits, rows = self._stack_for(batch.size).test_step(x, y, batch.start, batch.stop)
        return self._metrics.record(loss, hits, rows)


class _PredictFunction(_StackFunction):
    def __init__(self, layers, output, fallback):
        super().__init__(layers, "none", output, False, fallback, group=True)
        self._units = layers[-1].units

    def __call__(self, batch):
        if batch.size == 0 or not self.takes(batch):
            return self._fallback(batch)
        x = batch.arrays[0][batch.start:batch.stop]  # contiguous rows: a view
        out = tl.empty((batch.size, self._units), dtype=self._dtype)
        self._stack_for(batch.size).predict(x, 0, batch.size, out)
        return out


def _loss_and_output(layers, loss, metrics) -> Optional[tuple]:
    output = _stack_output(layers)
    if output is None:
        return None
    kind = _loss_kind(loss, output)
    if kind is None or any(type(m) not in _HIT_METRICS for m in metrics):
        return None
    return kind, output


def train_function(layers, loss, metrics, loss_tracker, optimizer, trainable_weights, results: Callable,
                   fallback: Callable):
    """The compiled train function for ``layers`` when it applies (every weight of the stack
    is trainable, in the trainer's order), else None."""
    found = _loss_and_output(layers, loss, metrics)
    if found is None:
        return None
    stack_weights = _layer_weights(layers)
    if len(stack_weights) != len(trainable_weights) or \
            any(a is not b for a, b in zip(stack_weights, trainable_weights)):
        return None
    kind, output = found
    return _TrainFunction(layers, kind, output, _Metrics(loss_tracker, metrics, results), optimizer,
                          trainable_weights, fallback)


def test_function(layers, loss, metrics, loss_tracker, results: Callable, fallback: Callable):
    """The compiled test function for ``layers`` when it applies, else None."""
    found = _loss_and_output(layers, loss, metrics)
    if found is None:
        return None
    kind, output = found
    return _TestFunction(layers, kind, output, _Metrics(loss_tracker, metrics, results), fallback)


def predict_function(layers, fallback: Callable):
    """The compiled predict function for ``layers`` when it applies, else None."""
    output = _stack_output(layers)
    if output is None:
        return None
    return _PredictFunction(layers, output, fallback)
