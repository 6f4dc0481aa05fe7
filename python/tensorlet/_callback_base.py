"""The callback machinery: ``Callback`` (Keras's hooks), ``CallbackList`` (dispatch to the
callbacks that implement a hook) and ``pythonify_logs``. The callbacks themselves are in
``callbacks``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Dict, List, Optional

__all__ = ["Callback", "CallbackList", "pythonify_logs"]


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
    # a hook set on the instance (LambdaCallback) counts as much as one defined by the class
    return hook in vars(cb) or getattr(type(cb), hook, None) is not getattr(Callback, hook)


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
        return any(not getattr(getattr(fn, "__self__", None), "is_progress_bar", False) for fn in self._by_hook[hook])

    def _dispatcher(self, hook: str):
        fns = self._by_hook[hook]
        logs_at = 1 if hook in _INDEXED else 0
        to_floats = hook in _FLOAT_LOGS

        def dispatch(*args, **kwargs):
            if not fns:
                return
            # As Keras's CallbackList: every callback gets the logs positionally (a dict, {} when
            # the loop has none), so fn(epoch, logs) lambdas work for every hook.
            logs = kwargs.pop("logs", args[logs_at] if len(args) > logs_at else None)
            if to_floats:  # once for all callbacks, only when someone listens
                logs = pythonify_logs(logs)
            args = args[:logs_at] + (logs,)
            for fn in fns:
                fn(*args, **kwargs)

        return dispatch


