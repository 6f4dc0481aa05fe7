"""Validation and conversion of the data given to fit / evaluate / predict.

Runs once per call, before anything is built or trained, so a rejected call leaves the model
as it was. Works on NumPy views of the data (the boundary); training itself only sees Tensors.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Optional

import numpy as np

import tensorlet as tl

from . import losses as losses_module
from .layers.layer import format_shape

__all__ = ["as_numpy", "to_input_tensor", "check_same_length", "check_batch_dimension", "prepare_labels",
           "prepare_sample_weight", "split_validation", "check_batch_size"]


def as_numpy(data, what: str) -> np.ndarray:
    if data is None:
        raise ValueError(f"{what} is None: pass a NumPy array or a tensorlet Tensor")
    arr = np.asarray(data)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ValueError(f"{what} must hold numbers; got an array of dtype {arr.dtype} and shape {arr.shape}")
    if arr.ndim == 0:
        raise ValueError(f"{what} must have a batch dimension; got a scalar")
    return arr


# Under a distributed fit (tensorlet.distribution) each rank checks only its share of the rows:
# (split, found), split(n) -> (lo, hi) of this rank's rows, found the checks made (see
# sharded_finite_checks).
_sharded: Optional[tuple] = None


def _non_finite(arr: np.ndarray):
    """(how many NaN or infinite values, the flat index of the first or None)."""
    # One vectorised pass in the core: a NaN or an infinity makes the sum non-finite, so a
    # finite sum needs no second look (an overflowing sum of finite values gets the exact one).
    total = float(tl.sum(tl.asarray(arr))) if arr.size else 0.0
    if math.isfinite(total):
        return 0, None
    bad = ~np.isfinite(arr)
    count = int(bad.sum())
    return count, (int(np.argmax(bad.reshape(-1))) if count else None)


def _warn_non_finite(what: str, shape, count: int, first: int, stacklevel: int) -> None:
    where = tuple(int(i) for i in np.unravel_index(first, shape))
    warnings.warn(f"{what} contains {count} NaN or infinite value(s) (first at index {where}); "
                  "the loss will not be finite", RuntimeWarning, stacklevel=stacklevel + 1)


def warn_if_not_finite(arr: np.ndarray, what: str) -> None:
    if arr.dtype.kind != "f":
        return
    if _sharded is not None:  # this rank's rows only; reported by report_non_finite
        split, found = _sharded
        lo, hi = split(arr.shape[0])
        count, first = _non_finite(arr[lo:hi])
        row = int(np.prod(arr.shape[1:], dtype=np.int64))
        found.append((what, tuple(arr.shape), count, None if first is None else lo * row + first))
        return
    count, first = _non_finite(arr)
    if count:
        _warn_non_finite(what, arr.shape, count, first, stacklevel=4)


@contextlib.contextmanager
def sharded_finite_checks(split):
    """Inside, ``warn_if_not_finite`` checks only rows ``split(n)`` = [lo, hi) of each array and
    records ``(what, shape, count, first flat index or None)`` in the list yielded, for
    ``report_non_finite`` to combine with the other ranks' (each rank reads half the data, not
    all of it)."""
    global _sharded
    found: list = []
    _sharded = (split, found)
    try:
        yield found
    finally:
        _sharded = None


def report_non_finite(everyone) -> None:
    """The warnings ``warn_if_not_finite`` gives in one process, from every rank's checks of its
    rows (``everyone[r]``: rank r's list from sharded_finite_checks): counts summed, the first
    index the smallest. Checks are matched by name and occurrence (several outputs' labels are
    all "y"), so a rank that skipped one (integer data) does not shift the others."""
    merged: dict = {}
    for found in everyone:
        seen: dict = {}
        for what, shape, count, first in found:
            key = (what, seen.get(what, 0))
            seen[what] = key[1] + 1
            _, _, total, low = merged.get(key, (what, shape, 0, None))
            merged[key] = (what, shape, total + count,
                           first if low is None or (first is not None and first < low) else low)
    for what, shape, count, first in merged.values():
        if count:
            _warn_non_finite(what, shape, count, first, stacklevel=3)


def to_input_tensor(data, what: str = "x", dtype=np.float32):
    """The model's input as a Tensor of ``dtype`` (float32 by default; zero-copy when it already
    is one)."""
    dtype = np.dtype(dtype)
    if isinstance(data, tl.Tensor):
        if data.dtype.kind not in "biuf":
            raise ValueError(f"{what} must hold numbers; got a tensor of dtype {data.dtype}")
        arr = data.detach().numpy()
        warn_if_not_finite(arr, what)
        return data.detach() if data.dtype == dtype else tl.asarray(data.detach(), dtype=dtype), arr.shape
    arr = as_numpy(data, what)
    warn_if_not_finite(arr, what)
    if dtype.kind in "iu" and arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
        raise ValueError(f"{what} feeds an integer Input ({dtype}) but holds non-integer values")
    return tl.asarray(np.ascontiguousarray(arr, dtype=dtype)), arr.shape


def check_same_length(x_shape, y_shape, x_what="x", y_what="y") -> None:
    if x_shape[0] != y_shape[0]:
        raise ValueError(
            f"Data cardinality is ambiguous: {x_what} has {x_shape[0]} samples (shape {tuple(x_shape)}) but "
            f"{y_what} has {y_shape[0]} (shape {tuple(y_shape)}). Make sure all arrays contain the same number "
            "of samples."
        )
    if x_shape[0] == 0:
        raise ValueError(f"{x_what} is empty (shape {tuple(x_shape)}): there is nothing to train or evaluate on")


def check_batch_dimension(x_shape, layer_name: str) -> None:
    """x must be a batch of samples: at least (n, features)."""
    if len(x_shape) < 2:
        raise ValueError(
            f'Input 0 of layer "{layer_name}" is incompatible with the layer: expected a batch of samples '
            f"(ndim >= 2), but received input with shape {tuple(x_shape)}. Reshape 1-D data to (n, 1)."
        )


def prepare_sample_weight(sample_weight, n: int):
    """One float32 weight per sample: shape (n,) (or (n, 1)), finite."""
    arr = sample_weight.detach().numpy() if isinstance(sample_weight, tl.Tensor) else \
        as_numpy(sample_weight, "sample_weight")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must hold numbers; got dtype {arr.dtype}")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.reshape(-1)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(
            f"sample_weight must have one weight per sample, shape ({n},); got shape {tuple(arr.shape)}"
        )
    warn_if_not_finite(arr, "sample_weight")
    return tl.asarray(np.ascontiguousarray(arr, dtype=np.float32))


def _integral(arr: np.ndarray) -> bool:
    if arr.dtype.kind in "biu":
        return True
    return arr.dtype.kind == "f" and bool(np.all(np.isfinite(arr) & (arr == np.round(arr))))


def _sparse_labels(arr, output_shape, layer_name, loss_name) -> np.ndarray:
    n_classes = output_shape[-1]
    head = f'Labels for {loss_name} on the output of layer "{layer_name}" (shape {format_shape(output_shape)})'
    if arr.ndim == len(output_shape) and arr.shape[-1] == 1:
        arr = arr.reshape(arr.shape[:-1])
    if arr.shape[1:] != tuple(output_shape[1:-1]):
        hint = (" They look one-hot encoded: use loss='categorical_crossentropy', or pass the class indices "
                "(y.argmax(axis=-1)).") if arr.shape[1:] == tuple(output_shape[1:]) else ""
        raise ValueError(
            f"{head} must be integer class indices of shape {format_shape(output_shape[:-1])}, "
            f"but got labels of shape {format_shape((None,) + arr.shape[1:])}.{hint}"
        )
    if not _integral(arr):
        raise ValueError(f"{head} must be integer class indices; got non-integer values of dtype {arr.dtype}")
    lo, hi = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
    if lo < 0 or hi >= n_classes:
        bad = lo if lo < 0 else hi
        where = int(np.argmax(arr.reshape(-1) == bad))
        raise ValueError(
            f"{head} must be in [0, {n_classes - 1}] for its {n_classes} units; found label {bad} "
            f"(sample {where}). Keras would silently compute a wrong loss here."
        )
    return np.ascontiguousarray(arr, dtype=np.int64)


def _dense_labels(arr, output_shape, layer_name, loss_name, loss) -> np.ndarray:
    n_units = output_shape[-1]
    head = f'Labels for {loss_name} on the output of layer "{layer_name}" (shape {format_shape(output_shape)})'
    categorical = isinstance(loss, losses_module.CategoricalCrossentropy)
    if arr.ndim == len(output_shape) - 1 and n_units == 1:
        arr = arr.reshape(arr.shape + (1,))  # (n,) labels for a single output unit
    if arr.shape[1:] != tuple(output_shape[1:]):
        hint = ""
        if categorical and arr.shape[1:] == tuple(output_shape[1:-1]) and _integral(arr):
            hint = (f" These look like integer class labels: one-hot encode them with "
                    f"tensorlet.utils.to_categorical(y, {n_units}), or use loss='sparse_categorical_crossentropy'.")
        raise ValueError(
            f"{head} must have shape {format_shape(output_shape)}, but got labels of shape "
            f"{format_shape((None,) + arr.shape[1:])}.{hint}"
        )
    if isinstance(loss, losses_module.BinaryCrossentropy) and arr.size and (arr.min() < 0 or arr.max() > 1):
        raise ValueError(f"{head} must be in [0, 1]; got values in [{arr.min()}, {arr.max()}]")
    warn_if_not_finite(arr, "y")
    return np.ascontiguousarray(arr, dtype=np.float32)


def prepare_labels(y, loss, output_shape, layer_name: str):
    """Checks y against the model's output and the loss; returns it as a Tensor (int64 class
    indices for sparse losses, float32 otherwise) and the labels' shape."""
    arr = y.detach().numpy() if isinstance(y, tl.Tensor) else as_numpy(y, "y")
    loss_name = getattr(loss, "name", type(loss).__name__)
    if getattr(loss, "sparse_labels", False):
        arr = _sparse_labels(arr, output_shape, layer_name, loss_name)
    elif isinstance(loss, (losses_module.CategoricalCrossentropy, losses_module.BinaryCrossentropy,
                           losses_module.MeanSquaredError)):
        arr = _dense_labels(arr, output_shape, layer_name, loss_name, loss)
    elif arr.dtype.kind == "f":
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    return tl.asarray(arr), arr.shape


