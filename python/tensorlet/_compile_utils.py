"""What ``compile()`` makes from its arguments, as Keras 3's trainers/compile_utils.py:
``CompileLoss`` (the loss, and its fused form for the model's last activation) and
``CompileMetrics`` (the metrics, resolved against the first data's shapes, as one metric whose
``result()`` is a dict)."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

from . import losses as losses_module
from . import metrics as metrics_module

__all__ = ["CompileLoss", "CompileMetrics"]


def _mean_over_rows(loss) -> bool:
    fn = getattr(loss, "fn", None)
    return (type(loss).__module__.startswith("tensorlet.") and loss.reduction == "sum_over_batch_size"
            and (fn is None or getattr(fn, "__module__", "").startswith("tensorlet.")))


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
        return _mean_over_rows(self.loss)

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
                metric = metrics_module.get(m)
                if isinstance(m, str):
                    metric.name = m  # as Keras 3: metrics=["mae"] logs "mae"
                made.append(metric)
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


def _per_output(spec, names: List[str], what: str, required: bool = True) -> List:
    """``spec`` for each output: one value for all, a list in output order, or a dict by name."""
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(f"compile: {what} has keys {unknown} that are not outputs of the model; the outputs "
                             f"are {names}")
        if required and any(n not in spec for n in names):
            raise ValueError(f"compile: {what} has no entry for output(s) {[n for n in names if n not in spec]}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(names):
            raise ValueError(f"compile: {what} has {len(spec)} entries, but the model has {len(names)} outputs "
                             f"{names}")
        return list(spec)
    return [spec] * len(names)


class CompileLosses:
    """The compiled loss of a model with several outputs: ``sum(loss_weight_i * loss_i)``, each
    output's loss also tracked as ``<output>_loss``, as in Keras 3."""

    def __init__(self, loss, loss_weights, output_names: List[str]):
        self.output_names = list(output_names)
        self.losses = [None if spec is None else losses_module.get(spec)
                       for spec in _per_output(loss, self.output_names, "loss", required=False)]
        if all(loss is None for loss in self.losses):
            raise ValueError("compile: no loss for any output")
        weights = [1.0] * len(self.output_names) if loss_weights is None else \
            _per_output(loss_weights, self.output_names, "loss_weights")
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        self.trackers = [metrics_module.Mean(name=f"{n}_loss") for n in self.output_names]
        self.loss = self.losses  # per output, for the label checks

    def __call__(self, y_true, y_pred, sample_weight=None):
        from .layers.keras_tensor import flatten
        y_true, y_pred = flatten(y_true), flatten(y_pred)
        total = None
        for loss, weight, tracker, t, p in zip(self.losses, self.loss_weights, self.trackers, y_true, y_pred):
            if loss is None:
                continue
            value = loss(t, p, sample_weight)
            tracker.update_state(value, sample_weight=int(p.shape[0]))
            total = value * weight if total is None else total + value * weight
        return total

    def fused_with(self, activation):
        return None

    def rows_are_independent(self) -> bool:
        return all(loss is None or _mean_over_rows(loss) for loss in self.losses)


class MultiOutputMetrics(metrics_module.Metric):
    """One ``CompileMetrics`` per output, reported as ``<output>_<metric>``."""

    def __init__(self, metrics, losses: List, output_names: List[str], name: str = "compile_metrics"):
        super().__init__(name=name)
        per = _per_output(metrics, list(output_names), "metrics", required=False) if isinstance(metrics, dict) or (
            isinstance(metrics, (list, tuple)) and metrics and all(isinstance(m, (list, tuple)) or m is None
                                                                   for m in metrics)) else [metrics] * len(output_names)
        self.output_names = list(output_names)
        self._per_output = [None if not spec else CompileMetrics(spec, loss, name=f"{n}_metrics")
                            for spec, loss, n in zip(per, losses, output_names)]

    @property
    def metrics(self) -> List[metrics_module.Metric]:
        return [m for c in self._per_output if c is not None for m in c.metrics]

    @property
    def variables(self) -> List:
        return [v for c in self._per_output if c is not None for v in c.variables]

    @property
    def built(self) -> bool:
        return all(c is None or c.built for c in self._per_output)

    @built.setter
    def built(self, value) -> None:
        """Metric.__init__ sets it; this metric is built when each output's is."""

    def build(self, y_true_shapes, y_pred_shapes) -> None:
        for c, t, p in zip(self._per_output, y_true_shapes, y_pred_shapes):
            if c is not None:
                c.build(t, p)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        from .layers.keras_tensor import flatten
        for c, t, p in zip(self._per_output, flatten(y_true), flatten(y_pred)):
            if c is not None:
                c.update_state(t, p, sample_weight)

    def reset_state(self) -> None:
        for c in self._per_output:
            if c is not None:
                c.reset_state()

    def result(self) -> Dict:
        return {f"{n}_{k}": v for c, n in zip(self._per_output, self.output_names) if c is not None
                for k, v in c.result().items()}

    def rows_are_independent(self) -> bool:
        return all(c is None or c.rows_are_independent() for c in self._per_output)

    def names(self) -> List[str]:
        """The result keys in compile order."""
        return [f"{n}_{m.name}" for c, n in zip(self._per_output, self.output_names) if c is not None
                for m in c.metrics]
