"""Data utilities and seeding, as in ``keras.utils``."""

from __future__ import annotations

import random as _py_random
from typing import Optional

import numpy as np

from ._epoch_iterator import unpack_x_y_sample_weight

__all__ = ["to_categorical", "set_random_seed", "unpack_x_y_sample_weight"]


def to_categorical(y, num_classes: Optional[int] = None, dtype="float32"):
    """One-hot encodes integer class labels: shape ``y.shape + (num_classes,)``.

    ``y`` may be a NumPy array, a list or a tensorlet Tensor (the result has the same kind).
    ``num_classes`` defaults to ``max(y) + 1``. Unlike Keras, labels outside
    ``[0, num_classes)`` and non-integer values raise ``ValueError`` instead of silently
    producing a wrong encoding. Keras returns float64; this returns ``dtype`` (float32 by
    default, the dtype models train in).
    """
    is_tensor = _is_tensor(y)
    labels = np.asarray(y)
    if labels.dtype.kind == "f":
        if labels.size and not np.all(np.isfinite(labels) & (labels == np.round(labels))):
            raise ValueError("to_categorical: labels must be integers, got non-integer float values")
    elif labels.dtype.kind not in "iub":
        raise ValueError(f"to_categorical: labels must be integers, got dtype {labels.dtype}")
    labels = labels.astype(np.int64)
    # Keras drops a trailing axis of size 1: (n, 1) labels encode to (n, num_classes).
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"to_categorical: num_classes must be a positive integer, got {num_classes!r}")
    if labels.size:
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= num_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"to_categorical: label {bad} is out of range for num_classes={num_classes} "
                f"(labels must be in [0, {num_classes - 1}])"
            )
    out = np.zeros((labels.size, num_classes), dtype=dtype)
    out[np.arange(labels.size), labels.reshape(-1)] = 1
    out = out.reshape(labels.shape + (num_classes,))
    if is_tensor:
        import tensorlet as tl

        return tl.array(out)
    return out


def set_random_seed(seed: int) -> None:
    """Seeds Python's ``random``, NumPy's global generator and tensorlet's generator, so two
    runs with one seed give identical initial weights, shuffles, dropout masks and losses."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"set_random_seed: seed must be an integer, got {seed!r}")
    seed = int(seed)
    import tensorlet as tl

    _py_random.seed(seed)
    np.random.seed(seed % (2**32))
    tl.random.seed(seed)


def _is_tensor(x) -> bool:
    import tensorlet as tl

    return isinstance(x, tl.Tensor)
