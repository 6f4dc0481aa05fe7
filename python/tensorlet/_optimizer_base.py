"""The optimizers' base class: learning rate and step count in a C++ ``StepState`` (and the rate
as a 0-d tensor for tensor-op steps), slots, Keras's gradient clipping and weight decay, and the
step paths (one fused C++ call, or an ``_update`` overridden in Python). See ``optimizers``."""

from __future__ import annotations

import math
import signal
import threading
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as _np

from . import _core
from . import capture as _capture
from .schedules import LearningRateSchedule

_kernels = _core._optim


def _check_range(owner: str, name: str, value, lo: float, hi: float, hi_open: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{owner}: `{name}` must be a finite number, got {value!r}")
    if value < lo or value > hi or (hi_open and value == hi):
        bracket = ")" if hi_open else "]"
        raise ValueError(f"{owner}: `{name}` must be in [{lo}, {hi}{bracket}, got {value!r}")
    return float(value)


class LearningRateValue(float):
    """``optimizer.learning_rate``: the rate as a float that also answers Keras's variable API,
    so ``optimizer.learning_rate.assign(1e-4)`` works as in Keras (it sets the optimizer's rate;
    a schedule's rate cannot be assigned, as in Keras)."""

    def __new__(cls, value: float, optimizer):
        self = super().__new__(cls, value)
        self._optimizer = optimizer
        return self

    def assign(self, value) -> None:
        self._optimizer.learning_rate = float(value)

    def numpy(self) -> _np.ndarray:
        return _np.asarray(float(self), dtype=_np.float32)

    @property
    def value(self) -> float:
        return float(self)

    def __reduce__(self):  # pickles (and copies) as the plain number
        return float, (float(self),)


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

    def __init__(self, learning_rate, name: str, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None):
        import tensorlet as tl

        self._state = _kernels.StepState()
        # The learning rate as a 0-d tensor too, for the parts of a step made of tensor ops (weight
        # decay, the tensor-op optimizers): a captured step reads its current value at replay.
        self._lr_tensor = tl.zeros((), dtype="float64")
        self.learning_rate = learning_rate  # validated, and into the state when a number
        self.name = name
        owner = type(self).__name__
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(f"{owner}: only one of `clipnorm` and `global_clipnorm` can be set, got "
                             f"clipnorm={clipnorm!r}, global_clipnorm={global_clipnorm!r}")
        self.weight_decay = None if weight_decay is None else _check_range(owner, "weight_decay", weight_decay, 0.0,
                                                                           math.inf)
        self.clipnorm = None if clipnorm is None else _check_range(owner, "clipnorm", clipnorm, 0.0, math.inf)
        self.clipvalue = None if clipvalue is None else _check_range(owner, "clipvalue", clipvalue, 0.0, math.inf)
        self.global_clipnorm = None if global_clipnorm is None else _check_range(owner, "global_clipnorm",
                                                                                 global_clipnorm, 0.0, math.inf)
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
    def learning_rate(self) -> "LearningRateValue":
        """The current rate, a float with Keras's variable methods (``assign``, ``numpy``)."""
        lr = self._learning_rate
        return LearningRateValue(float(lr(self.iterations)) if callable(lr) else lr, self)

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if not callable(value):
            if isinstance(getattr(self, "_learning_rate", None), LearningRateSchedule):
                # as Keras: a number would silently replace the schedule
                raise TypeError(f"{type(self).__name__} was created with a LearningRateSchedule as its learning_rate, "
                                "so its learning rate is not settable; create it with a float learning_rate instead")
            value = _check_range(type(self).__name__, "learning_rate", value, 0.0, math.inf)
            self._set_rate(value)
        self._learning_rate = value

    def _set_rate(self, value: float) -> None:
        # Written through NumPy, not a tensor op: a write made during a capture must not be
        # recorded (a replay would write the recorded value back).
        self._state.learning_rate = value
        _capture._C.host_access(True)  # a write of host state, not a read of the step's values
        try:
            _np.asarray(self._lr_tensor)[...] = value
        finally:
            _capture._C.host_access(False)

    def _sync_learning_rate(self) -> None:
        """A schedule's rate for the coming step, into the state the step reads (a captured step
        calls this before each replay: a schedule is evaluated in Python once per batch, so its
        reads of tensor values, if any, are not frozen by a capture)."""
        _capture._C.host_access(True)
        try:
            self._set_rate(_check_range(type(self).__name__, "learning_rate", self.learning_rate, 0.0, math.inf))
        finally:
            _capture._C.host_access(False)

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
            clip = self._clips and not self._kernel_clips
            decay = self.weight_decay is not None and not self._kernel_decays
            if clip or decay:
                grads = self._clip_and_decay(variables, grads, clip=clip, decay=decay)
            try:
                self._step(variables, grads, plan[1])
            except ValueError as e:
                raise ValueError(f"{type(self).__name__}.apply: {e}; nothing was updated") from None
        else:
            self._apply_overridden(variables, [v.grad for v in variables] if grads is None else grads)
        self._apply_constraints(variables, grads)

    @staticmethod
    def _apply_constraints(variables: Sequence, grads: Optional[Sequence]) -> None:
        """As Keras, after the step: each variable with a gradient and a ``constraint`` becomes
        ``constraint(variable)`` (tensor ops: a captured step replays them)."""
        import tensorlet as tl

        for i, var in enumerate(variables):
            constraint = getattr(var, "constraint", None)
            if constraint is None or (var.grad if grads is None else grads[i]) is None:
                continue
            with tl.no_grad():
                var.detach()[...] = constraint(var.detach())

    #: Whether the fused step applies the weight decay / the clipping itself (the catalog kernel does).
    _kernel_decays = False
    _kernel_clips = False

    @property
    def _clips(self) -> bool:
        return bool(self.clipnorm or self.clipvalue or self.global_clipnorm)

    def _clip_and_decay(self, variables: Sequence, grads: Optional[Sequence], clip: bool = True,
                        decay: bool = True) -> List:
        """Keras's order: (``clip``) the gradients are clipped, then (``decay``) each variable with a
        gradient decays by ``w -= w * weight_decay * learning_rate``; tensor ops, so a captured
        step replays them."""
        import tensorlet as tl

        grads = [v.grad for v in variables] if grads is None else list(grads)
        for var, grad in zip(variables, grads):  # checked here: the clipping reads them first
            if grad is not None and (tuple(grad.shape) != tuple(var.shape) or grad.dtype != var.dtype):
                raise ValueError(f"{type(self).__name__}.apply: gradient of shape {_shape(grad)} ({grad.dtype}) "
                                 f"for a variable of shape {_shape(var)} ({var.dtype}); nothing was updated")
        with tl.no_grad():
            if clip:
                grads = _clip_gradients(grads, self.clipnorm, self.global_clipnorm, self.clipvalue)
            if self.weight_decay is not None and decay:
                rates = {}
                for var, grad in zip(variables, grads):
                    if grad is None or not self._use_weight_decay(var):
                        continue
                    if var.dtype not in rates:
                        rates[var.dtype] = (self._lr_tensor * self.weight_decay).astype(var.dtype)
                    var.detach().__isub__(var.detach() * rates[var.dtype])
        return grads

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """As Keras: the variables of ``var_list``, and those whose ``name`` contains one of
        ``var_names``, do not decay."""
        self._no_decay_ids = {id(v) for v in (var_list or ())}
        self._no_decay_names = tuple(var_names or ())

    def _use_weight_decay(self, var) -> bool:
        if id(var) in getattr(self, "_no_decay_ids", ()):
            return False
        name = getattr(var, "name", None) or ""
        return not any(n in name for n in getattr(self, "_no_decay_names", ()))

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
        if self._clips or self.weight_decay is not None:
            self._set_rate(lr)
            grads = self._clip_and_decay(variables, grads)
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
        if hasattr(lr, "get_config"):
            from . import schedules as _schedules

            lr = _schedules.serialize(lr)
        return {"name": self.name, "learning_rate": lr if callable(lr) or isinstance(lr, dict) else float(lr),
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue}

    @classmethod
    def from_config(cls, config: Dict) -> "Optimizer":
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            from . import schedules as _schedules

            config["learning_rate"] = _schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def _clip_gradients(grads: List, clipnorm, global_clipnorm, clipvalue) -> List:
    """Keras's clipping, one kind at most (clipnorm, else global_clipnorm, else clipvalue):
    g * c / max(||g||, c) per gradient; g * c * min(1 / global_norm, 1 / c) for all; clip(g, -c, c)."""
    import tensorlet as tl

    if clipnorm:
        return [None if g is None else g * clipnorm / tl.maximum(tl.sqrt(tl.sum(tl.square(g))), clipnorm)
                for g in grads]
    if global_clipnorm:
        present = [g for g in grads if g is not None]
        if not present:
            return grads
        total = tl.sum(tl.stack([tl.sum(tl.square(g)).astype("float64") for g in present]))
        scale = global_clipnorm * tl.minimum(1.0 / tl.sqrt(total), 1.0 / global_clipnorm)
        return [None if g is None else g * scale.astype(g.dtype) for g in grads]
    if clipvalue:
        return [None if g is None else tl.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads


def _shape(t) -> str:
    return "(" + ",".join(str(d) for d in t.shape) + ")"


# The built-in ``_update`` methods (modules defining optimizers add theirs): an optimizer whose
# ``_update`` is one of them takes the step path that a captured step can replay.
_BUILTIN_UPDATES = set()


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

