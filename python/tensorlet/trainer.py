"""The Trainer mixin of ``Model``, shaped as Keras 3's ``keras.src.trainers.trainer.Trainer``
(with the torch backend's step, since tensorlet's autograd is PyTorch's kind).

- ``compile()`` stores the optimizer, a ``CompileLoss`` and a ``CompileMetrics``.
- ``make_train_function()`` / ``make_test_function()`` / ``make_predict_function()`` choose the
  function each loop calls per batch, once per compile (again only when the model's layers,
  trainable weights or flags changed): the eager ``train_step`` / ``test_step`` /
  ``predict_step``, recorded once per batch signature and then replayed in C++
  (``tensorlet.capture``) unless ``run_eagerly=True`` or ``jit_compile=False``.
- ``fit``, ``evaluate`` and ``predict`` are one loop each over those functions; validation
  inside ``fit`` is ``evaluate``'s loop.
- ``train_step(data)`` etc. take ``(x, y)`` or ``(x, y, sample_weight)`` tuples of tensors and
  return tensors: the loss tracker and the metrics keep their state in tensors updated by tensor
  ops, and nothing is read into Python inside a step. The progress bar and callbacks read the
  results when they need them.
"""

from __future__ import annotations

import contextlib
import math
from typing import Dict, List, Optional

import numpy as np

import tensorlet as tl

from . import _data
from . import distribution as distribution_module
from . import activations as activations_module
from . import callbacks as callbacks_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from ._compile_utils import CompileLoss, CompileLosses, CompileMetrics, MultiOutputMetrics
from .capture import CapturedFunction
from .layers.keras_tensor import flatten, map_structure, pack_sequence_as
from ._epoch_iterator import Batch, EpochIterator, first_dimension, first_leaf, take_rows, unpack_x_y_sample_weight

__all__ = ["Trainer", "StepFunction"]


class StepFunction:
    """A step function called on ``Batch``es: ``step(batch.data())``. The step takes and
    returns tensors (logs of 0-d tensors, or the predictions)."""

    def __init__(self, step):
        self.step = step
        # a captured step's replays gather each batch's rows straight into its plan's inputs
        self._call_rows = getattr(step, "call_rows", None)

    def steps_per_execution(self, arrays, batch_size: int) -> int:
        """How many batches one call can take for this data (one: each call is one step)."""
        return 1

    def __call__(self, batch: Batch):
        if self._call_rows is not None:
            return self._call_rows(batch)
        return self.step(batch.data())


# Rows one grouped evaluate/predict call takes: big enough that a replay runs its GEMMs at full
# speed with few calls, small enough for a modest workspace. Each group size keeps its plan and
# arena: at 4096 rows the chapter's evaluate and predict kept ~48 MiB more than the Dense-stack
# step did; 1024 rows (1024 x 512 float32 = 2 MiB) keep about what it kept, at the same speed
# (evaluate and predict of 10,000 MNIST images 80-86 ms either way) ...
GROUP_ROWS = 1024
# ... and no activation of the group above this many elements (32 MiB of float32): a convnet's
# 26x26x32 maps are 86 KiB a row, so its groups are a few hundred rows.
GROUP_ELEMENTS = 1 << 23
# Rows when the activations' sizes are unknown (a functional or subclassed model not yet called).
GROUP_ROWS_UNKNOWN = 256


