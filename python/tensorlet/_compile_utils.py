"""What ``compile()`` makes from its arguments, as Keras 3's trainers/compile_utils.py:
``CompileLoss`` (the loss, and its fused form for the model's last activation) and
``CompileMetrics`` (the metrics, resolved against the first data's shapes, as one metric whose
``result()`` is a dict)."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

from . import losses as losses_module
from . import metrics as metrics_module

__all__ = ["CompileLoss", "CompileMetrics"]


class CompileLoss:
    """The compiled loss: ``compile_loss(y_true, y_pred, sample_weight)`` is the reduced loss.

    ``fused_with(activation)`` is a function ``(y_true, logits, sample_weight)`` equal to the
    loss of ``activation(logits)``, computed by the core's fused, stable kernel, when the loss
    has such a form for that activation (softmax + cross-entropy, sigmoid + binary
    cross-entropy); else None."""

    def __init__(self, loss):
        self.loss: losses_module.Loss = losses_module.get(loss)
        self._fused: Dict[Optional[str], Optional[Callable]] = {}

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self.loss(y_true, y_pred, sample_weight)

    def __getstate__(self):
        # copy / pickle (of a compiled model): the fused functions are a cache, made again on use.
        return {**self.__dict__, "_fused": {}}

    def rows_are_independent(self) -> bool:
        """Whether the loss is a mean over rows of a per-row value (tensorlet's own function with
        Keras's default reduction), so batches can be grouped without changing its mean."""
        loss = self.loss
        fn = getattr(loss, "fn", None)
        return (type(loss).__module__.startswith("tensorlet.") and loss.reduction == "sum_over_batch_size"
                and (fn is None or getattr(fn, "__module__", "").startswith("tensorlet.")))

    def fused_with(self, activation: Optional[str]) -> Optional[Callable]:
        if activation not in self._fused:
            per_sample = self.loss.fused_with(activation) if activation is not None else None
            self._fused[activation] = None if per_sample is None else (
                lambda y_true, logits, sample_weight=None:
                self.loss.reduce_weighted(per_sample(y_true, logits), sample_weight))
        return self._fused[activation]


class CompileMetrics(metrics_module.Metric):
    """The compiled metrics as one metric. ``"accuracy"`` resolves, on the first update (or
    ``build``), to the accuracy that fits the labels, the output and the loss, as in Keras."""

    def __init__(self, metrics, loss: Optional[losses_module.Loss], name: str = "compile_metrics"):
        super().__init__(name=name)
        if isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        elif not isinstance(metrics, (list, tuple)):
            raise ValueError(f"metrics must be a list of metric names or objects, got {metrics!r}")
        for m in metrics:
            if not metrics_module.is_accuracy_alias(m):
                metrics_module.get(m)  # raises on unknown names now rather than in fit
        self._identifiers = list(metrics)
        self._loss = loss
        self._metrics: List[metrics_module.Metric] = []
        self.built = False

    def rows_are_independent(self) -> bool:
        """Whether every metric sums per-row counts or values (tensorlet's own metrics, by name
        or object), so batches can be grouped without changing the results."""
        def ours(obj) -> bool:
            return getattr(obj, "__module__", "").startswith("tensorlet.")
        return all(isinstance(m, str) or (ours(type(m)) if isinstance(m, metrics_module.Metric) else ours(m))
                   and ours(getattr(m, "_fn", None) or m) for m in self._identifiers)

    @property
    def metrics(self) -> List[metrics_module.Metric]:
        """The resolved metrics, in compile order (empty until built)."""
        return list(self._metrics)

    @property
    def variables(self) -> List:
        return [v for m in self._metrics for v in m.variables]

    def build(self, y_true_shape, y_pred_shape) -> None:
        made = []
        for m in self._identifiers:
            if metrics_module.is_accuracy_alias(m):
                made.append(metrics_module.resolve_accuracy(
                    m, tuple(y_true_shape), tuple(y_pred_shape), sparse_loss=getattr(self._loss, "sparse_labels", False),
                    binary_loss=isinstance(self._loss, losses_module.BinaryCrossentropy)))
            else:
                made.append(metrics_module.get(m))
        self._metrics = made
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if not self.built:
            self.build(y_true.shape, y_pred.shape)
        for metric in self._metrics:
            metric.update_state(y_true, y_pred, sample_weight)

    def reset_state(self) -> None:
        for metric in self._metrics:
            metric.reset_state()

    def result(self) -> Dict:
        return {metric.name: metric.result() for metric in self._metrics}
