"""Optimizers with Keras 3's names, defaults and update rules: ``SGD``, ``RMSprop``, ``Adam``.

Each optimizer owns its hyperparameters and its slot tensors (momentums, velocities); one
step of a built-in optimizer is ONE call into a fused multi-tensor C++ kernel
(``tensorlet._core._optim.*_step``) that validates every parameter, gradient and slot, then
updates all of them in place in one parallel region, outside the autograd graph, and counts the
step. The learning rate and the step count live in a C++ ``StepState`` that the step reads and
advances, so a captured step (``tensorlet.capture``) replayed N times makes N counted steps at the
current learning rate.
"""

from __future__ import annotations

import math
import signal
import threading
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from . import _core
from . import capture as _capture
from ._lookup import by_name

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "get", "serialize"]

_kernels = _core._optim


def _check_range(owner: str, name: str, value, lo: float, hi: float, hi_open: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{owner}: `{name}` must be a finite number, got {value!r}")
    if value < lo or value > hi or (hi_open and value == hi):
        bracket = ")" if hi_open else "]"
        raise ValueError(f"{owner}: `{name}` must be in [{lo}, {hi}{bracket}, got {value!r}")
    return float(value)


class Optimizer:
    """Base class. Subclasses define ``_slot_names(variable)`` and ``_update(variable, grad,
    slots, learning_rate)``.

    Attributes:
        learning_rate: a float, or a callable taking the step count and returning one.
        iterations: the number of steps applied so far.
    """

    # A list while a distribution runs a train step: apply() appends its arguments there instead
    # of updating (tensorlet.distribution applies them after the all-reduce).
    _deferred = None

    def __init__(self, learning_rate, name: str):
        self._state = _kernels.StepState()
        self.learning_rate = learning_rate  # validated, and into the state when a number
        self.name = name
        self._variables: List = []
        self._slots: List[Tuple] = []
        self._index: Dict[int, int] = {}
        # The last variable list's ids and its slot lists (slot position -> one tensor per
        # variable), so a step over the same variables builds no lists.
        self._plan: Optional[Tuple[Tuple[int, ...], List[List]]] = None
        self.built = False

    # -- learning rate and step count (held by the C++ state the fused step reads) -------------
    @property
    def uses_fused_step(self) -> bool:
        """True when a step is the built-in one-call C++ update (no Python per parameter): a
        captured train step can then replay it; an overridden ``_update`` keeps steps eager."""
        return getattr(self._update, "__func__", None) in _BUILTIN_UPDATES

    @property
    def iterations(self) -> int:
        return self._state.iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        self._state.iterations = int(value)

    @property
    def learning_rate(self) -> float:
        lr = self._learning_rate
        return float(lr(self.iterations)) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if not callable(value):
            value = _check_range(type(self).__name__, "learning_rate", value, 0.0, math.inf)
            self._state.learning_rate = value
        self._learning_rate = value

    def _sync_learning_rate(self) -> None:
        """A schedule's rate for the coming step, into the state the fused step reads (a captured
        step calls this before each replay)."""
        self._state.learning_rate = self.learning_rate

    # -- copy / pickle ---------------------------------------------------------------------
    # The id()-keyed index and plan would point at the originals (or at recycled ids) in a copy:
    # they are rebuilt from the copied variables, which keep their slots' order.
    def __getstate__(self):
        return {**self.__dict__, "_index": {}, "_plan": None}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._index = {id(v): i for i, v in enumerate(self._variables)}

    # -- slots -----------------------------------------------------------------------------
    def _slot_names(self) -> Sequence[str]:
        return ()

    def build(self, variables: Iterable) -> None:
        """Creates the slot tensors (zeros like each variable) for the variables not yet seen."""
        import tensorlet as tl

        for var in variables:
            if id(var) in self._index:
                continue
            self._index[id(var)] = len(self._variables)
            self._variables.append(var)
            self._slots.append(tuple(tl.zeros(var.shape, dtype=var.dtype) for _ in self._slot_names()))
        self.built = True

    @property
    def variables(self) -> List:
        """The slot tensors, in build order (what Keras's ``optimizer.variables`` lists, minus
        the step counter)."""
        return [s for slots in self._slots for s in slots]

    # -- steps -----------------------------------------------------------------------------
    def apply(self, variables: Sequence, grads: Optional[Sequence] = None) -> None:
        """One step over ``variables``; each gradient defaults to the variable's ``.grad``.
        Variables whose gradient is None are left unchanged."""
        if grads is not None and len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: {len(grads)} gradients for {len(variables)} variables")
        if self._deferred is not None:  # a DataParallel step: applied after the gradients' all-reduce
            self._deferred.append((list(variables), None if grads is None else list(grads)))
            return
        if self.uses_fused_step:
            # One step is all or nothing: _step is one C++ call that checks everything before it
            # writes, updates every parameter and sets self.iterations, with no Python code in
            # between (so a Ctrl-C surfaces before or after the whole step, never inside it).
            # grads=None: the kernel reads each variable's .grad itself.
            ids = tuple(map(id, variables))
            plan = self._plan
            if plan is None or plan[0] != ids:
                plan = self._make_plan(variables, ids)
            if callable(self._learning_rate):
                self._sync_learning_rate()
                _capture.before_each_replay(self._sync_learning_rate)
            try:
                self._step(variables, grads, plan[1])
            except ValueError as e:
                raise ValueError(f"{type(self).__name__}.apply: {e}; nothing was updated") from None
            return
        self._apply_overridden(variables, [v.grad for v in variables] if grads is None else grads)

    def _make_plan(self, variables: Sequence, ids: Tuple[int, ...]):
        index = self._index
        if any(i not in index for i in ids):
            self.build(variables)
        per_var = [self._slots[index[i]] for i in ids]
        plan = (ids, [[slots[j] for slots in per_var] for j in range(len(self._slot_names()))])
        self._plan = plan
        return plan

    def _step(self, variables: Sequence, grads: Optional[Sequence], slot_lists: List[List]) -> None:
        """The built-in optimizers' whole step: one multi-tensor kernel call that reads the learning
        rate from ``self._state`` and advances its count (``grads`` None: each variable's ``.grad``)."""
        raise NotImplementedError

    def _apply_overridden(self, variables: Sequence, grads: Sequence) -> None:
        """A step through an ``_update`` overridden in a subclass or on the instance: one call per
        parameter, with every gradient checked first, Ctrl-C held until the step is complete, and
        the parameters and slots put back if an update raises half-way."""
        index = self._index
        if any(id(v) not in index for v in variables):
            self.build(variables)
        for var, grad in zip(variables, grads):  # every check before the first update
            if grad is not None and (tuple(grad.shape) != tuple(var.shape) or grad.dtype != var.dtype):
                raise ValueError(f"{type(self).__name__}.apply: gradient of shape {_shape(grad)} ({grad.dtype}) "
                                 f"for a variable of shape {_shape(var)} ({var.dtype}); nothing was updated")
        lr = self.learning_rate
        slots = self._slots
        pairs = [(var, grad, slots[index[id(var)]]) for var, grad in zip(variables, grads) if grad is not None]
        with _sigint_deferred():
            _apply_with_rollback(self._update, pairs, lr)
            self.iterations += 1  # inside: a held Ctrl-C surfaces after a complete step

    def apply_gradients(self, grads_and_vars: Iterable[Tuple]) -> None:
        """Keras's API: one step over ``(gradient, variable)`` pairs."""
        pairs = list(grads_and_vars)
        self.apply([v for _, v in pairs], [g for g, _ in pairs])

    def _update(self, var, grad, slots: Tuple, learning_rate: float) -> None:
        raise NotImplementedError

    def get_config(self) -> Dict:
        lr = self._learning_rate
        return {"name": self.name, "learning_rate": lr if callable(lr) else float(lr)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, as ``keras.optimizers.SGD``:

        w -= learning_rate * g                                     (momentum == 0)
        v = momentum * v - learning_rate * g;  w += v               (momentum > 0)
        v = momentum * v - learning_rate * g;  w += momentum * v - learning_rate * g   (nesterov)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD"):
        super().__init__(learning_rate, name)
        self.momentum = _check_range("SGD", "momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def _slot_names(self):
        return ("momentum",) if self.momentum != 0 else ()

    def _step(self, variables, grads, slot_lists):
        _kernels.sgd_step(variables, grads, slot_lists[0] if self.momentum != 0 else [], momentum=self.momentum,
                          nesterov=self.nesterov, state=self._state)

    def _update(self, var, grad, slots, lr):
        _kernels.sgd_(var, grad, slots[0] if slots else None, learning_rate=lr, momentum=self.momentum,
                      nesterov=self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop as ``keras.optimizers.RMSprop`` (epsilon inside the square root):

        v = rho * v + (1 - rho) * g^2
        centered: a = rho * a + (1 - rho) * g;  denom = v - a^2 + epsilon   else denom = v + epsilon
        increment = learning_rate * g / sqrt(denom)
        momentum > 0: m = momentum * m + increment;  w -= m          else w -= increment
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, name="rmsprop"):
        super().__init__(learning_rate, name)
        self.rho = _check_range("RMSprop", "rho", rho, 0.0, 1.0)
        self.momentum = _check_range("RMSprop", "momentum", momentum, 0.0, 1.0)
        self.epsilon = _check_range("RMSprop", "epsilon", epsilon, 0.0, math.inf)
        self.centered = bool(centered)

    def _slot_names(self):
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        return names

    def _step(self, variables, grads, slot_lists):
        _kernels.rmsprop_step(variables, grads, slot_lists[0], slot_lists[1] if self.momentum > 0 else [],
                              slot_lists[-1] if self.centered else [], rho=self.rho, momentum=self.momentum,
                              epsilon=self.epsilon, centered=self.centered, state=self._state)

    def _update(self, var, grad, slots, lr):
        velocity = slots[0]
        momentum_buf = slots[1] if self.momentum > 0 else None
        average_grad = slots[-1] if self.centered else None
        _kernels.rmsprop_(var, grad, velocity, momentum_buf, average_grad, learning_rate=lr, rho=self.rho,
                          momentum=self.momentum, epsilon=self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adam(Optimizer):
    """Adam as ``keras.optimizers.Adam`` (epsilon-hat form), at step t = iterations + 1:

        alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
        w -= alpha * m / (sqrt(v) + epsilon)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name="adam"):
        super().__init__(learning_rate, name)
        self.beta_1 = _check_range("Adam", "beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = _check_range("Adam", "beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.epsilon = _check_range("Adam", "epsilon", epsilon, 0.0, math.inf)

    def _slot_names(self):
        return ("momentum", "velocity")

    def _step(self, variables, grads, slot_lists):
        _kernels.adam_step(variables, grads, slot_lists[0], slot_lists[1], beta_1=self.beta_1, beta_2=self.beta_2,
                           epsilon=self.epsilon, state=self._state)

    def _update(self, var, grad, slots, lr):
        _kernels.adam_(var, grad, slots[0], slots[1], learning_rate=lr, beta_1=self.beta_1, beta_2=self.beta_2,
                       epsilon=self.epsilon, step=self.iterations + 1)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}


def _shape(t) -> str:
    return "(" + ",".join(str(d) for d in t.shape) + ")"


_BUILTIN_UPDATES = frozenset({SGD._update, RMSprop._update, Adam._update})


class _sigint_deferred:
    """Holds SIGINT (Ctrl-C) for the duration of the block and raises KeyboardInterrupt after
    it, when Python's default handler is installed and this is the main thread."""

    __slots__ = ("_previous", "_pending")

    def __enter__(self):
        self._previous = None
        self._pending = False
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            def hold(signum, frame):
                self._pending = True
            self._previous = signal.signal(signal.SIGINT, hold)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            if self._pending and exc_type is None:
                raise KeyboardInterrupt
        return False


def _apply_with_rollback(update, pairs, lr) -> None:
    import tensorlet as tl

    saved = []
    try:
        for var, grad, var_slots in pairs:
            with tl.no_grad():
                saved.append((var, var.detach().numpy().copy(), [(s, s.numpy().copy()) for s in var_slots]))
            update(var, grad, var_slots, lr)
    except BaseException:
        with tl.no_grad():
            for var, value, slot_values in saved:
                var.detach()[...] = value
                for s, v in slot_values:
                    s[...] = v
        raise


def get(identifier) -> Optimizer:
    """An optimizer from a name ('sgd', 'rmsprop', 'adam'; any case) or an Optimizer instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return by_name("optimizer", identifier, _BY_NAME)()
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r} (expected one of "
        f"{', '.join(repr(n) for n in _BY_NAME)} or a tensorlet.optimizers.Optimizer instance)"
    )


def serialize(optimizer: Optimizer) -> Dict:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
