"""Weight and activity regularizers with Keras 3's names and formulas (``keras.regularizers``).

A regularizer is a callable ``penalty = regularizer(tensor)``, built from tensor ops so it
differentiates. The protocol shared with layers and the trainer:

- a weight created with a regularizer carries it as ``weight.regularizer``;
- a layer with an ``activity_regularizer`` records ``activity_regularizer(output) / batch_size``
  on each call (``record_activity``, replaced by the next call; kept outside the layer, so
  copies and pickles of a model do not carry graph tensors);
- ``layer.losses`` (so ``model.losses``) lists the current penalties (``layer_losses``), and the
  train and test steps add their sum to the loss, inside the step: a captured step replays them.
"""

from __future__ import annotations

import math
import weakref
from typing import Dict, List

import tensorlet as tl

from ._lookup import Configurable, by_name, serialize
from ._lookup import deserialize as _deserialize

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2", "orthogonal_regularizer",
           "get", "serialize", "deserialize", "layer_losses"]


def _factor(owner: str, name: str, value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{owner}: `{name}` must be a non-negative finite number, got {value!r}")
    return float(value)


class Regularizer(Configurable):
    """Base class: ``__call__(x)`` returns a 0-d penalty tensor; ``get_config()``."""

    def __call__(self, x):
        return tl.zeros((), dtype=x.dtype)


class L1(Regularizer):
    """l1 * sum(|x|)."""

    def __init__(self, l1=0.01):
        self.l1 = _factor("L1", "l1", l1)

    def __call__(self, x):
        return self.l1 * tl.sum(tl.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """l2 * sum(x^2)."""

    def __init__(self, l2=0.01):
        self.l2 = _factor("L2", "l2", l2)

    def __call__(self, x):
        return self.l2 * tl.sum(tl.square(x))

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2) (terms with a zero factor are left out)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor("L1L2", "l1", l1)
        self.l2 = _factor("L1L2", "l2", l2)

    def __call__(self, x):
        penalty = tl.zeros((), dtype=x.dtype)
        if self.l1:
            penalty = penalty + self.l1 * tl.sum(tl.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * tl.sum(tl.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """factor * mean |off-diagonal entries of (X X^T)| for the L2-normalised rows of a 2-D
    tensor (mode='rows') or columns (mode='columns'): the vectors are pushed to orthogonality."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _factor("OrthogonalRegularizer", "factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: `mode` must be 'rows' or 'columns', got {mode!r}")
        self.mode = mode

    def __call__(self, x):
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer: inputs must be 2-D, got shape {tuple(x.shape)}")
        if self.mode == "columns":
            x = tl.transpose(x)
        norms = tl.sqrt(tl.maximum(tl.sum(tl.square(x), axis=1, keepdims=True), 1e-12))
        x = x / norms
        size = x.shape[0]
        off_diagonal = tl.matmul(x, tl.transpose(x)) * (1.0 - tl.eye(size, dtype=x.dtype))
        return self.factor * tl.sum(tl.abs(off_diagonal)) / (size * (size - 1))

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras's function names are the classes.
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer
_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer,
            "orthogonalregularizer": OrthogonalRegularizer}


def get(identifier):
    """None, a Regularizer, a callable, a name ('l1', 'l2', 'l1_l2'; default factors), or a
    serialized dict."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return by_name("regularizer", identifier, _BY_NAME)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")


def deserialize(config: Dict, custom_objects=None):
    return _deserialize("regularizer", config, {c.__name__: c for c in (L1, L2, L1L2, OrthogonalRegularizer)},
                        custom_objects)


# layer -> the activity penalties of its latest call
_ACTIVITY: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def record_activity(layer, penalties: List) -> None:
    _ACTIVITY[layer] = penalties


def activity_penalty(regularizer, output):
    """Keras's activity loss of one output: regularizer(output) / batch size (for rank >= 1)."""
    penalty = regularizer(output)
    if output.ndim > 0 and output.shape[0] > 0:
        penalty = penalty / output.shape[0]
    return penalty


def _layers(layer):
    """``layer`` and its sublayers, each once."""
    pending, seen = [layer], set()
    while pending:
        current = pending.pop()
        if id(current) not in seen:
            seen.add(id(current))
            yield current
            pending.extend(current._tracked_layers())


def layer_losses(layer) -> List:
    """The penalties of ``layer`` and its sublayers: each weight's ``regularizer(weight)``, and
    the activity penalties and ``add_loss`` losses of the latest call."""
    out = [w.regularizer(w) for w in layer.weights if getattr(w, "regularizer", None) is not None]
    for current in _layers(layer):
        out.extend(_ACTIVITY.get(current, ()))
        out.extend(current.__dict__.get("_added_losses", ()))  # Layer.add_loss in the latest call
    return out

