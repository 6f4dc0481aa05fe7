"""Sequential: a stack of layers with Keras 3's compile / fit / evaluate / predict.

``fit`` is a thin loop over ``train_step(x, y)`` (forward, loss, backward, one fused optimizer
kernel per weight, metric update); all numeric work runs in the core. When the last layer
ends in softmax (or sigmoid) and the loss is the matching cross-entropy, training and
evaluation compute the loss from the logits with the core's fused, stable kernel, while
``predict`` and ``__call__`` still return probabilities, as Keras's do.
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

import numpy as np

import tensorlet as tl

from . import _data, _dense_stack, _saving, _summary
from . import callbacks as callbacks_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .layers.input_layer import InputLayer
from .layers.layer import Layer, format_shape, unique_name

__all__ = ["Sequential"]

# Rows per compiled evaluate/predict call when batches may be grouped: big enough for GEMMs at
# full speed and few calls, small enough for a modest workspace (4096 x 512 float32 = 8 MiB).
_EVAL_GROUP_ROWS = 4096


def _resolve_verbose(verbose) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)


class Sequential:
    """A linear stack of layers.

    >>> model = Sequential([layers.Dense(512, activation="relu"), layers.Dense(10, activation="softmax")])
    >>> model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> model.fit(x_train, y_train, epochs=5, batch_size=128)
    """

    def __init__(self, layers: Optional[Sequence[Layer]] = None, trainable: bool = True, name: Optional[str] = None):
        self.name = name or unique_name("sequential")
        self.trainable = trainable
        self._layers: List[Layer] = []
        self._input_layer: Optional[InputLayer] = None
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self._metric_ids: List = []
        self.metrics: List[metrics_module.Metric] = []
        self.stop_training = False
        self.history = None
        for layer in layers or ():
            self.add(layer)

    # -- structure -----------------------------------------------------------------------------
    def add(self, layer) -> None:
        """Appends a layer (an ``Input`` is taken as the input specification)."""
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(
                    f"Sequential {self.name!r}: an Input can only be added first, before any other layer"
                )
            self._input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of tensorlet.layers.Layer can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(
                f"All layers added to a Sequential model should have unique names. Name {layer.name!r} is "
                f"already the name of a layer in model {self.name!r}."
            )
        self._layers.append(layer)
        if self.input_shape is not None:
            # Keras builds as soon as the input shape is known (an Input, or input_shape=).
            try:
                self.build()
            except ValueError:
                self._layers.pop()
                raise

    def pop(self) -> Layer:
        if not self._layers:
            raise ValueError(f"Sequential {self.name!r} has no layers to pop")
        return self._layers.pop()

    @property
    def layers(self) -> List[Layer]:
        return list(self._layers)

    @property
    def input_shape(self) -> Optional[tuple]:
        """The declared or built input shape, batch dimension first (None when unknown)."""
        if self._input_layer is not None:
            return (None,) + tuple(self._input_layer.shape[1:])
        if not self._layers:
            return None
        first = self._layers[0]
        return first.input_shape_arg or first.build_input_shape

    def layer_output_shapes(self) -> List[Optional[tuple]]:
        """Each layer's output shape, as far as the input shape is known."""
        shape = self.input_shape
        shapes = []
        for layer in self._layers:
            shape = None if shape is None else tuple(layer.compute_output_shape(shape))
            shapes.append(shape)
        return shapes

    @property
    def output_shape(self) -> Optional[tuple]:
        shapes = self.layer_output_shapes()
        return shapes[-1] if shapes else None

    @property
    def built(self) -> bool:
        return bool(self._layers) and all(layer.built for layer in self._layers)

    def _output_shape_for(self, input_shape) -> tuple:
        """The model's output shape for inputs of ``input_shape``, checked layer by layer
        without building anything."""
        shape = (None,) + tuple(input_shape[1:])
        for layer in self._layers:
            if layer.built:
                layer.check_input_shape(shape)
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    def build(self, input_shape=None) -> None:
        """Creates every layer's weights for inputs of ``input_shape`` (batch dimension first,
        e.g. ``(None, 784)``); defaults to the declared input shape."""
        if not self._layers:
            raise ValueError(f"Sequential {self.name!r} has no layers to build")
        if input_shape is None:
            input_shape = self.input_shape
        if input_shape is None:
            raise ValueError(
                f"Sequential {self.name!r} cannot be built without an input shape: call build((None, 784)), "
                "start the model with layers.Input(shape=(784,)), or give the first layer input_shape=(784,)"
            )
        shape = (None,) + tuple(input_shape[1:])
        self._output_shape_for(shape)  # validates before anything is created
        for layer in self._layers:
            layer.ensure_built(shape)
            shape = tuple(layer.compute_output_shape(shape))

    # -- weights ---------------------------------------------------------------------------------
    @property
    def weights(self) -> List:
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self) -> List:
        if not self.trainable:
            return []
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> List:
        if not self.trainable:
            return self.weights
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    def count_params(self) -> int:
        return sum(layer.count_params() for layer in self._layers)

    def get_weights(self) -> List[np.ndarray]:
        return [a for layer in self._layers for a in layer.get_weights()]

    def set_weights(self, weights: Sequence) -> None:
        """Assigns a flat list of arrays (as ``get_weights`` returns), checking every shape first."""
        weights = list(weights)
        expected = self.weights
        if len(weights) != len(expected):
            raise ValueError(
                f"Sequential {self.name!r} expects {len(expected)} weight arrays, but the given list has {len(weights)}"
            )
        chunks, start = [], 0
        for layer in self._layers:
            n = len(layer.weights)
            chunk = weights[start:start + n]
            for name, w, a in zip(layer.weight_names, layer.weights, chunk):
                if tuple(np.shape(a)) != tuple(w.shape):
                    raise ValueError(
                        f"Layer {layer.name!r} weight {name!r} has shape {tuple(w.shape)}, but the given array "
                        f"has shape {tuple(np.shape(a))}"
                    )
            chunks.append(chunk)
            start += n
        for layer, chunk in zip(self._layers, chunks):
            layer.set_weights(chunk)

    def save_weights(self, filepath) -> None:
        """Saves the weights to a NumPy ``.npz`` archive."""
        self._require_built("save_weights")
        _saving.save_weights(self, filepath)

    def load_weights(self, filepath) -> None:
        """Loads weights saved by ``save_weights``; every name and shape is checked before any
        weight is assigned."""
        if not self.built:
            if self.input_shape is None:
                raise ValueError(
                    f"Sequential {self.name!r} must be built before load_weights: give it an input shape "
                    "(layers.Input or build((None, n))) so its weights exist"
                )
            self.build()
        _saving.load_weights(self, filepath)

    def _require_built(self, what: str) -> None:
        if not self.built:
            if self.input_shape is not None:
                self.build()
                return
            raise ValueError(
                f"Sequential {self.name!r} is not built yet, so {what} has no weights to use: call it on data, "
                "or give it an input shape first"
            )

    def summary(self, line_length: Optional[int] = None, print_fn=None) -> None:
        """Prints the table of layers, output shapes and parameter counts."""
        _summary.print_summary(self, line_length=line_length, print_fn=print_fn)

    # -- forward ---------------------------------------------------------------------------------
    def __call__(self, x, training: bool = False):
        x = x if isinstance(x, tl.Tensor) else tl.asarray(x)
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def _forward(self, x, training: bool, logits: bool = False):
        """The forward pass on validated data (layers built); the last layer's logits if asked."""
        layers = self._layers
        for layer in layers[:-1]:
            x = layer.call(x, training=training)
        last = layers[-1]
        return last.call_logits(x, training=training) if logits else last.call(x, training=training)

    # -- compile -----------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, run_eagerly: bool = False,
                jit_compile="auto") -> None:
        """Sets the optimizer, the loss and the metrics (names or objects).

        A stack of Dense layers trained with softmax cross-entropy runs each step as one
        compiled C++ call (see ``_dense_stack``); ``run_eagerly=True`` or ``jit_compile=False``
        keeps every model on the generic, op-by-op autograd path, as Keras's flags do."""
        if not isinstance(run_eagerly, bool):
            raise ValueError(f"run_eagerly must be True or False, got {run_eagerly!r}")
        if jit_compile not in ("auto", True, False):
            raise ValueError(f"jit_compile must be 'auto', True or False, got {jit_compile!r}")
        optimizer = optimizers_module.get(optimizer)
        loss = None if loss is None else losses_module.get(loss)
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        elif not isinstance(metrics, (list, tuple)):
            raise ValueError(f"metrics must be a list of metric names or objects, got {metrics!r}")
        for m in metrics:
            if not metrics_module.is_accuracy_alias(m):
                metrics_module.get(m)  # raises on unknown names now rather than in fit
        self.optimizer, self.loss, self._metric_ids = optimizer, loss, list(metrics)
        self.run_eagerly, self.jit_compile = run_eagerly, jit_compile
        self.metrics = []
        self.compiled = True

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ValueError(f"You must call `compile()` before using the model ({what} of {self.name!r}).")
        if self.loss is None:
            raise ValueError(f"No loss to compute: provide a `loss` argument in `compile()` before {what}.")

    def _fused_activation(self) -> Optional[str]:
        act = self._layers[-1].output_activation
        if act is not None and self.loss.fused_with(act) is not None:
            return act
        return None

    def _make_metrics(self, y_shape, out_shape) -> List[metrics_module.Metric]:
        made = []
        for m in self._metric_ids:
            if metrics_module.is_accuracy_alias(m):
                made.append(metrics_module.resolve_accuracy(
                    m, y_shape, out_shape, sparse_loss=self.loss.sparse_labels,
                    binary_loss=isinstance(self.loss, losses_module.BinaryCrossentropy)))
            elif isinstance(m, metrics_module.Metric):
                made.append(m)
            else:
                made.append(metrics_module.get(m))
        return made

    # -- data validation ---------------------------------------------------------------------------
    def _prepare(self, x, y, what: str):
        """Checks and converts (x, y) for this model; builds it if needed. Nothing changes when
        a check fails."""
        if not self._layers:
            raise ValueError(f"Sequential {self.name!r} has no layers: add some before calling {what}")
        x_t, x_shape = _data.to_input_tensor(x, "x")
        first = self._layers[0].name
        _data.check_input_shape(x_shape, self.input_shape, first)
        out_shape = self._output_shape_for(x_shape)
        if y is None:
            self.build((None,) + tuple(x_shape[1:]))
            return x_t, None, x_shape[0]
        y_t, y_shape = _data.prepare_labels(y, self.loss, out_shape, self._layers[-1].name)
        _data.check_same_length(x_shape, y_shape)
        self.build((None,) + tuple(x_shape[1:]))
        return x_t, y_t, x_shape[0]

    # -- steps -------------------------------------------------------------------------------------
    def _loss_and_output(self, x, y, training: bool):
        """(output, scalar loss): the output is the logits when the loss is fused with them."""
        if self._fused is not None:
            logits = self._forward(x, training, logits=True)
            return logits, self.loss.reduce(self._fused(y, logits))
        y_pred = self._forward(x, training)
        return y_pred, self.loss(y, y_pred)

    def _update_metrics(self, y, out, loss, batch_size: int) -> Dict[str, float]:
        self._loss_tracker.update_state(float(loss), batch_size)
        probs = None
        for metric in self.metrics:
            if self._fused is not None and self._fused_act not in metric.logit_invariant_for:
                if probs is None:
                    with tl.no_grad():
                        probs = self._layers[-1].activation(out)
                metric.update_state(y, probs)
            else:
                metric.update_state(y, out)
        return self._logs()

    def _logs(self) -> Dict[str, float]:
        """The running loss and metrics, keyed in sorted order as Keras's logs are."""
        return {name: tracker.result() for name, tracker in self._log_trackers}

    def train_step(self, x, y) -> Dict[str, float]:
        """One optimisation step on a batch; returns the running logs. Override to customise."""
        weights = self._train_weights
        for w in weights:
            w.grad = None
        out, loss = self._loss_and_output(x, y, training=True)
        loss.backward()
        self.optimizer.apply(weights)
        return self._update_metrics(y, out, loss, x.shape[0])

    def test_step(self, x, y) -> Dict[str, float]:
        with tl.no_grad():
            out, loss = self._loss_and_output(x, y, training=False)
        return self._update_metrics(y, out, loss, x.shape[0])

    def predict_step(self, x):
        with tl.no_grad():
            return self._forward(x, training=False)

    def _begin(self, y_shape) -> None:
        """Per-call setup: fused loss detection, metrics, trackers."""
        self._fused_act = self._fused_activation()
        self._fused = self.loss.fused_with(self._fused_act) if self._fused_act else None
        if y_shape is not None:
            self.metrics = self._make_metrics(y_shape, self.output_shape)
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._log_trackers = sorted([("loss", self._loss_tracker)] + [(m.name, m) for m in self.metrics],
                                    key=lambda item: item[0])
        self._train_weights = self.trainable_weights

    def _reset_metrics(self) -> None:
        self._loss_tracker.reset_state()
        for metric in self.metrics:
            metric.reset_state()

    # -- loops -------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle: bool = True, initial_epoch: int = 0):
        """Trains for ``epochs`` epochs; returns a ``History`` whose ``.history`` maps 'loss', each
        metric and their 'val_' counterparts to per-epoch values."""
        self._require_compiled("fit")
        verbose = _resolve_verbose(verbose)
        batch_size = _data.check_batch_size(batch_size)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
        if validation_data is not None and validation_split:
            raise ValueError("Pass either validation_data or validation_split, not both")
        x_t, y_t, n = self._prepare(x, y, "fit")
        if y_t is None:
            raise ValueError("fit needs labels: y is None")
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a tuple (x_val, y_val)")
            xv, yv, _ = self._prepare(validation_data[0], validation_data[1], "fit (validation_data)")
            val = (xv, yv)
        elif validation_split:
            split_at = _data.split_validation(n, validation_split)
            val = (x_t[split_at:], y_t[split_at:])
            x_t, y_t, n = x_t[:split_at], y_t[:split_at], split_at

        self._begin(tuple(y_t.shape))
        steps = math.ceil(n / batch_size)
        history = callbacks_module.History()
        user_callbacks = list(callbacks or [])
        chain = user_callbacks + [history]
        if verbose:
            chain.append(callbacks_module.ProgbarLogger())
        cbs = callbacks_module.CallbackList(chain, model=self, verbose=verbose, epochs=epochs, steps=steps)
        self.history = history
        self.stop_training = False
        self._nan_stop = None
        per_batch = cbs.wants("on_train_batch_begin") or cbs.wants("on_train_batch_end")

        compiled = _dense_stack.plan(self, x_t, y_t, batch_size)
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            cbs.on_epoch_begin(epoch)
            order = tl.random.permutation(n) if shuffle else None
            logs = {}
            for step in range(steps):
                start, stop = step * batch_size, min((step + 1) * batch_size, n)
                if per_batch:
                    cbs.on_train_batch_begin(step)
                if compiled is not None:
                    logs = compiled.train(x_t, y_t, order, start, stop)
                else:
                    if order is None:
                        xb, yb = x_t[start:stop], y_t[start:stop]
                    else:
                        idx = order[start:stop]
                        xb, yb = x_t[idx], y_t[idx]
                    logs = self.train_step(xb, yb)
                if per_batch:
                    cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs) if logs else self._logs()
            if val is not None and not self._nan_stop:
                val_logs = self._test_loop(val[0], val[1], batch_size, cbs, compiled)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        return history

    def _test_loop(self, x_t, y_t, batch_size: int, cbs, compiled=None) -> Dict[str, float]:
        self._reset_metrics()
        n = x_t.shape[0]
        cbs.on_test_begin()
        logs = {}
        per_batch = cbs.wants("on_test_batch_end")
        if compiled is not None and not compiled.accepts(x_t, y_t, batch_size):
            compiled = None
        if compiled is not None:
            # Several batches per call, as Keras's steps_per_execution: the loss and metrics do
            # not depend on how the rows are grouped, and only the progress bar (which redraws
            # at most every 0.05 s anyway) sees the batches, at the end of each group.
            group = 1 if cbs.wants_besides_progress("on_test_batch_end") else \
                max(1, compiled.max_batch // batch_size)
            steps = math.ceil(n / batch_size)
            for first in range(0, steps, group):
                last = min(first + group, steps) - 1
                logs = compiled.test(x_t, y_t, first * batch_size, min((last + 1) * batch_size, n))
                if per_batch:
                    cbs.on_test_batch_end(last, logs)
        else:
            for step, start in enumerate(range(0, n, batch_size)):
                stop = min(start + batch_size, n)
                logs = self.test_step(x_t[start:stop], y_t[start:stop])
                if per_batch:
                    cbs.on_test_batch_end(step, logs)
        cbs.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", callbacks=None, return_dict: bool = False):
        """The loss and metrics on (x, y): a float without metrics, else ``[loss, metric, ...]``
        in compile order (or a dict with ``return_dict=True``)."""
        self._require_compiled("evaluate")
        verbose = _resolve_verbose(verbose)
        batch_size = _data.check_batch_size(batch_size)
        x_t, y_t, n = self._prepare(x, y, "evaluate")
        if y_t is None:
            raise ValueError("evaluate needs labels: y is None")
        self._begin(tuple(y_t.shape))
        chain = list(callbacks or [])
        if verbose:
            chain.append(callbacks_module.ProgbarLogger())
        cbs = callbacks_module.CallbackList(chain, model=self, verbose=verbose, epochs=1,
                                            steps=math.ceil(n / batch_size))
        compiled = _dense_stack.plan(self, x_t, y_t, min(max(batch_size, _EVAL_GROUP_ROWS), n), training=False)
        logs = self._test_loop(x_t, y_t, batch_size, cbs, compiled)
        if return_dict:
            return logs
        if not self.metrics:
            return logs["loss"]
        return [logs["loss"]] + [logs[m.name] for m in self.metrics]

    def predict(self, x, batch_size=None, verbose="auto", callbacks=None) -> np.ndarray:
        """The model's outputs (probabilities for a softmax layer) as a NumPy array."""
        verbose = _resolve_verbose(verbose)
        batch_size = _data.check_batch_size(batch_size)
        x_t, _, n = self._prepare(x, None, "predict")
        out_shape = self._output_shape_for(tuple(x_t.shape))
        result = np.empty((n,) + tuple(out_shape[1:]), dtype=self._layers[-1].dtype)
        chain = list(callbacks or [])
        if verbose:
            chain.append(callbacks_module.ProgbarLogger())
        cbs = callbacks_module.CallbackList(chain, model=self, verbose=verbose, epochs=1,
                                            steps=math.ceil(n / batch_size))
        cbs.on_predict_begin()
        steps = math.ceil(n / batch_size)
        # Eligible Dense stacks: several batches per call when only the progress bar watches
        # them (see _test_loop), written straight into the result.
        group = 1 if cbs.wants_besides_progress("on_predict_batch_end") else max(1, _EVAL_GROUP_ROWS // batch_size)
        compiled = _dense_stack.predictor(self, x_t, group * batch_size) if n else None
        if compiled is not None:
            out = tl.asarray(result)  # a view: rows are written in place
            for first in range(0, steps, group):
                last = min(first + group, steps) - 1
                compiled(first * batch_size, min((last + 1) * batch_size, n), out)
                cbs.on_predict_batch_end(last, None)
        else:
            for step, start in enumerate(range(0, n, batch_size)):
                stop = min(start + batch_size, n)
                result[start:stop] = self.predict_step(x_t[start:stop]).numpy()
                cbs.on_predict_batch_end(step, None)
        cbs.on_predict_end()
        return result

    def __getstate__(self):
        # copy.deepcopy / pickle: the compiled C++ steps (_dense_stack) are caches, rebuilt on use.
        return {k: v for k, v in self.__dict__.items() if k != "_dense_stack_cache"}

    def __repr__(self):
        shape = self.input_shape
        return f"<Sequential name={self.name}, layers={len(self._layers)}, input_shape={shape and format_shape(shape)}>"
