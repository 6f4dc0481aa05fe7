"""Optimizers with Keras 3's names, defaults and update rules: ``SGD``, ``RMSprop``, ``Adam``
(``amsgrad``), ``AdamW``, and from _optimizers_catalog ``Adagrad``, ``Adadelta``, ``Adamax``,
``Nadam``, ``Lion``; every one takes ``weight_decay``, ``clipnorm``, ``clipvalue``,
``global_clipnorm`` and a schedule (``optimizers.schedules``) as ``learning_rate``.

Each optimizer owns its hyperparameters and its slot tensors (momentums, velocities); one
step of a built-in optimizer is ONE call into a fused multi-tensor C++ kernel
(``tensorlet._core._optim.*_step``) that validates every parameter, gradient and slot, then
updates all of them in place in one parallel region, outside the autograd graph, and counts the
step. The learning rate and the step count live in a C++ ``StepState`` that the step reads and
advances, so a captured step (``tensorlet.capture``) replayed N times makes N counted steps at the
current learning rate (a schedule is evaluated in Python before each replay). Clipping and weight
decay are done by the catalog kernel, or by tensor ops inside the step for SGD/RMSprop.
"""

from __future__ import annotations

import math
import sys as _sys
from typing import Dict

from . import _core
from . import schedules  # keras.optimizers.schedules
from ._lookup import by_name
from ._optimizer_base import _BUILTIN_UPDATES, Optimizer, _check_range
from ._optimizers_catalog import Adadelta, Adagrad, Adamax, Lion, Nadam
from ._optimizers_fused import AdamRule, CatalogOptimizer

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion",
           "get", "serialize", "schedules"]

_kernels = _core._optim


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, as ``keras.optimizers.SGD``:

        w -= learning_rate * g                                     (momentum == 0)
        v = momentum * v - learning_rate * g;  w += v               (momentum > 0)
        v = momentum * v - learning_rate * g;  w += momentum * v - learning_rate * g   (nesterov)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="SGD"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
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

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="rmsprop"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
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


class Adam(AdamRule):
    """Adam as ``keras.optimizers.Adam`` (epsilon-hat form), at step t = iterations + 1:

        alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
        w -= alpha * m / (sqrt(v) + epsilon)

    One fused C++ call per step: the per-ISA SIMD kernel, or with ``amsgrad=True`` (v replaced by
    its running maximum), a ``weight_decay`` or clipping, the catalog kernel (which also decays and
    clips).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adam"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self._init_adam(beta_1, beta_2, epsilon, amsgrad)

    def _step(self, variables, grads, slot_lists):
        if self.amsgrad or self.weight_decay is not None or self._clips:
            return super()._step(variables, grads, slot_lists)
        _kernels.adam_step(variables, grads, slot_lists[0], slot_lists[1], beta_1=self.beta_1, beta_2=self.beta_2,
                           epsilon=self.epsilon, state=self._state)

    def _update(self, var, grad, slots, lr):
        if self.amsgrad:
            return super()._update(var, grad, slots, lr)
        _kernels.adam_(var, grad, slots[0], slots[1], learning_rate=lr, beta_1=self.beta_1, beta_2=self.beta_2,
                       epsilon=self.epsilon, step=self.iterations + 1)


class AdamW(Adam):
    """Adam with decoupled weight decay (``w -= w * weight_decay * lr`` before each update)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamw"):
        if weight_decay is None:
            raise ValueError("AdamW: `weight_decay` must be a number (it is what AdamW adds to Adam), got None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, name=name)


# `from tensorlet.optimizers.schedules import CosineDecay` works as in Keras.
_sys.modules[__name__ + ".schedules"] = schedules

_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad, "adadelta": Adadelta,
            "adamax": Adamax, "nadam": Nadam, "lion": Lion}
_BUILTIN_UPDATES.update({SGD._update, RMSprop._update, Adam._update, CatalogOptimizer._update})


def get(identifier) -> Optimizer:
    """An optimizer from a name ('sgd', 'adam', 'adamw', ...; any case) or an Optimizer instance."""
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
