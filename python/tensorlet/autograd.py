"""Grad-mode switches: ``with tl.no_grad():`` (also a decorator), ``tl.enable_grad()``."""
import contextlib

from . import _core

is_grad_enabled = _core.is_grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Sets grad mode for a block (or a decorated function), restoring it on exit."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = []

    def __enter__(self):
        self._prev.append(_core.is_grad_enabled())
        _core._set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._prev.pop())
        return False


class no_grad(set_grad_enabled):
    """Disables graph recording: ``with tl.no_grad(): w -= lr * w.grad``."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(True)