class GroupedStepFunction(StepFunction):
    """A test or predict step whose rows are independent of each other, so several batches can
    form one call: the results are the same to float rounding (the loss is a mean over rows
    weighted by rows, the metrics sum counts), and a captured step replays once per group."""

    def __init__(self, step, row_elements):
        super().__init__(step)
        self._row_elements = row_elements  # input shape -> largest activation per row, or None

    def steps_per_execution(self, arrays, batch_size: int) -> int:
        elements = self._row_elements(tuple(arrays[0].shape)) if isinstance(arrays[0], tl.Tensor) else None
        rows = GROUP_ROWS_UNKNOWN if elements is None else min(GROUP_ROWS, GROUP_ELEMENTS // max(1, elements))
        return max(1, rows // batch_size)


def _is_ours(obj) -> bool:
    return type(obj).__module__.startswith("tensorlet.")


def _resolve_verbose(verbose) -> int:
    """0, 1 or 2 ('auto' is 1); 0 on the ranks other than 0 of a distribution."""
    if verbose == "auto":
        verbose = 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose) if distribution_module.is_chief() else 0


def _single(value, model):
    """A per-output setting given as a one-entry list or dict for a model with one output."""
    if isinstance(value, dict) and len(value) == 1:
        names = getattr(model, "output_names", None)
        if names is not None and list(value) != list(names):
            raise ValueError(f"compile: the keys {list(value)} are not the model's outputs {names}")
        return next(iter(value.values()))
    if isinstance(value, (list, tuple)) and len(value) == 1 and (
            isinstance(value[0], (list, tuple)) or getattr(model, "_outputs_struct", None) is not None):
        return value[0]
    return value


def _optional_positive(value, what: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer or None, got {value!r}")
    return int(value)


def _same_objects(a, b) -> bool:
    return a is not None and len(a) == len(b) and all(x is y for x, y in zip(a, b))


class Trainer:
    """compile / fit / evaluate / predict for ``Model``. Subclasses may override
    ``train_step``, ``test_step``, ``predict_step``, ``compute_loss`` and ``compute_metrics``."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.run_eagerly = False
        self.jit_compile = "auto"
        self.stop_training = False
        self.history = None
        self.train_function = None
        self.test_function = None
        self.predict_function = None
        self._compile_loss: Optional[CompileLoss] = None
        self._compile_metrics: Optional[CompileMetrics] = None
        self._loss_tracker: Optional[metrics_module.Mean] = None
        self._function_keys: Dict[str, tuple] = {}

    def __getstate__(self):
        """Copies and pickles leave out the chosen step functions (bound to this model, and
        possibly holding compiled workspaces); a copy chooses its own on first use."""
        state = dict(self.__dict__)
        state.update(train_function=None, test_function=None, predict_function=None, _function_keys={})
        return state

    # -- compile -----------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly: bool = False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True) -> None:
        """Sets the optimizer, the loss and the metrics (names or objects). For a model with
        several outputs, ``loss``, ``loss_weights`` and ``metrics`` may be lists (in output order)
        or dicts (by output name), as in Keras.

        Each step is recorded once per batch signature and then replayed in C++ without Python
        (``tensorlet.capture``); ``run_eagerly=True`` or ``jit_compile=False`` keeps every model
        on the op-by-op autograd path, as Keras's flags do."""
        if not isinstance(run_eagerly, bool):
            raise ValueError(f"run_eagerly must be True or False, got {run_eagerly!r}")
        if jit_compile not in ("auto", True, False):
            raise ValueError(f"jit_compile must be 'auto', True or False, got {jit_compile!r}")
        if weighted_metrics is not None:
            raise ValueError("compile: weighted_metrics is not supported by tensorlet (metrics already take "
                             "sample_weight into account)")
        if isinstance(steps_per_execution, bool) or not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(f"steps_per_execution must be a positive integer, got {steps_per_execution!r}")
        optimizer = optimizers_module.get(optimizer)
        names = self._output_names_for_compile()
        if names is None:
            loss, loss_weights, metrics = (_single(v, self) for v in (loss, loss_weights, metrics))
            if loss_weights is not None:
                raise ValueError("compile: loss_weights is for models with several outputs")
            compile_loss = None if loss is None else CompileLoss(loss)
            compile_metrics = None
            if metrics is not None:
                compile_metrics = CompileMetrics(metrics, compile_loss.loss if compile_loss else None)
        else:
            compile_loss = None if loss is None else CompileLosses(loss, loss_weights, names)
            compile_metrics = None
            if metrics is not None:
                compile_metrics = MultiOutputMetrics(metrics, compile_loss.losses if compile_loss else
                                                     [None] * len(names), names)
        self.optimizer = optimizer
        self.loss = compile_loss.loss if compile_loss else None
        self._compile_loss, self._compile_metrics = compile_loss, compile_metrics
        self._loss_tracker = metrics_module.Mean(name="loss")
        self.run_eagerly, self.jit_compile = run_eagerly, jit_compile
        self.train_function = self.test_function = self.predict_function = None
        self._function_keys = {}
        self.compiled = True

    def _output_names_for_compile(self):
        """The output names of a model with several outputs (None for one output)."""
        struct = getattr(self, "_outputs_struct", None)  # a functional model's outputs
        if isinstance(struct, dict) or (isinstance(struct, (list, tuple)) and len(self.outputs) > 1):
            return self.output_names
        return None

    def _assert_compile_called(self, what: str, needs_loss: bool = True) -> None:
        if not self.compiled:
            raise ValueError(f"You must call `compile()` before using the model ({what} of {self.name!r}).")
        if needs_loss and self._compile_loss is None:
            raise ValueError(f"No loss to compute: provide a `loss` argument in `compile()` before {what}.")

    @property
    def metrics(self) -> List[metrics_module.Metric]:
        """The loss tracker and the compiled metrics (one ``CompileMetrics``), as Keras 3's."""
        found = []
        if self.compiled:
            found.append(self._loss_tracker)
            if self._compile_metrics is not None:
                found.append(self._compile_metrics)
            if isinstance(self._compile_loss, CompileLosses):
                found += self._compile_loss.trackers
        return found

    @property
    def metrics_names(self) -> List[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    # -- the steps (overridable) ------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
        """The compiled loss of ``y_pred`` against ``y`` (a 0-d tensor)."""
        del x, training  # the default loss uses neither
        if self._compile_loss is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return self._with_penalties(self._compile_loss(y, y_pred, sample_weight))

    def _with_penalties(self, loss):
        """``loss`` plus the sum of ``self.losses`` (regularizer penalties, ``add_loss``), as
        Keras 3's compute_loss: tensor ops inside the step, so a captured step replays them."""
        for penalty in self.losses:
            loss = loss + tl.asarray(penalty).astype(loss.dtype)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> Dict:
        """Updates the compiled metrics; returns every metric's result (0-d tensors)."""
        del x
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self._metrics_result()

    def _metrics_result(self) -> Dict:
        """Every metric's current result as tensors, keyed by name in sorted order (Keras's logs)."""
        found = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                found.update(result)
            else:
                found[metric.name] = result
        return dict(sorted(found.items()))

    def get_metrics_result(self) -> Dict[str, float]:
        """Every metric's current result as Python floats."""
        return callbacks_module.pythonify_logs(self._metrics_result())

    def _output_and_loss(self, x, y, sample_weight, training: bool):
        """(y_pred, loss). When the loss has a fused form for the model's last activation (and
        ``compute_loss`` is not overridden), the loss is computed from the logits by the core's
        stable kernel; y_pred is still the activation's output, as the model returns it."""
        activation = self.output_activation
        fused = self._compile_loss.fused_with(activation) if self._compile_loss is not None else None
        if fused is not None and type(self).compute_loss is Trainer.compute_loss:
            logits = self.call_logits(x, training=training)
            with tl.no_grad():
                y_pred = activations_module.get(activation)(logits)
            return y_pred, self._with_penalties(fused(y, logits, sample_weight))
        y_pred = self(x, training=training)
        return y_pred, self.compute_loss(x, y, y_pred, sample_weight, training=training)

    def train_step(self, data) -> Dict:
        """One optimisation step on ``data`` = ``(x, y)`` or ``(x, y, sample_weight)``: forward,
        loss, backward, one optimizer step, metric updates. Returns the logs (0-d tensors)."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        weights = self.trainable_weights
        for w in weights:
            w.grad = None
        y_pred, loss = self._output_and_loss(x, y, sample_weight, training=True)
        self._loss_tracker.update_state(loss, sample_weight=first_dimension(x))
        if weights:  # gradients for the trainable weights only (a frozen layer's stay untouched)
            # Under a DataParallel, scaled by this rank's share of the global batch's rows.
            scale = distribution_module.gradient_scale()
            (loss if scale is None else loss * scale).backward(inputs=weights)
        self.optimizer.apply(weights)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data) -> Dict:
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with tl.no_grad():
            y_pred, loss = self._output_and_loss(x, y, sample_weight, training=False)
            self._loss_tracker.update_state(loss, sample_weight=first_dimension(x))
            return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        with tl.no_grad():
            return self(x, training=False)

    # -- choosing the step functions --------------------------------------------------------------
    def _function_key(self) -> tuple:
        """What the chosen functions depend on: the layers, the trainable weights and the flags
        (held as objects, compared by identity)."""
        # Under a distribution a captured train step records the optimizer's apply deferred (not
        # in the plan), so a plan recorded without one must not be replayed with one, or back.
        return (*self.layers, None, *self.trainable_weights, None, self.trainable, self.run_eagerly,
                self.jit_compile, self.optimizer, getattr(self.optimizer, "uses_fused_step", None),
                distribution_module.active() is not None)

    def _cached_function(self, kind: str, force: bool):
        """The cached function of ``kind`` unless ``force`` or the key changed; records the key."""
        key = self._function_key()
        cached = getattr(self, kind + "_function")
        if cached is not None and not force and _same_objects(self._function_keys.get(kind), key):
            return cached, key
        return None, key

    def _make_function(self, kind: str, force: bool, one_step):
        """The ``kind`` function: the cached one, else ``one_step`` (tensors in, tensors out) on
        each batch, captured and replayed unless compile asked for the eager path."""
        cached, key = self._cached_function(kind, force)
        if cached is not None:
            return cached
        captured = not self.run_eagerly and self.jit_compile is not False and (
            kind != "train" or self.optimizer.uses_fused_step)
        if captured:
            # Recorded once per batch signature, then replayed in C++ (tensorlet.capture). An
            # optimizer with an overridden _update runs Python per step: its train step stays eager.
            one_step = CapturedFunction(one_step)
        grouped = captured and self._rows_are_independent(kind)
        function = GroupedStepFunction(one_step, self._largest_row_activation) if grouped else StepFunction(one_step)
        setattr(self, kind + "_function", function)
        self._function_keys[kind] = key
        return function

    def _largest_row_activation(self, input_shape) -> Optional[int]:
        """The most elements any layer outputs per row for inputs of ``input_shape``: through
        the chain's shape inference for a Sequential, else from the layers' latest calls."""
        layers = list(getattr(self, "layers", ()))
        shape, largest = (None,) + tuple(input_shape[1:]), math.prod(input_shape[1:])
        try:
            for layer in layers:
                if type(self).__name__ == "Sequential":
                    shape = tuple(layer.compute_output_shape(shape))
                else:
                    shape = layer.__dict__.get("_last_output_shape")
                    if shape is None:
                        return None
                largest = max(largest, math.prod(shape[1:]))
        except (TypeError, ValueError, NotImplementedError, AttributeError):
            return None
        return largest

    def _rows_are_independent(self, kind: str) -> bool:
        """Whether a test or predict step's results over several batches equal those of one call
        on all their rows: only tensorlet's own steps, model class, layers (no Lambda),
        mean-reduced losses and metrics qualify; any user code might mix rows or batches."""
        # A subclass defined outside tensorlet, or a step set on the instance, may be anything.
        if kind == "train" or not _is_ours(self) or any(
                name in vars(self) for name in ("test_step", "predict_step", "compute_loss", "compute_metrics", "call")):
            return False
        layers = getattr(self, "layers", None)
        if layers is None or not all(_is_ours(layer) and type(layer).__name__ != "Lambda" for layer in layers):
            return False
        if kind == "predict":
            return True
        loss = self._compile_loss
        if loss is not None and not loss.rows_are_independent():
            return False
        return self._compile_metrics is None or self._compile_metrics.rows_are_independent()

    # Each make_*_function passes its step as the function run per batch: tensors in, tensors
    # out, so wrapping it (a recorded-and-replayed step, say) is a change to that argument only.
    def make_train_function(self, force: bool = False):
        return self._make_function("train", force, self.train_step)

    def make_test_function(self, force: bool = False):
        return self._make_function("test", force, self.test_step)

    def make_predict_function(self, force: bool = False):
        return self._make_function("predict", force, self.predict_step)

    # -- data ---------------------------------------------------------------------------------------
    def _prepare_sharded_data(self, dist, x, y, sample_weight, what: str):
        """``_prepare_data`` for evaluate and predict: under a DataParallel (``dist``) each rank
        checks its share of the rows for NaNs and infinities, and every rank warns about what all
        ranks found, as one process would."""
        if dist is None:
            return self._prepare_data(x, y, sample_weight, what)
        with dist.sharded_checks() as non_finite:
            arrays = self._prepare_data(x, y, sample_weight, what)
        dist.report_checks(non_finite)
        return arrays

    def _prepare_data(self, x, y, sample_weight, what: str):
        """Checks and converts the data for this model (building it); returns ``(x,)``,
        ``(x, y)`` or ``(x, y, sample_weight)``: tensors, or lists of them for a model with
        several inputs / outputs. Nothing changes when a check fails (except that a subclassed
        model may have been built by running it on one sample)."""
        x_t, x_shape = self._prepare_inputs(x)
        out_shape = self._checked_output_shape(x_shape if not isinstance(x_t, list) else None)
        if y is None:
            if sample_weight is not None:
                raise ValueError(f"{what}: sample_weight was given without labels (y is None)")
            self._build_for(x_shape, x_t)
            return (x_t,)
        if isinstance(self._compile_loss, CompileLosses):
            y_t, y_shape = self._prepare_multi_labels(y, out_shape)
        else:
            y_t, y_shape = _data.prepare_labels(y, self.loss, out_shape, self._output_layer_name())
        _data.check_same_length(x_shape, y_shape)
        arrays = (x_t, y_t)
        if sample_weight is not None:
            arrays += (_data.prepare_sample_weight(sample_weight, x_shape[0]),)
        self._build_for(x_shape, x_t)
        return arrays

    def _build_for(self, x_shape, x_t) -> None:
        # Only when not built yet: a user's own build() need not guard against a second call.
        if not isinstance(x_t, list) and not self.built:
            self.build((None,) + tuple(x_shape[1:]))

    def _prepare_inputs(self, x):
        """The input tensor (or, for a model with several inputs, the list of them in input
        order) and the shape of the first."""
        flatten_inputs = getattr(self, "flatten_inputs", None)
        if flatten_inputs is None or (len(self.inputs) == 1 and not isinstance(x, (dict, list, tuple))):
            # An integer Input (token ids for an Embedding) keeps its dtype; the rest is float32.
            return _data.to_input_tensor(x, "x", dtype=self.inputs[0].dtype if flatten_inputs else np.float32)
        tensors, first = [], None
        for i, (t, data) in enumerate(zip(self.inputs, flatten_inputs(x))):
            name = t._keras_history.layer.name
            tensor, shape = _data.to_input_tensor(data, f"x[{name!r}]", dtype=t.dtype)
            if len(shape) != len(t.shape) or any(d is not None and d != s for d, s in zip(t.shape[1:], shape[1:])):
                raise ValueError(f'Input "{name}" of model {self.name!r} expects data of shape {t.shape}, got '
                                 f"{tuple(shape)}")
            if first is not None:
                _data.check_same_length(first, shape, "x[0]", f"x[{name!r}]")
            first = first or shape
            tensors.append(tensor)
        if len(tensors) == 1:
            return tensors[0], first
        return tensors, first

    def _prepare_multi_labels(self, y, out_shapes):
        """Each output's labels, checked against its loss and shape, in output order."""
        from .layers.keras_tensor import flatten
        names = self._compile_loss.output_names
        if isinstance(y, dict):
            extra = [k for k in y if k not in names]
            if extra:
                raise ValueError(f"y has keys {extra} that are not outputs of the model; the outputs are {names}")
            ys = [y.get(n) for n in names]
        elif isinstance(y, (list, tuple)) and len(y) == len(names):
            ys = list(y)
        else:
            raise ValueError(f"The model has {len(names)} outputs {names}: pass y as a list of {len(names)} arrays "
                             f"or a dict keyed by output name")
        del out_shapes  # each output's own, in output order
        shapes = [t.shape for t in self.outputs]
        tensors, first = [], None
        for name, loss, shape, labels in zip(names, self._compile_loss.losses, shapes, ys):
            if labels is None:
                if loss is not None:
                    raise ValueError(f"No labels for output {name!r}, which has a loss")
                labels = np.zeros((0,), np.float32)
            tensor, got = _data.prepare_labels(labels, loss, shape, name)
            if first is not None and loss is not None:
                _data.check_same_length(first, got, f"y[{names[0]!r}]", f"y[{name!r}]")
            first = first or got
            tensors.append(tensor)
        return tensors, first

    def _prepare_validation(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, val_sample_weight)")
        x, y, sample_weight = unpack_x_y_sample_weight(tuple(validation_data))
        return self._prepare_data(x, y, sample_weight, "fit (validation_data)")

    def _symbolic_build(self, arrays) -> None:
        """Creates all state before the first step (Keras's ``_symbolic_build``): the compiled
        metrics for these labels and the model's output, the optimizer's slots, so no step
        creates state (a recorded step must only update it)."""
        if self._compile_metrics is not None and not self._compile_metrics.built and len(arrays) > 1:
            if isinstance(arrays[1], list):
                self._compile_metrics.build([tuple(a.shape) for a in arrays[1]], [t.shape for t in self.outputs])
            else:
                out_shape = self.compute_output_shape() if isinstance(arrays[0], list) else \
                    self._checked_output_shape(tuple(arrays[0].shape))
                self._compile_metrics.build(tuple(arrays[1].shape), out_shape)
        if self.optimizer is not None:
            self.optimizer.build(self.trainable_weights)

    # -- loops ---------------------------------------------------------------------------------------
    def _callbacks(self, callbacks, verbose: int, epochs: int, steps: int, history=None):
        chain = list(callbacks or [])
        if history is not None:
            chain.append(history)
        if verbose:
            chain.append(callbacks_module.ProgbarLogger())
        return callbacks_module.CallbackList(chain, model=self, verbose=verbose, epochs=epochs, steps=steps)

    def _get_metrics_result_or_logs(self, logs) -> Dict[str, float]:
        """The metrics' results, unless a custom step returned other keys: then its last logs."""
        dist = distribution_module.active()
        metric_logs = self.get_metrics_result() if dist is None else dist.global_metrics(self)
        logs = callbacks_module.pythonify_logs(logs)
        if set(logs) == set(metric_logs):
            return metric_logs
        return logs

    @distribution_module.collective("fit")
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True, class_weight=None,
            sample_weight=None, initial_epoch: int = 0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq: int = 1):
        """Trains for ``epochs`` epochs; returns a ``History`` whose ``.history`` maps 'loss', each
        metric and their 'val_' counterparts to per-epoch values.

        ``class_weight`` ({class index: weight}) weights each sample by its class (times any
        ``sample_weight``); ``steps_per_epoch`` caps the batches per epoch; validation runs after
        every ``validation_freq``-th epoch, on ``validation_steps`` batches of
        ``validation_batch_size`` (all batches, and ``batch_size``, by default)."""
        self._assert_compile_called("fit")
        verbose = _resolve_verbose(verbose)
        batch_size = _data.check_batch_size(batch_size)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
        if validation_data is not None and validation_split:
            raise ValueError("Pass either validation_data or validation_split, not both")
        if y is None:
            raise ValueError("fit needs labels: y is None")
        steps_per_epoch = _optional_positive(steps_per_epoch, "steps_per_epoch")
        validation_steps = _optional_positive(validation_steps, "validation_steps")
        validation_freq = _optional_positive(validation_freq, "validation_freq")
        val_batch_size = _data.check_batch_size(validation_batch_size, default=batch_size)
        # Under a DataParallel (tensorlet.distribution) each rank checks its share of the rows
        # for NaNs; begin_fit reports what all ranks found, on every rank.
        dist = distribution_module.active()
        with contextlib.nullcontext([]) if dist is None else dist.sharded_checks() as non_finite:
            arrays = self._prepare_data(x, y, sample_weight, "fit")
            if class_weight is not None:
                if isinstance(arrays[1], list):
                    raise ValueError("class_weight is not supported for models with several outputs (as in Keras)")
                weights = _data.class_weight_to_sample_weight(class_weight, arrays[1].numpy())
                if len(arrays) == 3:
                    weights = weights * arrays[2].numpy()
                arrays = (arrays[0], arrays[1], tl.asarray(np.ascontiguousarray(weights, dtype=np.float32)))
            val_arrays = None
            if validation_data is not None:
                val_arrays = self._prepare_validation(validation_data)
        if validation_data is None and validation_split:
            split_at = _data.split_validation(first_leaf(arrays[0]).shape[0], validation_split)
            val_arrays = take_rows(arrays, slice(split_at, None))
            arrays = take_rows(arrays, slice(None, split_at))
        self._symbolic_build(arrays)

        # Under a DataParallel: same checks and state on every rank, rank 0's batch order, this
        # rank's rows of each batch, gradients all-reduced before the update.
        if dist is None:
            iterator = EpochIterator(arrays, batch_size, shuffle=shuffle, max_steps=steps_per_epoch)
        else:
            if steps_per_epoch is not None or validation_steps is not None:
                raise ValueError("steps_per_epoch and validation_steps are not supported under a DataParallel")
            dist.begin_fit(self, arrays, batch_size, non_finite)
            iterator = dist.epoch_iterator(arrays, batch_size, shuffle)
            if val_arrays is not None:
                val_arrays, val_batch_size = dist.shard(val_arrays, val_batch_size)
        history = callbacks_module.History()
        cbs = self._callbacks(callbacks, verbose, epochs, iterator.num_batches, history)
        self.history = history
        self.stop_training = False
        train_function = self.make_train_function()
        # Under a distribution every rank must stop at the same batch. Only a callback watching
        # batches or a train_step of the user's can set stop_training inside an epoch: then the
        # ranks agree after each batch (one small collective), else at each epoch's end only. The
        # choice is agreed on too: a callback may be given to rank 0 only.
        agree_per_batch = False
        if dist is not None:
            agree_per_batch = dist.any(cbs.wants_besides_progress("on_train_batch_begin") or
                                       cbs.wants_besides_progress("on_train_batch_end") or
                                       type(self).train_step is not Trainer.train_step or "train_step" in vars(self))
            train_function = dist.train_function(self, train_function, batch_logs=cbs.wants("on_train_batch_end"))
        self._initial_epoch = None
        cbs.on_train_begin()
        # A callback may resume an interrupted fit (BackupAndRestore sets _initial_epoch).
        initial_epoch = self._initial_epoch or initial_epoch
        self._initial_epoch = None
        training_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            logs = {}
            for begin_step, end_step, batch in iterator:
                cbs.on_train_batch_begin(begin_step)
                logs = train_function(batch)
                cbs.on_train_batch_end(end_step, logs)
                if agree_per_batch:
                    self.stop_training = dist.any(self.stop_training)
                if self.stop_training:
                    break
            epoch_logs = self._get_metrics_result_or_logs(logs)
            if val_arrays is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_loop(val_arrays, val_batch_size, cbs, max_steps=validation_steps)
                epoch_logs.update({"val_" + name: value for name, value in val_logs.items()})
            if dist is not None:
                dist.average_non_trainable(self)
            cbs.on_epoch_end(epoch, epoch_logs)
            if dist is not None:
                self.stop_training = dist.any(self.stop_training)
            training_logs = epoch_logs
            if self.stop_training:
                break
        cbs.on_train_end(training_logs)
        return history

    def _evaluate_loop(self, arrays, batch_size: int, cbs, max_steps=None) -> Dict[str, float]:
        """Evaluate's loop (also fit's validation): the metrics over all batches, as floats."""
        test_function = self.make_test_function()
        self.reset_metrics()
        # Several batches per call (Keras's steps_per_execution) when the function can and only
        # the progress bar, which redraws at most every 0.05 s anyway, watches the batches.
        group = 1
        if not (cbs.wants_besides_progress("on_test_batch_begin") or cbs.wants_besides_progress("on_test_batch_end")):
            group = test_function.steps_per_execution(arrays, batch_size)
        # Distributed: what the progress bar and callbacks see after each batch is global, from
        # the metric states summed over the ranks, when some rank reads it (only rank 0 has a
        # progress bar, so they agree on that first). Each call of the loop is one collective;
        # a rank with fewer local calls makes up the difference after its last.
        dist = distribution_module.active()
        global_batch_logs = dist is not None and dist.any(cbs.wants("on_test_batch_end"))
        iterator = EpochIterator(arrays, batch_size, steps_per_execution=group, max_steps=max_steps)
        calls = -(-iterator.num_batches // group)  # this rank's calls of test_function
        catch_up = dist.max(calls) - calls if global_batch_logs else 0
        cbs.on_test_begin()
        logs = {}
        for begin_step, end_step, batch in iterator:
            cbs.on_test_batch_begin(begin_step)
            logs = test_function(batch)
            if global_batch_logs:
                logs = self._get_metrics_result_or_logs(logs)
            cbs.on_test_batch_end(end_step, logs)
        for _ in range(catch_up):
            self._get_metrics_result_or_logs(logs)
        logs = self._get_metrics_result_or_logs(logs)
        cbs.on_test_end(logs)
        return logs

    @distribution_module.collective("evaluate")
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, callbacks=None,
                 return_dict: bool = False):
        """The loss and metrics on (x, y): a float without metrics, else ``[loss, metric, ...]``
        in compile order (or a dict with ``return_dict=True``)."""
        self._assert_compile_called("evaluate")
        verbose = _resolve_verbose(verbose)
        batch_size = _data.check_batch_size(batch_size)
        if y is None:
            raise ValueError("evaluate needs labels: y is None")
        dist = distribution_module.active()
        arrays = self._prepare_sharded_data(dist, x, y, sample_weight, "evaluate")
        self._symbolic_build(arrays)
        if dist is not None:  # each rank its share of the rows; the metric states are summed
            dist.sync_model(self, "evaluate")
            arrays, batch_size = dist.shard(arrays, batch_size)
        steps = EpochIterator(arrays, batch_size).num_batches
        logs = self._evaluate_loop(arrays, batch_size, self._callbacks(callbacks, verbose, 1, steps))
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def _flatten_metrics_in_order(self, logs: Dict[str, float]):
        """The loss, then each compiled metric in compile order, then any other key (sorted); a
        single value is returned as it is."""
        names = [metric.name for metric in self.metrics if not isinstance(metric, (CompileMetrics, MultiOutputMetrics))]
        for metric in self.metrics:
            if isinstance(metric, MultiOutputMetrics):
                names += metric.names()
            elif isinstance(metric, CompileMetrics):
                names += [m.name for m in metric.metrics]
        results = [logs[name] for name in names if name in logs]
        results += [logs[key] for key in sorted(logs) if key not in names]
        return results[0] if len(results) == 1 else results

    @distribution_module.collective("predict")
    def predict(self, x, batch_size=None, verbose="auto", callbacks=None) -> np.ndarray:
        """The model's outputs (probabilities for a softmax layer) as a NumPy array."""
        verbose = _resolve_verbose(verbose)
        batch_size = _data.check_batch_size(batch_size)
        dist = distribution_module.active()
        arrays = self._prepare_sharded_data(dist, x, None, None, "predict")
        num_rows = int(first_leaf(arrays[0]).shape[0])
        if dist is not None:  # each rank its share of the rows, all gathered on every rank
            dist.sync_model(self, "predict")
            arrays, batch_size = dist.shard(arrays, batch_size)
        iterator = EpochIterator(arrays, batch_size)
        cbs = self._callbacks(callbacks, verbose, 1, iterator.num_batches)
        predict_function = self.make_predict_function()
        if not (cbs.wants_besides_progress("on_predict_batch_begin") or
                cbs.wants_besides_progress("on_predict_batch_end")):
            iterator.steps_per_execution = predict_function.steps_per_execution(arrays, batch_size)
        cbs.on_predict_begin()
        result = None
        listened = cbs.wants_besides_progress("on_predict_batch_end")
        for begin_step, end_step, batch in iterator:
            cbs.on_predict_batch_begin(begin_step)
            outputs = predict_function(batch)
            if not isinstance(outputs, tl.Tensor):  # several outputs: gathered per output
                result = [] if result is None else result
                result.append(map_structure(lambda t: np.array(t), outputs))
                cbs.on_predict_batch_end(end_step, {"outputs": outputs})
                continue
            if result is None:
                result = np.empty((iterator.num_samples,) + tuple(outputs.shape[1:]), dtype=outputs.dtype)
            result[batch.start:batch.stop] = np.asarray(outputs)
            # A copy for listeners: a replayed (captured) step refreshes the same output tensor on
            # every batch, so a callback that keeps it would see it change.
            cbs.on_predict_batch_end(end_step, {"outputs": outputs.copy() if listened else outputs})
        if result is None:  # no rows: the output's shape and dtype from an empty batch
            result = map_structure(lambda t: np.asarray(t).copy(), predict_function(Batch(arrays, None, 0, 0)))
        elif isinstance(result, list):
            leaves = [flatten(r) for r in result]
            result = pack_sequence_as(result[0], [np.concatenate(parts) for parts in zip(*leaves)])
        cbs.on_predict_end()
        if dist is not None:  # each output's rows from every rank
            result = map_structure(lambda part: dist.gather_rows(part, num_rows), result)
        return result

    # -- single batches ------------------------------------------------------------------------------
    def _on_batch(self, what: str, make_function, x, y, sample_weight, return_dict: bool):
        self._assert_compile_called(what)
        if y is None:
            raise ValueError(f"{what} needs labels: y is None")
        arrays = self._prepare_data(x, y, sample_weight, what)
        self._symbolic_build(arrays)
        rows = first_leaf(arrays[0]).shape[0]
        function = make_function()
        dist = distribution_module.active()
        if dist is None:
            logs = callbacks_module.pythonify_logs(function(Batch(arrays, None, 0, rows)))
        elif what == "train_on_batch":
            # the batch is the global batch: this rank's share, gradients all-reduced, global logs
            function = dist.on_batch_train_function(self, function, arrays, rows)
            logs = callbacks_module.pythonify_logs(function(Batch(arrays, None, 0, rows)))
        else:  # test_on_batch: this rank's share of the rows, the metrics from the summed states
            dist.sync_model(self, what)
            local, _ = dist.shard(arrays, rows)
            local_rows = first_leaf(local[0]).shape[0]
            own = callbacks_module.pythonify_logs(function(Batch(local, None, 0, local_rows))) if local_rows else {}
            summed = dist.global_metrics(self, what)
            # a custom test_step's values besides the metrics stay this rank's own, as in fit
            logs = dict(summed, **{k: v for k, v in own.items() if k not in summed})
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    @distribution_module.collective("train_on_batch")
    def train_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """One training step on one batch; the metrics keep accumulating (``reset_metrics()``
        starts them over). Returns the loss and metrics as ``evaluate`` does. Under a
        DataParallel the batch is the global batch, as in ``fit``."""
        return self._on_batch("train_on_batch", self.make_train_function, x, y, sample_weight, return_dict)

    @distribution_module.collective("test_on_batch")
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """The loss and metrics of one batch (accumulating, as ``train_on_batch``). Under a
        DataParallel each rank computes its share of the rows and the results come from the
        metric states summed over the ranks, the same on every rank."""
        return self._on_batch("test_on_batch", self.make_test_function, x, y, sample_weight, return_dict)

    @distribution_module.collective("predict_on_batch")
    def predict_on_batch(self, x) -> np.ndarray:
        """The model's outputs for one batch. Under a DataParallel every rank computes all rows
        (with rank 0's weights, broadcast at the model's first use)."""
        arrays = self._prepare_data(x, None, None, "predict_on_batch")
        dist = distribution_module.active()
        if dist is not None:
            dist.sync_model(self, "predict_on_batch")
        out = self.make_predict_function()(Batch(arrays, None, 0, first_leaf(arrays[0]).shape[0]))
        return map_structure(lambda t: np.array(t), out)
