"""Callbacks with Keras's hooks: ``Callback``, ``History``, ``EarlyStopping``, ``TerminateOnNaN``,
``ModelCheckpoint``, ``ReduceLROnPlateau``, ``CSVLogger``, ``LearningRateScheduler``,
``LambdaCallback``, ``BackupAndRestore``, and the ``ProgbarLogger`` that
``fit``/``evaluate``/``predict`` add for progress output."""

from __future__ import annotations

import math
import sys
import warnings
from typing import Dict, List

import numpy as np

from ._callback_base import Callback, CallbackList, pythonify_logs
from ._callbacks_catalog import (BackupAndRestore, CSVLogger, LambdaCallback, LearningRateScheduler, ModelCheckpoint,
                                 ReduceLROnPlateau, resolve_mode)
from ._progbar import Progbar

__all__ = ["Callback", "CallbackList", "History", "EarlyStopping", "TerminateOnNaN", "ProgbarLogger",
           "pythonify_logs", "ModelCheckpoint", "ReduceLROnPlateau", "CSVLogger", "LearningRateScheduler",
           "LambdaCallback", "BackupAndRestore"]


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
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = resolve_mode("EarlyStopping", monitor, mode)
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

    is_progress_bar = True  # CallbackList.wants_besides_progress

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
