"""Learning-rate schedules with Keras 3's names, defaults and formulas
(``keras.optimizers.schedules``; also ``tensorlet.optimizers.schedules``).

A schedule maps the optimizer's step count (0 before the first step) to a learning rate. An
optimizer given one evaluates it in Python before every step, in float64, and writes the value
into the state its step reads; a captured train step does the same before each replay (see
``capture.before_each_replay``), so a schedule costs one Python call per batch and stays exact
under capture. Keras evaluates in the dtype of ``initial_learning_rate`` (float32 for a Python
float), so values can differ from Keras's in the 8th digit.
"""

from __future__ import annotations

import math
from typing import Dict, Sequence

from ._lookup import Configurable, serialize
from ._lookup import deserialize as _deserialize

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
           "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts", "serialize", "deserialize"]


def _positive(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{owner}: argument `{name}` must be > 0, got {value!r}")
    return value


class LearningRateSchedule(Configurable):
    """Base class: ``__call__(step) -> learning rate`` and ``get_config()``."""

    def __call__(self, step) -> float:
        raise NotImplementedError


class _RatioDecay(LearningRateSchedule):
    """Shared by the decays of p = step / decay_steps (floored if staircase)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive(type(self).__name__, "decay_steps", decay_steps)
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def __call__(self, step):
        p = float(step) / self.decay_steps
        return self._decay(float(self.initial_learning_rate), math.floor(p) if self.staircase else p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RatioDecay):
    """initial_learning_rate * decay_rate ^ p, p = step / decay_steps (floored if staircase)."""

    def _decay(self, lr, p):
        return lr * float(self.decay_rate) ** p


class InverseTimeDecay(_RatioDecay):
    """initial_learning_rate / (1 + decay_rate * p), p = step / decay_steps (floored if staircase)."""

    def _decay(self, lr, p):
        return lr / (1.0 + self.decay_rate * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] for step <= boundaries[0], values[i] for boundaries[i-1] < step <= boundaries[i],
    values[-1] after the last boundary."""

    def __init__(self, boundaries: Sequence, values: Sequence, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError("PiecewiseConstantDecay: the length of `boundaries` should be 1 less than the length "
                             f"of `values`, got {len(boundaries)} boundaries and {len(values)} values")
        if any(b >= a for b, a in zip(boundaries, boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay: `boundaries` must be increasing, got {list(boundaries)}")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        step = float(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """(initial - end) * (1 - step / decay_steps) ^ power + end, with step capped at decay_steps;
    with ``cycle``, decay_steps is multiplied by ceil(step / decay_steps) (1 at step 0) instead."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive("PolynomialDecay", "decay_steps", decay_steps)
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        step = float(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return (float(self.initial_learning_rate) - self.end_learning_rate) * (1.0 - p) ** self.power + \
            float(self.end_learning_rate)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


def _cosine(lr: float, step: float, decay_steps: float, alpha: float, m_fac: float = 1.0) -> float:
    cosine = 0.5 * m_fac * (1.0 + math.cos(math.pi * step / decay_steps))
    return lr * ((1.0 - alpha) * cosine + alpha)


class CosineDecay(LearningRateSchedule):
    """Without warmup: lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha).
    With ``warmup_target``: a linear ramp from initial_learning_rate to warmup_target over
    ``warmup_steps``, then that decay from warmup_target (step counted from the warmup's end)."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = _positive("CosineDecay", "decay_steps", decay_steps)
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = float(step)
        initial = float(self.initial_learning_rate)
        if self.warmup_target is None:
            return _cosine(initial, min(step, self.decay_steps), self.decay_steps, self.alpha)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            return (self.warmup_target - initial) * (step / self.warmup_steps) + initial
        return _cosine(float(self.warmup_target), step - self.warmup_steps, self.decay_steps, self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay over first_decay_steps, restarted with periods t_mul times longer and peaks
    m_mul times lower each time (SGDR)."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = _positive("CosineDecayRestarts", "first_decay_steps", first_decay_steps)
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = float(step) / self.first_decay_steps
        if self.t_mul != 1.0:  # geometric periods: restart i begins at (1 - t_mul^i) / (1 - t_mul)
            i_restart = math.floor(math.log(1.0 - fraction * (1.0 - self.t_mul)) / math.log(self.t_mul))
            start = (1.0 - self.t_mul ** i_restart) / (1.0 - self.t_mul)
            fraction = (fraction - start) / self.t_mul ** i_restart
        else:
            i_restart = math.floor(fraction)
            fraction -= i_restart
        return _cosine(float(self.initial_learning_rate), fraction, 1.0, self.alpha, self.m_mul ** i_restart)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self.t_mul, "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


_CLASSES = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay,
                                    CosineDecay, CosineDecayRestarts)}


def deserialize(config: Dict, custom_objects=None) -> LearningRateSchedule:
    return _deserialize("learning rate schedule", config, _CLASSES, custom_objects)
