"""The gradient all-reduce of a DataParallel step, in buckets (as PyTorch DDP's reducer).

The layout is fixed from the variables alone, so every rank issues the same collectives in the
same order whatever path its step took (a replayed plan, an eager call, no rows at all):

- the variables are walked in reverse order, which is the order backward finishes their
  gradients (the last layer's first), as DDP assumes before its first step;
- a gradient of at least ``big`` elements is reduced in place on its own buffer (no copy);
- runs of smaller ones of one dtype are packed into one flat buffer (up to ``pack_max`` elements),
  copied in before and out after. A pack also ends where one layer's variables end and the next
  layer's begin once it holds ``pack_min`` elements: one layer's gradients are final together
  (its backward writes them), so a pack spanning two layers would wait for the second one. The
  first pack also carries one "has a gradient" flag per variable, so a variable no rank has a
  gradient for stays without one;
- the buckets holding only the gradients backward finishes last (those of the first variable's
  layer) are blocking ``Allreduce`` calls, started after the whole step has run: nothing is left
  to overlap them with, and Open MPI's blocking all-reduce is its fastest path (0.28 ms for a
  1.6 MB gradient between 2 ranks here, against 0.5-0.6 ms for ``Iallreduce`` + ``Wait``). Every
  other bucket is a nonblocking ``Iallreduce``, started as soon as its gradients are final
  (``start``);
- ``tail`` more values (the step's metric states, see tensorlet.distribution) ride at the end of
  the last pack of ``tail_dtype`` among the blocking buckets (a pack of their own, appended, when
  there is none), so the logs' sums cost no collective of their own: with the chapter's model the
  first layer's bias pack carries them, and a step makes two blocking all-reduces, not three.

Each rank contributes ``scale * grad`` (its share of the global batch's rows), so the sums are the
global batch's mean gradients.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np


def _layout(sizes, dtypes, groups, big: int, pack_min: int, pack_max: int) -> List[tuple]:
    """The buckets, (members, pack dtype or None), walking the variables in reverse order."""
    buckets, open_pack = [], None
    n = len(sizes)
    for i in reversed(range(n)):
        if open_pack is not None and i + 1 < n and groups[i] != groups[i + 1] and open_pack[2] >= pack_min:
            open_pack = None  # another layer's gradients: final later
        if sizes[i] >= big:
            buckets.append(([i], None))
            open_pack = None
            continue
        if open_pack is None or open_pack[1] != dtypes[i] or open_pack[2] + sizes[i] > pack_max:
            open_pack = [[], dtypes[i], 0]
            buckets.append(open_pack)
        open_pack[0].append(i)
        open_pack[2] += sizes[i]
    return [(b[0], b[1]) if isinstance(b, list) else b for b in buckets]


class GradBuckets:
    """The buckets of one variable list. ``begin(scale)``, then ``start(k, arrays, flags)`` for
    k = 0, 1, ... (each bucket once, in order; ``arrays[i]`` is variable i's gradient as a NumPy
    array, None where this rank has none) or ``start_rest`` for all those not started yet, then
    ``finish()`` for the summed gradients (and ``tail_sum``)."""

    def __init__(self, comm, mpi, variables: Sequence, big: int, groups: Optional[Sequence[int]] = None,
                 pack_min: int = 1 << 12, pack_max: int = 1 << 18, tail: int = 0, tail_dtype=np.float32,
                 overlap_min: int = 0):
        """``groups[i]``: the layer variable i belongs to (by default each variable is its own);
        ``tail``: how many values ride at the end of a blocking pack (``start``'s ``tail``);
        ``overlap_min``: when the nonblocking buckets would hold fewer elements than this, every
        bucket is blocking instead, packed without cuts between layers (a nonblocking all-reduce
        costs more to post and progress, 50-100 us a step here, than it can hide for 20 KB)."""
        self._comm, self._mpi = comm, mpi
        self.variables = list(variables)
        shapes = [tuple(v.shape) for v in self.variables]
        dtypes = [np.asarray(v).dtype for v in self.variables]
        self._shapes, self._dtypes = shapes, dtypes
        n = len(self.variables)
        sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
        groups = list(range(n)) if groups is None else list(groups)
        # buckets[k]: (members, pack dtype or None for one gradient reduced on its own buffer)
        self.buckets = _layout(sizes, dtypes, groups, big, pack_min, pack_max)
        # Blocking from here on: the buckets whose gradients are all of the group backward
        # finishes last (always at least the last bucket).
        last = groups[0] if n else None
        self.blocking_from = len(self.buckets) - 1
        while self.blocking_from > 0 and all(groups[i] == last for i in self.buckets[self.blocking_from - 1][0]):
            self.blocking_from -= 1
        if sum(sizes[i] for members, _ in self.buckets[:self.blocking_from] for i in members) < overlap_min:
            self.buckets, self.blocking_from = _layout(sizes, dtypes, [0] * n, big, pack_min, pack_max), 0
        first_pack = next((k for k, (_, dtype) in enumerate(self.buckets) if dtype is not None), None)
        if first_pack is None:  # every gradient is big: the flags get a pack of their own, first
            self.buckets.insert(0, ([], np.dtype(np.float32)))
            first_pack = 0
            self.blocking_from = 0 if self.blocking_from == 0 else self.blocking_from + 1
        self._flags_bucket = first_pack
        # The tail's bucket: the last blocking pack of its dtype (all blocking buckets start after
        # the whole step, when the tail's values are final), else a pack of its own at the end.
        self.tail = int(tail)
        self._tail_bucket = None
        if self.tail:
            found = [k for k in range(self.blocking_from, len(self.buckets))
                     if self.buckets[k][1] == np.dtype(tail_dtype)]
            if not found:
                self.buckets.append(([], np.dtype(tail_dtype)))
                found = [len(self.buckets) - 1]
            self._tail_bucket = found[-1]
        # the flat buffers of the packs (reused every step), and where each member lies in its pack
        self._packs, self._places = {}, {}
        for k, (members, dtype) in enumerate(self.buckets):
            if dtype is not None:
                offset = n if k == first_pack else 0
                places = self._places[k] = []
                for i in members:
                    size = int(np.prod(shapes[i], dtype=np.int64))
                    places.append((i, offset, offset + size))
                    offset += size
                self._packs[k] = np.empty(offset + (self.tail if k == self._tail_bucket else 0), dtype)
        self.tail_sum: Optional[np.ndarray] = None
        self._requests: list = []
        self._arrays: List[Optional[np.ndarray]] = [None] * n
        self._scale = 1.0
        self._next = 0

    def __len__(self) -> int:
        return len(self.buckets)

    def begin(self, scale: float) -> None:
        self._scale, self._next, self._requests = float(scale), 0, []
        self._arrays = [None] * len(self.variables)
        self.tail_sum = None

    def start(self, k: int, arrays: Sequence[Optional[np.ndarray]], flags: Sequence[bool], tail=None) -> None:
        """Starts bucket k's reduction (buckets start in order); arrays/flags cover all variables;
        ``tail`` (read by the tail's bucket only): the ``self.tail`` values summed with the gradients."""
        if k != self._next:
            raise RuntimeError(f"GradBuckets: bucket {k} started before bucket {self._next}")
        self._next += 1
        members, dtype = self.buckets[k]
        MPI = self._mpi
        if dtype is None:  # one gradient, in place when its buffer allows
            i = members[0]
            a = arrays[i]
            if a is None:
                a = np.zeros(self._shapes[i], self._dtypes[i])
            elif not (a.flags.writeable and a.flags.c_contiguous):
                a = np.array(a, order="C")
            if self._scale != 1.0:
                a *= a.dtype.type(self._scale)
            self._arrays[i] = a
            buffer = a
        else:
            buffer = self._packs[k]
            if k == self._flags_bucket:
                buffer[:len(self.variables)] = flags
            scale = buffer.dtype.type(self._scale)
            for i, lo, hi in self._places[k]:
                a = arrays[i]
                if a is None:
                    buffer[lo:hi] = 0
                elif self._scale == 1.0:
                    buffer[lo:hi] = a.reshape(-1)
                else:
                    np.multiply(a.reshape(-1), scale, out=buffer[lo:hi])
                if a is not None:
                    self._arrays[i] = a
            if k == self._tail_bucket:
                buffer[len(buffer) - self.tail:] = 0 if tail is None else tail
        if k >= self.blocking_from:
            self._comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        else:
            self._requests.append(self._comm.Iallreduce(MPI.IN_PLACE, buffer, op=MPI.SUM))

    def start_rest(self, arrays: Sequence[Optional[np.ndarray]], flags: Sequence[bool], tail=None) -> None:
        """Starts every bucket not started yet, in order (``tail`` goes with the tail's bucket)."""
        while self._next < len(self.buckets):
            self.start(self._next, arrays, flags, tail)

    def progress(self) -> None:
        """Lets MPI advance the started reductions (Open MPI progresses them only inside its calls)."""
        if self._requests:
            self._mpi.Request.Testall(self._requests)

    def finish(self) -> List[Optional[np.ndarray]]:
        """Waits for every bucket (all must have started); the summed gradients (None where no rank
        had one). A gradient reduced on its own buffer, or copied back into it, is that buffer.
        ``tail_sum`` is then the summed tail (a view, valid until the next ``begin``)."""
        if self._next != len(self.buckets):
            raise RuntimeError(f"GradBuckets: finish after {self._next} of {len(self.buckets)} buckets")
        self._mpi.Request.Waitall(self._requests)
        self._requests = []
        flags = self._packs[self._flags_bucket][:len(self.variables)].tolist()
        result = list(self._arrays)
        for k, places in self._places.items():
            buffer = self._packs[k]
            for i, lo, hi in places:
                part = buffer[lo:hi].reshape(self._shapes[i])
                a = result[i]
                if a is not None and a.flags.writeable and a.flags.c_contiguous:
                    a[...] = part
                else:
                    result[i] = part.copy()
        if self.tail:
            self.tail_sum = self._packs[self._tail_bucket][-self.tail:]
        return [None if f == 0 else a for f, a in zip(flags, result)]
