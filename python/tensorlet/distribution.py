"""Data-parallel training over MPI (mpi4py), with Keras 3's distribution API.

    from tensorlet import distribution
    distribution.set_distribution(distribution.DataParallel())   # under: mpirun -n N python train.py

Under a ``DataParallel`` spanning more than one process, ``fit`` / ``evaluate`` / ``predict``
work as follows (with one process, or without mpi4py, nothing changes):

- ``batch_size`` is the global batch. Every rank is given the same arrays; rank r computes rows
  ``[lo_r, hi_r)`` of each global batch (the shuffle order is drawn on rank 0 and broadcast).
- The captured (or compiled, or eager) step runs forward and backward; the optimizer's update is
  deferred (``Optimizer._deferred``), the gradients are scaled by ``rows_r / rows`` and summed by
  an all-reduce in place on their buffers (large ones each in place, the small ones packed in one
  bucket), then the optimizer applies the summed gradient on every rank. The all-reduce runs
  after the backward pass, not overlapped with it.
- At the start of fit: the ranks' model configs, weight shapes, optimizer config and data shapes
  are compared (a clear ValueError naming what differs), the weights and optimizer state are
  broadcast from rank 0, and each rank's random generator is reseeded from its own draw and its
  rank (dropout differs per rank, reproducibly given a seed).
- Loss and metrics in epoch logs (and evaluate's results) are global, from metric states summed
  across ranks; per-batch logs seen by callbacks inside an epoch are this rank's shard's.
- Non-trainable weights (batch-norm moving statistics) are averaged across ranks at each epoch end.
- evaluate shards the rows and sums the metric states; predict shards the rows and gathers all of
  them on every rank. Only rank 0 shows progress and writes weights files.
- An exception escaping fit/evaluate/predict on any rank prints the rank and the error and calls
  ``MPI_Abort``, so the whole job ends within seconds instead of hanging in a collective.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import traceback
from typing import List, Optional

import numpy as np

__all__ = ["initialize", "list_devices", "DataParallel", "set_distribution", "distribution"]

# Gradients with at least this many elements are all-reduced in place on their own buffer; the
# smaller ones are packed into one bucket, so the chapter's model makes two reductions per step.
BUCKET_MIN_ELEMENTS = 1 << 15

_MPI = None
_current: Optional["DataParallel"] = None

_LAUNCHER_SIZE_VARS = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


def _launched_size() -> int:
    for name in _LAUNCHER_SIZE_VARS:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def initialize(job_addresses=None, num_processes: Optional[int] = None, process_id: Optional[int] = None) -> None:
    """Starts MPI (through mpi4py) when it is installed; a no-op otherwise. Run under
    ``mpirun -n N`` without mpi4py, it raises instead of training N independent copies.

    Keras's arguments are accepted as checks: the launcher (mpirun) places the processes, so
    ``job_addresses`` must be None and ``num_processes`` / ``process_id``, when given, must be
    what MPI reports."""
    if job_addresses is not None:
        raise ValueError("initialize: job_addresses is set by the MPI launcher (mpirun -H/--hostfile), not here")
    _start_mpi()
    comm = _world()
    size, rank = (1, 0) if comm is None else (comm.size, comm.rank)
    if num_processes is not None and num_processes != size:
        raise ValueError(f"initialize: num_processes={num_processes!r} but the job has {size} process(es)")
    if process_id is not None and process_id != rank:
        raise ValueError(f"initialize: process_id={process_id!r} but this process is rank {rank}")


def _start_mpi() -> None:
    global _MPI
    if _MPI is not None:
        return
    try:
        from mpi4py import MPI
    except ImportError:
        if _launched_size() > 1:
            raise ImportError("tensorlet.distribution: started by an MPI launcher with "
                              f"{_launched_size()} processes but mpi4py is not installed; "
                              "pip install 'tensorlet[distributed]'") from None
        return
    _MPI = MPI


def _world():
    _start_mpi()
    return None if _MPI is None else _MPI.COMM_WORLD


def list_devices(device_type: Optional[str] = None) -> List[str]:
    """One CPU device per process: ``['cpu:0', ..., 'cpu:N-1']``."""
    if device_type not in (None, "cpu", "CPU"):
        raise ValueError(f"list_devices: tensorlet only has 'cpu' devices, got device_type={device_type!r}")
    comm = _world()
    return [f"cpu:{r}" for r in range(1 if comm is None else comm.size)]


def set_distribution(value: Optional["DataParallel"]) -> None:
    """Makes ``value`` (a DataParallel, or None for none) the distribution fit/evaluate/predict use."""
    global _current
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution: expected a DataParallel or None, got {type(value).__name__}")
    _current = value


def distribution() -> Optional["DataParallel"]:
    """The distribution set by ``set_distribution`` (None when none is)."""
    return _current


def active() -> Optional["DataParallel"]:
    """The current distribution when it spans more than one process, else None (the trainer's
    single-process path)."""
    d = _current
    return d if d is not None and d.num_processes > 1 else None


def is_chief() -> bool:
    """False on ranks other than 0 of an active distribution: they print no progress and write no files."""
    d = active()
    return d is None or d.rank == 0


def collective(what: str):
    """Decorator for fit/evaluate/predict: under an active distribution an exception escaping on
    one rank aborts the whole job with a message (the other ranks would wait in a collective)."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            d = active()
            if d is None:
                return fn(*args, **kwargs)
            try:
                return fn(*args, **kwargs)
            except BaseException as e:  # KeyboardInterrupt too: the others must not hang
                d.abort(f"{what}: {type(e).__name__}: {e}", traceback.format_exc())
        return wrapper
    return decorate


