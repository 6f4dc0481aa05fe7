"""The optimizers whose step is composed of tensor ops (AdamW, Adagrad, Adadelta, Adamax, Nadam,
Lion, and Adam with amsgrad), with Keras 3's formulas, operation for operation.

Why tensor ops and not a fused C++ kernel per optimizer: every op of the step (including the
in-place writes to parameters and slots) is recorded by a capture and replayed in C++ without
Python, so a captured train step stays captured. The step count and the learning rate are 0-d
tensors (``_steps``, ``_lr_tensor``) that the step reads, so a replay uses the current rate and
the right bias corrections. The cost is one kernel call per op per parameter instead of one call
per step (see README, "Optimizers").
"""

from __future__ import annotations

import math
from typing import List, Optional, Sequence

import numpy as _np

import tensorlet as tl

from ._optimizer_base import Optimizer, _check_range, _shape


class TensorStepOptimizer(Optimizer):
    """Base of the tensor-op optimizers: subclasses define ``_slot_names()`` and
    ``_rule(var, grad, slots, lr, t)``, which updates one parameter in place, with ``lr`` and
    ``t`` (the 1-based step) as 0-d tensors of the parameter's dtype. ``_fused`` (an instance
    attribute) True sends the step to the subclass's fused ``_fused_step`` instead."""

    _fused = False

    def __init__(self, learning_rate, name, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None):
        self._steps = tl.zeros((), dtype="float64")  # the step count the tensor ops read
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)

    @property
    def iterations(self) -> int:
        return self._state.iterations if self._fused else int(float(self._steps))

    @iterations.setter
    def iterations(self, value: int) -> None:
        self._state.iterations = int(value)
        _np.asarray(self._steps)[...] = float(int(value))  # not a recorded op (see _set_rate)

    def _slot_initial_value(self, name: str) -> float:
        return 0.0

    def build(self, variables) -> None:
        new = [v for v in variables if id(v) not in self._index]
        super().build(variables)
        for var in new:
            for name, slot in zip(self._slot_names(), self._slots[self._index[id(var)]]):
                value = self._slot_initial_value(name)
                if value:
                    slot.fill(value)

    def _begin_step(self) -> None:
        """Per-step state updated once before the parameters (Nadam's momentum product)."""

    def _step(self, variables: Sequence, grads: Optional[Sequence], slot_lists: List[List]) -> None:
        if self._fused:
            self._fused_step(variables, grads, slot_lists)
            return
        grads = [v.grad for v in variables] if grads is None else list(grads)
        for i, (var, grad) in enumerate(zip(variables, grads)):  # every check before the first write
            if grad is None:
                continue
            if var.dtype not in (tl.float32, tl.float64):
                raise ValueError(f"param {i} must be float32 or float64, got {var.dtype} (shape {_shape(var)})")
            if tuple(grad.shape) != tuple(var.shape) or grad.dtype != var.dtype:
                raise ValueError(f"gradient {i} of shape {_shape(grad)} ({grad.dtype}) for a variable of shape "
                                 f"{_shape(var)} ({var.dtype})")
        with tl.no_grad():
            self._begin_step()
            scalars = {}
            for i, (var, grad) in enumerate(zip(variables, grads)):
                if grad is None:
                    continue
                if var.dtype not in scalars:
                    scalars[var.dtype] = (self._lr_tensor.astype(var.dtype), (self._steps + 1.0).astype(var.dtype))
                lr, t = scalars[var.dtype]
                self._rule(var.detach(), grad, [slots[i] for slots in slot_lists], lr, t)
            self._steps.__iadd__(1.0)

    def _fused_step(self, variables, grads, slot_lists) -> None:
        raise NotImplementedError

    def _update(self, var, grad, slots, lr):
        """One parameter at learning rate ``lr`` (for subclasses overriding ``_update`` that call
        it); the built-in step goes through ``_step``."""
        if self._fused:
            raise NotImplementedError(f"{type(self).__name__}._update: use apply()")
        with tl.no_grad():
            self._rule(var.detach(), grad, list(slots), tl.full((), lr, dtype=var.dtype),
                       tl.full((), self.iterations + 1, dtype=var.dtype))

    def _rule(self, var, grad, slots, lr, t) -> None:
        raise NotImplementedError


def _assign(target, value) -> None:
    target[...] = value


class AdamRule(TensorStepOptimizer):
    """Adam's update (keras/src/optimizers/adam.py), with amsgrad:

        alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
        amsgrad: v_hat = max(v_hat, v), used in place of v
        w -= (m * alpha) / (sqrt(v) + epsilon)
    """

    def _init_adam(self, beta_1, beta_2, epsilon, amsgrad) -> None:
        owner = type(self).__name__
        self.beta_1 = _check_range(owner, "beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = _check_range(owner, "beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.epsilon = _check_range(owner, "epsilon", epsilon, 0.0, math.inf)
        self.amsgrad = bool(amsgrad)

    def _slot_names(self):
        return ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")

    def _rule(self, var, g, slots, lr, t):
        m, v = slots[0], slots[1]
        alpha = lr * tl.sqrt(1.0 - tl.power(tl.asarray(self.beta_2, dtype=var.dtype), t)) / (
            1.0 - tl.power(tl.asarray(self.beta_1, dtype=var.dtype), t))
        m.__iadd__((g - m) * (1.0 - self.beta_1))
        v.__iadd__((tl.square(g) - v) * (1.0 - self.beta_2))
        if self.amsgrad:
            _assign(slots[2], tl.maximum(slots[2], v))
            v = slots[2]
        var.__isub__((m * alpha) / (tl.sqrt(v) + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}
