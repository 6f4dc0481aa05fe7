"""PyTorch's autograd API over the core's engine.

Grad-mode switches: ``with tl.no_grad():``, ``@tl.no_grad``, ``@tl.no_grad()``,
``tl.enable_grad()``, ``tl.set_grad_enabled(mode)``, ``tl.inference_mode()``. Functional
autodiff: ``tl.autograd.grad(outputs, inputs)`` and ``tl.autograd.backward(tensors)``.
"""
import contextlib
import threading

from . import _core

is_grad_enabled = _core.is_grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Sets grad mode for a block (or a decorated function), restoring it on exit. As PyTorch's,
    a plain call ``tl.set_grad_enabled(False)`` also sets it at once (no_grad()/enable_grad() do not)."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = []
        self._before = None  # the mode a plain call replaced, restored by the with-block it may open
        if type(self) is set_grad_enabled:
            self._before = _core.is_grad_enabled()
            _core._set_grad_enabled(self.mode)

    def __call__(self, func):
        # Decorating is not a plain call: undo it; each call of func switches the mode.
        if self._before is not None:
            _core._set_grad_enabled(self._before)
            self._before = None
        return super().__call__(func)

    def __enter__(self):
        prev, self._before = (_core.is_grad_enabled() if self._before is None else self._before), None
        self._prev.append(prev)
        _core._set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._prev.pop())
        return False

    def _recreate_cm(self):
        # A decorated function gets a fresh switch per call: grad mode is per thread, and one
        # shared instance's saved states would mix across threads.
        return set_grad_enabled(self.mode)


class _BareDecorator:
    """``@tl.no_grad`` without parentheses: calling the class on a function decorates it."""

    def __new__(cls, func=None):
        if func is None:
            return super().__new__(cls)
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments except a function to decorate, got {func!r}")
        return cls()(func)


class no_grad(_BareDecorator, set_grad_enabled):
    """Disables graph recording: ``with tl.no_grad(): w -= lr * w.grad``; also ``@tl.no_grad``."""

    def __init__(self, func=None):
        super().__init__(False)


class enable_grad(_BareDecorator, set_grad_enabled):
    def __init__(self, func=None):
        super().__init__(True)


_inference = threading.local()


def is_inference_mode_enabled() -> bool:
    return getattr(_inference, "enabled", False)


class inference_mode(contextlib.ContextDecorator):
    """PyTorch's inference mode. Here it is no_grad (no graph is recorded) plus the flag
    ``tl.is_inference_mode_enabled()``; tensors made inside are ordinary tensors.
    ``inference_mode(False)`` leaves grad mode as it is. Also a bare decorator."""

    def __new__(cls, mode=True):
        if callable(mode):
            return cls(True)(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self._prev = []

    def __enter__(self):
        self._prev.append((_core.is_grad_enabled(), is_inference_mode_enabled()))
        if self.mode:
            _core._set_grad_enabled(False)
        _inference.enabled = self.mode
        return self

    def __exit__(self, *exc):
        grad, _inference.enabled = self._prev.pop()
        _core._set_grad_enabled(grad)
        return False

    def _recreate_cm(self):
        return inference_mode(self.mode)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` w.r.t. ``inputs`` (a tensor or a sequence of each), as a tuple.

    Only the part of the graph leading to ``inputs`` runs and no ``.grad`` is touched.
    ``grad_outputs`` seeds each output (None = ones, for one-element outputs). An input the
    outputs do not depend on raises unless ``allow_unused``, which gives None for it.
    ``create_graph=True`` records the gradients' own graph (for higher derivatives) and, like
    PyTorch, keeps the graph unless ``retain_graph=False``.
    """
    inputs_seq = (inputs,) if isinstance(inputs, _core.Tensor) else tuple(inputs)
    if not inputs_seq:
        raise RuntimeError("[grad] requires at least one input")
    if retain_graph is None:
        retain_graph = create_graph
    result = _core._run_backward(outputs, grad_outputs, inputs_seq, False, bool(retain_graph), bool(create_graph))
    if not allow_unused:
        unused = [i for i, g in enumerate(result) if g is None]
        if unused:
            raise RuntimeError(f"[grad] input {unused[0]} appears to not have been used in the graph; "
                               "set allow_unused=True if this is the desired behavior")
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates the gradients of ``tensors`` into the leaves' ``.grad`` (or only into
    ``inputs``' ``.grad`` when given), as ``torch.autograd.backward``."""
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, _core.Tensor) else tuple(inputs)
        if not inputs:
            raise RuntimeError("[backward] 'inputs' argument to backward() cannot be empty")
    if retain_graph is None:
        retain_graph = create_graph
    _core._run_backward(tensors, grad_tensors, inputs, True, bool(retain_graph), bool(create_graph))
