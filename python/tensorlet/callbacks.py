"""Callbacks with Keras's hooks: ``Callback``, ``History``, ``EarlyStopping``, ``TerminateOnNaN``,
and the ``ProgbarLogger`` that ``fit``/``evaluate``/``predict`` add for progress output."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
import warnings
from typing import Dict, List, Optional

import numpy as np

from ._progbar import Progbar

__all__ = ["Callback", "CallbackList", "History", "EarlyStopping", "TerminateOnNaN", "ProgbarLogger",
           "pythonify_logs"]


def pythonify_logs(logs) -> Dict:
    """Logs as Python floats, keys sorted, nested dicts (a CompileMetrics result) flattened, as
    Keras's ``pythonify_logs``; values that are not scalars are kept as they are."""
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, Mapping):
            result.update(pythonify_logs(value))
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            pass
        result[key] = value
    return result


class Callback:
    """Base class: override any of the ``on_*`` hooks. ``self.model`` is the model being
    trained and ``self.params`` holds ``verbose``, ``epochs`` and ``steps``."""

    def __init__(self):
        self.model = None
        self.params: Dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: Dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]
# Hooks whose logs callbacks read as floats (the step functions return 0-d tensors); predict's
# batch logs hold the outputs and pass through unchanged.
_FLOAT_LOGS = {name for name in _HOOKS if not name.startswith("on_predict")}
_INDEXED = {name for name in _HOOKS if "batch" in name or "epoch" in name}


def _overrides(cb: Callback, hook: str) -> bool:
    return getattr(type(cb), hook, None) is not getattr(Callback, hook)


class CallbackList:
    """Dispatches each hook to the callbacks that override it (so per-batch hooks nobody
    implements cost one attribute lookup, not a loop)."""

    def __init__(self, callbacks: Optional[List[Callback]] = None, model=None, **params):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise ValueError(f"callbacks must be instances of tensorlet.callbacks.Callback, got {cb!r}")
            if model is not None:
                cb.set_model(model)
            cb.set_params(dict(params))
        self._by_hook = {h: [getattr(cb, h) for cb in self.callbacks if _overrides(cb, h)] for h in _HOOKS}
        for hook in _HOOKS:  # made once: the loops call these every batch
            setattr(self, hook, self._dispatcher(hook))

    def wants(self, hook: str) -> bool:
        return bool(self._by_hook[hook])

    def wants_besides_progress(self, hook: str) -> bool:
        """Whether a callback other than the progress bar implements ``hook``."""
        return any(not isinstance(getattr(fn, "__self__", None), ProgbarLogger) for fn in self._by_hook[hook])

    def _dispatcher(self, hook: str):
        fns = self._by_hook[hook]
        logs_at = 1 if hook in _INDEXED else 0
        to_floats = hook in _FLOAT_LOGS

        def dispatch(*args, **kwargs):
            if not fns:
                return
            if to_floats:  # once for all callbacks, only when someone listens
                if "logs" in kwargs:
                    kwargs["logs"] = pythonify_logs(kwargs["logs"])
                elif len(args) > logs_at and args[logs_at] is not None:
                    args = args[:logs_at] + (pythonify_logs(args[logs_at]),) + args[logs_at + 1:]
            for fn in fns:
                fn(*args, **kwargs)

        return dispatch


class History(Callback):
    """Records each epoch's logs: ``history.history['loss']`` is the list of epoch losses."""

    def __init__(self):
        super().__init__()
        self.history: Dict[str, List[float]] = {}
        self.epoch: List[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss ({loss}), terminating training", file=sys.stdout)
            self.model.stop_training = True


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs
    (Keras's arguments and defaults; ``mode='auto'`` minimises unless the name contains 'acc')."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.startswith("fmeasure")) else "min"
        self.mode = mode
        self.stopped_epoch = 0
        self.wait = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value, reference) -> bool:
        if reference is None:
            return True
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(sorted((logs or {}).keys()))}",
                stacklevel=2,
            )
            return
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._is_improvement(value, self.best):
            self.best = value
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and the progress line during fit, evaluate and predict."""

    def __init__(self):
        super().__init__()
        self.progbar = None
        self.epochs = 1
        self.verbose = 1
        self.target = None
        self._in_fit = False  # validation inside fit runs the test hooks without a bar of its own

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _reset(self):
        self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step")

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}")
        self._reset()

    def on_train_batch_end(self, batch, logs=None):
        self.progbar.update(batch + 1, _items(logs), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        self.progbar.update(self._steps_seen(), _items(logs), finalize=True)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._reset()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self.progbar.update(batch + 1, _items(logs), finalize=False)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self.progbar.update(self._steps_seen(), _items(logs), finalize=True)

    def on_predict_begin(self, logs=None):
        self._reset()

    def on_predict_batch_end(self, batch, logs=None):
        self.progbar.update(batch + 1, None, finalize=False)

    def on_predict_end(self, logs=None):
        self.progbar.update(self._steps_seen(), None, finalize=True)

    def _steps_seen(self) -> int:
        return self.progbar._seen_so_far if self.progbar is not None else 0


def _items(logs):
    if not logs:
        return None
    return [(k, v) for k, v in logs.items() if isinstance(v, (float, int, np.floating))]