def _bounds(n: int, rank: int, size: int):
    """Rank ``rank``'s rows [lo, hi) of n rows split as evenly as possible (array_split's rule)."""
    base, extra = divmod(n, size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()


class DataParallel:
    """Data parallelism over all MPI processes (Keras 3's ``keras.distribution.DataParallel``).

    Args:
        devices: None (all of ``list_devices()``) or exactly that list.
    """

    def __init__(self, devices: Optional[List[str]] = None):
        self._comm = _world()
        all_devices = list_devices()
        if devices is not None and list(devices) != all_devices:
            raise ValueError(f"DataParallel: devices must be None or all of list_devices() = {all_devices}, "
                             f"got {devices!r} (one process per device; start N processes with mpirun -n N)")
        self.devices = all_devices
        self.num_processes = len(all_devices)
        self.rank = 0 if self._comm is None else self._comm.rank
        self._reseeded = False

    def __repr__(self) -> str:
        return f"DataParallel(num_processes={self.num_processes}, rank={self.rank})"

    # -- faults ------------------------------------------------------------------------------------
    def abort(self, message: str, details: str = "") -> None:
        sys.stderr.write(f"{details}tensorlet.distribution: rank {self.rank} of {self.num_processes} failed in "
                         f"{message}; aborting all ranks\n")
        sys.stderr.flush()
        self._comm.Abort(1)

    # -- start of fit ------------------------------------------------------------------------------
    def begin_fit(self, model, arrays, batch_size: int) -> None:
        """Checks that every rank trains the same model on data of the same shapes, then
        broadcasts rank 0's weights and optimizer state and reseeds each rank's generator."""
        parts = {
            # names left out: they count the layers a process made, which may differ
            "model config": [(type(layer).__name__, {k: v for k, v in layer.get_config().items() if k != "name"})
                             for layer in model.layers],
            "weights": [(tuple(w.shape), str(w.dtype)) for w in model.weights],
            "optimizer": [type(model.optimizer).__name__, model.optimizer.get_config()],
            "loss": repr(model.loss), "batch_size": int(batch_size),
            "data": [(tuple(a.shape), str(a.dtype)) for a in arrays],
        }
        mine = {name: _digest(value) for name, value in parts.items()}
        everyone = self._comm.allgather(mine)
        differing = [name for name in parts if len({d[name] for d in everyone}) > 1]
        if differing:
            raise ValueError(f"DataParallel.fit: the ranks differ in {', '.join(differing)} "
                             f"(this rank's: {', '.join(repr(parts[n]) for n in differing)}); every rank "
                             "must build the same model and be given arrays of the same shapes")
        for t in list(model.weights) + list(model.optimizer.variables):
            self._comm.Bcast(np.asarray(t), root=0)
        model.optimizer.iterations = self._comm.bcast(model.optimizer.iterations, root=0)
        if not self._reseeded:
            import tensorlet as tl

            draw = int(tl.random.randint(0, 2 ** 62))
            tl.random.seed((draw << 16) + self.rank)
            self._reseeded = True

    # -- batches -----------------------------------------------------------------------------------
    def epoch_iterator(self, arrays, batch_size: int, shuffle: bool):
        from ._epoch_iterator import EpochIterator

        comm = self._comm

        class SharedOrder(EpochIterator):
            def _permutation(self):  # rank 0's order on every rank
                import tensorlet as tl

                index = np.asarray(super()._permutation()) if comm.rank == 0 else np.empty(self.num_samples, np.int64)
                comm.Bcast(index, root=0)
                return tl.asarray(index)

        return SharedOrder(arrays, batch_size, shuffle=shuffle)

    def local_rows(self, start: int, stop: int):
        lo, hi = _bounds(stop - start, self.rank, self.num_processes)
        return start + lo, start + hi

    def shard(self, arrays, batch_size: int):
        """This rank's contiguous share of the rows, and its share of the batch size."""
        lo, hi = _bounds(int(arrays[0].shape[0]), self.rank, self.num_processes)
        return tuple(a[lo:hi] for a in arrays), max(1, -(-batch_size // self.num_processes))

    def train_function(self, model, function):
        return _TrainFunction(self, model, function)

    # -- collectives the trainer uses --------------------------------------------------------------
    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on some rank (stop_training)."""
        return bool(self._comm.allreduce(int(bool(flag)), op=_MPI.MAX))

    def allreduce_grads(self, variables, grads, scale: float):
        """Sum over ranks of ``scale * grad`` for each variable (None where no rank has one),
        reduced in place on each gradient's buffer when it has one."""
        MPI = _MPI
        arrays = [None if g is None else np.asarray(g) for g in grads]
        flags = np.array([0.0 if a is None else 1.0 for a in arrays])
        # in_place[i]: the result is written into grads[i]'s own buffer (else into a new array)
        in_place = [a is not None and a.flags.writeable and a.flags.c_contiguous for a in arrays]
        requests, small = [], []
        for i, a in enumerate(arrays):
            if a is None:
                arrays[i] = a = np.zeros(tuple(variables[i].shape), dtype=np.asarray(variables[i]).dtype)
            elif not in_place[i]:
                arrays[i] = a = np.array(a, order="C")
            if scale != 1.0:
                a *= a.dtype.type(scale)
            if a.size >= BUCKET_MIN_ELEMENTS:
                requests.append(self._comm.Iallreduce(MPI.IN_PLACE, a, op=MPI.SUM))
            else:
                small.append(i)
        # One bucket per dtype for the small gradients; the float64 one also carries the flags.
        buckets = {}
        for i in small:
            buckets.setdefault(arrays[i].dtype, []).append(i)
        buckets.setdefault(np.dtype(np.float64), [])
        packed = {}
        for dtype, members in buckets.items():
            parts = [arrays[i].ravel() for i in members] + ([flags] if dtype == np.float64 else [])
            flat = np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)
            packed[dtype] = flat
            requests.append(self._comm.Iallreduce(MPI.IN_PLACE, flat, op=MPI.SUM))
        MPI.Request.Waitall(requests)
        for dtype, members in buckets.items():
            offset = 0
            for i in members:
                a = arrays[i]
                a[...] = packed[dtype][offset:offset + a.size].reshape(a.shape)
                offset += a.size
        flags = packed[np.dtype(np.float64)][-len(flags):] if len(flags) else flags
        import tensorlet as tl

        return [None if f == 0 else (g if own else tl.asarray(a))
                for f, g, a, own in zip(flags, grads, arrays, in_place)]

    def global_metrics(self, model):
        """The metrics' results (floats) from their states summed over the ranks; the local
        states are left as they were."""
        variables = [v for metric in model.metrics for v in metric.variables]
        views = [np.asarray(v) for v in variables]
        saved = [v.copy() for v in views]
        flat = np.concatenate([v.ravel().astype(np.float64) for v in views]) if views else np.empty(0)
        self._comm.Allreduce(_MPI.IN_PLACE, flat, op=_MPI.SUM)
        offset = 0
        for v in views:
            v[...] = flat[offset:offset + v.size].reshape(v.shape)
            offset += v.size
        try:
            return model.get_metrics_result()
        finally:
            for v, s in zip(views, saved):
                v[...] = s

    def average_non_trainable(self, model) -> None:
        """Averages the float non-trainable weights (moving statistics) over the ranks, so every
        rank holds the same values."""
        for w in model.non_trainable_weights:
            a = np.asarray(w)
            if a.dtype.kind == "f":
                self._comm.Allreduce(_MPI.IN_PLACE, a, op=_MPI.SUM)
                a /= a.dtype.type(self.num_processes)

    def gather_rows(self, local: np.ndarray, n: int) -> np.ndarray:
        """Every rank's rows (this rank's are ``local``), in rank order, on every rank."""
        row_bytes = int(np.prod(local.shape[1:], dtype=np.int64)) * local.dtype.itemsize
        counts = [(hi - lo) * row_bytes for lo, hi in (_bounds(n, r, self.num_processes)
                                                        for r in range(self.num_processes))]
        result = np.empty((n,) + tuple(local.shape[1:]), dtype=local.dtype)
        send = np.ascontiguousarray(local).reshape(-1).view(np.uint8)
        self._comm.Allgatherv(send, [result.reshape(-1).view(np.uint8), counts, _MPI.BYTE])
        return result


class _TrainFunction:
    """The trainer's train function under a DataParallel: runs the step on this rank's rows with
    the optimizer deferred, all-reduces the gradients, then applies them."""

    def __init__(self, dp: DataParallel, model, inner):
        self._dp, self._model, self._inner = dp, model, inner
        self._pending = None  # (variables, grads) the step passed to optimizer.apply, last seen

    def steps_per_execution(self, arrays, batch_size: int) -> int:
        return 1

    def __call__(self, batch):
        from ._epoch_iterator import Batch

        model, optimizer = self._model, self._model.optimizer
        start, stop = self._dp.local_rows(batch.start, batch.stop)
        logs = None
        if stop > start:
            deferred = optimizer._deferred = []
            try:
                logs = self._inner(Batch(batch.arrays, batch.index, start, stop, batch.notes))
            finally:
                optimizer._deferred = None
            if deferred:  # a replayed step runs no Python: the last recorded call's lists stand
                self._pending = deferred
        if self._pending is None:  # this rank has had no rows yet
            self._pending = [(list(model.trainable_weights), None)]
        scale = (stop - start) / batch.size
        for variables, grads in self._pending:
            if stop == start:
                grads = [None] * len(variables)
            elif grads is None:
                grads = [v.grad for v in variables]
            optimizer.apply(variables, self._dp.allreduce_grads(variables, grads, scale))
        if logs is None:  # no rows here this batch: the metrics as they stand
            logs = model._metrics_result()
        return logs
