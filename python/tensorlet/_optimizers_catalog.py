"""Adagrad, Adadelta, Adamax, Nadam and Lion with Keras 3's names, defaults and update
rules (keras/src/optimizers/*.py); each step is one fused C++ call (see _optimizers_fused and
csrc/kernels/optim.h, where the formulas are written out)."""

from __future__ import annotations

import math

from ._optimizers_fused import CatalogOptimizer
from ._optimizer_base import _check_range

__all__ = ["Adagrad", "Adadelta", "Adamax", "Nadam", "Lion"]


class Adagrad(CatalogOptimizer):
    """accumulator += g^2;  w -= lr * g / sqrt(accumulator + epsilon)."""

    _rule = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adagrad"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.initial_accumulator_value = _check_range("Adagrad", "initial_accumulator_value",
                                                      initial_accumulator_value, 0.0, math.inf)
        self.epsilon = _check_range("Adagrad", "epsilon", epsilon, 0.0, math.inf)

    def _slot_names(self):
        return ("accumulator",)

    def _slot_initial_value(self, name):
        return self.initial_accumulator_value

    def _hyper(self):
        return {"epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(CatalogOptimizer):
    """a = rho * a + (1 - rho) * g^2;  delta = -sqrt(d + eps) * g / sqrt(a + eps);
    d = rho * d + (1 - rho) * delta^2;  w += lr * delta."""

    _rule = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="adadelta"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.rho = _check_range("Adadelta", "rho", rho, 0.0, 1.0)
        self.epsilon = _check_range("Adadelta", "epsilon", epsilon, 0.0, math.inf)

    def _slot_names(self):
        return ("accumulated_grad", "accumulated_delta_var")

    def _hyper(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(CatalogOptimizer):
    """m += (g - m) * (1 - beta_1);  u = max(beta_2 * u, |g|);
    w -= lr * m / ((1 - beta_1^t) * (u + epsilon))."""

    _rule = "adamax"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamax"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta_1 = _check_range("Adamax", "beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = _check_range("Adamax", "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _check_range("Adamax", "epsilon", epsilon, 0.0, math.inf)

    def _slot_names(self):
        return ("momentum", "norm")

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(CatalogOptimizer):
    """Adam with Nesterov momentum (keras/src/optimizers/nadam.py). Once per step
    u_product *= u_t, with u_t = beta_1 * (1 - 0.5 * 0.96^t); per parameter, with
    u_t1 = beta_1 * (1 - 0.5 * 0.96^(t+1)):

        m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
        m_hat = u_t1 * m / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
        w -= m_hat * lr / (sqrt(v / (1 - beta_2^t)) + epsilon)
    """

    _rule = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="nadam"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta_1 = _check_range("Nadam", "beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = _check_range("Nadam", "beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.epsilon = _check_range("Nadam", "epsilon", epsilon, 0.0, math.inf)

    def _slot_names(self):
        return ("momentum", "velocity")

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def _set_iterations(self, value: int) -> None:
        # the momentum product (in the state, advanced by each step) follows the count
        CatalogOptimizer.iterations.fset(self, value)
        self._state.u_product = math.prod(self.beta_1 * (1.0 - 0.5 * 0.96 ** t) for t in range(1, int(value) + 1))

    iterations = property(CatalogOptimizer.iterations.fget, _set_iterations)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Lion(CatalogOptimizer):
    """w -= lr * sign(m * beta_1 + g * (1 - beta_1));  m = m * beta_2 + g * (1 - beta_2)."""

    _rule = "lion"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="lion"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
        if isinstance(beta_1, (int, float)) and not isinstance(beta_1, bool) and beta_1 <= 0:
            raise ValueError(f"Lion: `beta_1` must be in (0, 1] (0 degenerates to SignSGD), got {beta_1!r}")
        self.beta_1 = _check_range("Lion", "beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _check_range("Lion", "beta_2", beta_2, 0.0, 1.0)

    def _slot_names(self):
        return ("momentum",)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
