"""Batches for the trainer's loops, as Keras 3's EpochIterator: one pass over the data per
epoch (shuffled when asked), yielding ``(begin_step, end_step, batch)``.

A ``Batch`` names rows ``[start, stop)`` of the arrays ``(x,)``, ``(x, y)`` or
``(x, y, sample_weight)``, taken in ``index`` order when shuffled. ``batch.data()`` makes the
tuple of tensors a step function takes; a compiled step may read the rows in place instead.
Several steps can form one batch (``steps_per_execution``) when one call can run them all.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import tensorlet as tl

__all__ = ["Batch", "EpochIterator", "unpack_x_y_sample_weight"]


class Batch:
    """Rows ``[start, stop)`` of ``arrays`` (in ``index`` order when ``index`` is a tensor).
    ``notes`` is a dict shared by the batches of one iterator, where a function may keep what
    it found out about the arrays (whether it can take them) instead of checking every batch."""

    __slots__ = ("arrays", "index", "start", "stop", "notes")

    def __init__(self, arrays: Tuple, index, start: int, stop: int, notes: Optional[dict] = None):
        self.arrays = arrays
        self.index = index
        self.start = start
        self.stop = stop
        self.notes = {} if notes is None else notes

    @property
    def size(self) -> int:
        return self.stop - self.start

    def data(self) -> Tuple:
        """The rows as a tuple of tensors: ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
        if self.index is None:
            rows = slice(self.start, self.stop)  # views
        else:
            rows = self.index[self.start:self.stop]  # gathered copies
        return tuple(a[rows] for a in self.arrays)


class EpochIterator:
    """Iterating gives one epoch of ``(begin_step, end_step, Batch)``; a new permutation is drawn
    at the start of each epoch when ``shuffle`` is set."""

    def __init__(self, arrays: Tuple, batch_size: int, shuffle: bool = False, steps_per_execution: int = 1):
        self.arrays = tuple(arrays)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.steps_per_execution = max(1, int(steps_per_execution))
        self.num_samples = int(self.arrays[0].shape[0])
        self.num_batches = math.ceil(self.num_samples / self.batch_size)
        self.notes: dict = {}

    def __iter__(self):
        n, size, group = self.num_samples, self.batch_size, self.steps_per_execution
        index = self._permutation() if self.shuffle else None
        for begin in range(0, self.num_batches, group):
            end = min(begin + group, self.num_batches) - 1
            yield begin, end, Batch(self.arrays, index, begin * size, min((end + 1) * size, n), self.notes)


    def _permutation(self):
        """This epoch's order (a distribution overrides it to share rank 0's)."""
        return tl.random.permutation(self.num_samples)


def unpack_x_y_sample_weight(data) -> Tuple:
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``, the
    missing parts None (Keras's ``keras.utils.unpack_x_y_sample_weight``)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(
        f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, found: {data!r}"
    )


def first_dimension(x) -> Optional[int]:
    """The batch size of ``x`` (a tensor or a tuple/list of them)."""
    while isinstance(x, (tuple, list)):
        x = x[0]
    return int(x.shape[0]) if x.ndim else None
