"""Keras's Variable methods on tensors (a tensorlet weight is a Tensor): ``assign``,
``assign_add``, ``assign_sub``. They write in place without recording a gradient, check the
shape first, and return the tensor, as ``keras.Variable.assign`` does."""

from __future__ import annotations

from ._core import Tensor
from .autograd import no_grad


def _value(self, value, what: str):
    from . import asarray
    value = asarray(value, dtype=self.dtype)
    if tuple(value.shape) != tuple(self.shape):
        raise ValueError(f"{what}: the value has shape {tuple(value.shape)}, but the variable has shape "
                         f"{tuple(self.shape)}")
    return value


def assign(self, value):
    value = _value(self, value, "assign")
    with no_grad():
        self[...] = value
    return self


def assign_add(self, value):
    value = _value(self, value, "assign_add")
    with no_grad():
        self[...] = self + value
    return self


def assign_sub(self, value):
    value = _value(self, value, "assign_sub")
    with no_grad():
        self[...] = self - value
    return self


for _name, _fn in (("assign", assign), ("assign_add", assign_add), ("assign_sub", assign_sub)):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)