def class_weight_to_sample_weight(class_weight, labels: np.ndarray) -> np.ndarray:
    """Each sample's weight from its class, as Keras's ``class_weight``: the class is the label
    (class indices) or its argmax (one-hot rows); a class missing from the dict weighs 1."""
    if not isinstance(class_weight, dict):
        raise ValueError(f"class_weight must be a dict {{class index: weight}}, got {type(class_weight).__name__}")
    table = {}
    for k, v in class_weight.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"class_weight keys must be non-negative class indices, got {k!r}")
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            raise ValueError(f"class_weight[{k}] must be a finite number, got {v!r}")
        table[int(k)] = float(v)
    if labels.ndim >= 2 and labels.shape[-1] > 1:
        classes = labels.argmax(axis=-1)
    else:
        classes = np.round(labels.reshape(labels.shape[0], -1)[:, 0]).astype(np.int64)
    classes = classes.reshape(classes.shape[0], -1)[:, 0]
    lookup = np.ones(max(int(classes.max(initial=0)), max(table, default=0)) + 1, dtype=np.float32)
    for k, v in table.items():
        lookup[k] = v
    return lookup[classes]


def check_batch_size(batch_size, default: int = 32) -> int:
    if batch_size is None:
        return default
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def split_validation(n: int, validation_split: float) -> int:
    """Keras's split point: the last ``validation_split`` of the samples (before shuffling)."""
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) or \
            not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be a float in [0, 1), got {validation_split!r}")
    split_at = int(np.ceil(n * (1.0 - validation_split)))
    if validation_split and (split_at == 0 or split_at == n):
        raise ValueError(
            f"validation_split={validation_split} leaves an empty training or validation set for {n} samples"
        )
    return split_at
