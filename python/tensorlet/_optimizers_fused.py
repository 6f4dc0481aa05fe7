"""The base of the catalog's optimizers (Adam with amsgrad or weight decay, AdamW, Adagrad,
Adadelta, Adamax, Nadam, Lion): each step is ONE call of the fused multi-tensor C++ kernel
``_core._optim.catalog_step`` (csrc/kernels/optim_catalog.cpp), which validates everything,
applies the gradient clipping, the weight decay and the rule's update to every parameter in one
parallel region, and
advances the step count (and Nadam's momentum product) held in the optimizer's ``StepState``;
so a captured step replays it without Python, like SGD, RMSprop and Adam.
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence

from . import _core
from ._optimizer_base import Optimizer, _check_range

_kernels = _core._optim


class CatalogOptimizer(Optimizer):
    """Subclasses set ``_rule`` (the kernel's rule name) and ``_slot_names()``, and may give
    slots a non-zero start (``_slot_initial_value``) and hyperparameters (``_hyper``)."""

    _rule: str = ""
    _kernel_decays = True  # the kernel applies the weight decay and the clipping itself
    _kernel_clips = True

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

    def _hyper(self) -> Dict:
        return {}

    def _decay_factors(self, variables: Sequence) -> List[float]:
        if self.weight_decay is None:
            return []
        return [self.weight_decay if self._use_weight_decay(v) else 0.0 for v in variables]

    def _clip_args(self) -> Dict:
        """Keras's precedence: clipnorm, else global_clipnorm, else clipvalue."""
        for kind, value in (("norm", self.clipnorm), ("global_norm", self.global_clipnorm),
                            ("value", self.clipvalue)):
            if value:
                return {"clip": kind, "clip_value": value}
        return {}

    def _catalog_step(self, rule: str, variables, grads, slot_lists, **hyper) -> None:
        lists = list(slot_lists) + [[]] * (3 - len(slot_lists))
        _kernels.catalog_step(rule, variables, grads, *lists, weight_decay=self._decay_factors(variables),
                              state=self._state, **self._clip_args(), **hyper)

    def _step(self, variables: Sequence, grads: Optional[Sequence], slot_lists: List[List]) -> None:
        self._catalog_step(self._rule, variables, grads, slot_lists, **self._hyper())

    def _update(self, var, grad, slots, lr):
        raise NotImplementedError(f"{type(self).__name__}: the built-in step is one fused call over all variables "
                                  "(apply); an overridden _update must implement its own rule")


class AdamRule(CatalogOptimizer):
    """Adam's hyperparameters and slots (m, v, and v_hat with amsgrad)."""

    _rule = "adam"

    def _init_adam(self, beta_1, beta_2, epsilon, amsgrad) -> None:
        owner = type(self).__name__
        self.beta_1 = _check_range(owner, "beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = _check_range(owner, "beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.epsilon = _check_range(owner, "epsilon", epsilon, 0.0, math.inf)
        self.amsgrad = bool(amsgrad)

    def _slot_names(self):
        return ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}
