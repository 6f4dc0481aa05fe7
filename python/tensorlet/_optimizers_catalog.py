"""Adagrad, Adadelta, Adamax, Nadam and Lion with Keras 3's names, defaults and update
rules (keras/src/optimizers/*.py), as tensor-op steps (see _optimizers_tensor)."""

from __future__ import annotations

import math

import tensorlet as tl

from ._optimizers_tensor import TensorStepOptimizer, _assign
from ._optimizer_base import _check_range

__all__ = ["Adagrad", "Adadelta", "Adamax", "Nadam", "Lion"]


class Adagrad(TensorStepOptimizer):
    """accumulator += g^2;  w -= lr * g / sqrt(accumulator + epsilon)."""

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

    def _rule(self, var, g, slots, lr, t):
        acc = slots[0]
        acc.__iadd__(tl.square(g))
        var.__isub__(lr * g / tl.sqrt(acc + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(TensorStepOptimizer):
    """a = rho * a + (1 - rho) * g^2;  delta = -sqrt(d + eps) * g / sqrt(a + eps);
    d = rho * d + (1 - rho) * delta^2;  w += lr * delta."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="adadelta"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.rho = _check_range("Adadelta", "rho", rho, 0.0, 1.0)
        self.epsilon = _check_range("Adadelta", "epsilon", epsilon, 0.0, math.inf)

    def _slot_names(self):
        return ("accumulated_grad", "accumulated_delta_var")

    def _rule(self, var, g, slots, lr, t):
        acc_g, acc_d = slots
        rho, eps = self.rho, self.epsilon
        _assign(acc_g, rho * acc_g + (1.0 - rho) * tl.square(g))
        delta = -(tl.sqrt(acc_d + eps) * g / tl.sqrt(acc_g + eps))
        _assign(acc_d, rho * acc_d + (1.0 - rho) * tl.square(delta))
        var.__iadd__(lr * delta)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(TensorStepOptimizer):
    """m += (g - m) * (1 - beta_1);  u = max(beta_2 * u, |g|);
    w -= lr * m / ((1 - beta_1^t) * (u + epsilon))."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamax"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta_1 = _check_range("Adamax", "beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = _check_range("Adamax", "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _check_range("Adamax", "epsilon", epsilon, 0.0, math.inf)

    def _slot_names(self):
        return ("momentum", "norm")

    def _rule(self, var, g, slots, lr, t):
        m, u = slots
        beta_1_power = tl.power(tl.asarray(self.beta_1, dtype=var.dtype), t)
        m.__iadd__((g - m) * (1.0 - self.beta_1))
        _assign(u, tl.maximum(self.beta_2 * u, tl.abs(g)))
        var.__isub__((lr * m) / ((1.0 - beta_1_power) * (u + self.epsilon)))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(TensorStepOptimizer):
    """Adam with Nesterov momentum (keras/src/optimizers/nadam.py). Once per step
    u_product *= u_t, with u_t = beta_1 * (1 - 0.5 * 0.96^t); per parameter, with
    u_t1 = beta_1 * (1 - 0.5 * 0.96^(t+1)):

        m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
        m_hat = u_t1 * m / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product)
        w -= m_hat * lr / (sqrt(v / (1 - beta_2^t)) + epsilon)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="nadam"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta_1 = _check_range("Nadam", "beta_1", beta_1, 0.0, 1.0, hi_open=True)
        self.beta_2 = _check_range("Nadam", "beta_2", beta_2, 0.0, 1.0, hi_open=True)
        self.epsilon = _check_range("Nadam", "epsilon", epsilon, 0.0, math.inf)
        self._u_product = tl.ones((), dtype="float64")

    def _slot_names(self):
        return ("momentum", "velocity")

    def _begin_step(self):
        t = self._steps + 1.0
        self._u_product.__imul__(self.beta_1 * (1.0 - 0.5 * tl.power(tl.asarray(0.96, dtype="float64"), t)))

    def _rule(self, var, g, slots, lr, t):
        m, v = slots
        dt = var.dtype
        decay = tl.asarray(0.96, dtype=dt)
        u_t = self.beta_1 * (1.0 - 0.5 * tl.power(decay, t))
        u_t1 = self.beta_1 * (1.0 - 0.5 * tl.power(decay, t + 1.0))
        u_product = self._u_product.astype(dt)
        u_product_t1 = u_product * u_t1
        beta_2_power = tl.power(tl.asarray(self.beta_2, dtype=dt), t)
        m.__iadd__((g - m) * (1.0 - self.beta_1))
        v.__iadd__((tl.square(g) - v) * (1.0 - self.beta_2))
        m_hat = u_t1 * m / (1.0 - u_product_t1) + (1.0 - u_t) * g / (1.0 - u_product)
        v_hat = v / (1.0 - beta_2_power)
        var.__isub__((m_hat * lr) / (tl.sqrt(v_hat) + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Lion(TensorStepOptimizer):
    """w -= lr * sign(m * beta_1 + g * (1 - beta_1));  m = m * beta_2 + g * (1 - beta_2)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="lion"):
        super().__init__(learning_rate, name, weight_decay, clipnorm, clipvalue, global_clipnorm)
        if isinstance(beta_1, (int, float)) and not isinstance(beta_1, bool) and beta_1 <= 0:
            raise ValueError(f"Lion: `beta_1` must be in (0, 1] (0 degenerates to SignSGD), got {beta_1!r}")
        self.beta_1 = _check_range("Lion", "beta_1", beta_1, 0.0, 1.0)
        self.beta_2 = _check_range("Lion", "beta_2", beta_2, 0.0, 1.0)

    def _slot_names(self):
        return ("momentum",)

    def _rule(self, var, g, slots, lr, t):
        m = slots[0]
        var.__isub__(lr * tl.sign(m * self.beta_1 + g * (1.0 - self.beta_1)))
        _assign(m, m * self.beta_2 + g * (1.0 - self.beta_2))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
