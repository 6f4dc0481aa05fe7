"""Data-parallel training over MPI (mpi4py), with Keras 3's distribution API.

    from tensorlet import distribution
    distribution.set_distribution(distribution.DataParallel())   # under: mpirun -n N python train.py

Under a ``DataParallel`` spanning more than one process, ``fit`` / ``evaluate`` / ``predict``
work as follows (with one process, or without mpi4py, nothing changes):

- ``batch_size`` is the global batch. Every rank is given the same arrays; rank r computes rows
  ``[lo_r, hi_r)`` of each global batch (the shuffle order is drawn on rank 0 and broadcast).
- The captured (or eager) step runs forward and backward; the optimizer's update is deferred
  (``Optimizer._deferred``), the gradients are scaled by ``rows_r / rows`` and summed by an
  all-reduce in buckets (``_grad_buckets``: large gradients in place on their own buffers, small
  ones packed per layer), then the optimizer applies the summed gradient on every rank. A
  replayed step overlaps the all-reduce with backward as PyTorch DDP does: the plan replays in
  segments cut where a bucket's gradients are final, and each bucket's reduction starts there
  (``_Overlap``); the buckets of the first layer, final when backward ends, are blocking
  all-reduces after the step (with the metric states). When the other layers' gradients hold
  fewer than ``OVERLAP_MIN_ELEMENTS``, nothing overlaps: the plan replays whole and every bucket
  is blocking after it. The eager step reduces all buckets after its backward.
- Every rank must stop at the same batch: when a callback watching batches (or the user's own
  train_step) may set ``stop_training``, the ranks agree after each batch, else at epoch ends.
- At the start of fit: the ranks' model configs, weight shapes, optimizer config and data shapes
  are compared (a clear ValueError naming what differs), the weights and optimizer state are
  broadcast from rank 0, and each rank's random generator is reseeded from its own draw and its
  rank (dropout differs per rank, reproducibly given a seed).
- Loss and metrics in the logs are global, from metric states summed across ranks: each
  batch's (the progress bar's and callbacks'), from the states summed in a blocking gradient
  pack (no collective of their own), each epoch's and evaluate's results.
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
import weakref
from typing import List, Optional

import numpy as np

from ._grad_buckets import GradBuckets

__all__ = ["initialize", "list_devices", "DataParallel", "set_distribution", "distribution"]

# Gradients with at least this many elements are all-reduced in place on their own buffer; runs of
# smaller ones are packed into buckets (see _grad_buckets.py).
BUCKET_MIN_ELEMENTS = 1 << 15
# Below this many elements in the gradients backward finishes before the first layer's, nothing
# overlaps: all buckets are blocking all-reduces after the step (the chapter's model: 5130 elements,
# one small pack and the first layer's kernel), which costs less than posting and progressing a
# nonblocking one (see _grad_buckets).
OVERLAP_MIN_ELEMENTS = 1 << 16

_MPI = None
_current: Optional["DataParallel"] = None
_running: Optional["_TrainFunction"] = None  # the DataParallel train step running now, if any

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
    # Open MPI's nonblocking all-reduce (libnbc, used for every gradient bucket but the last) picks
    # recursive doubling on its own, which took 15-40x the blocking all-reduce's time for a 1.6 MB
    # gradient between 2 ranks here; Rabenseifner's (a reduce-scatter, then an all-gather) matches
    # it. Read at MPI_Init, so only when mpi4py has not started MPI yet; a value the user set wins.
    os.environ.setdefault("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "3")
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


def gradient_scale():
    """Inside a DataParallel train step: a 0-d tensor holding this rank's share of the global
    batch's rows, for ``Trainer.train_step`` to multiply its loss by before backward, so that the
    gradients come out scaled for the sum over the ranks (a captured step replays the product:
    no pass over the gradients after backward). None otherwise."""
    step = _running
    if step is None:
        return None
    step._scale_asked += 1
    return step._scale_tensor


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


def _leaves(arrays):
    """The tensors of fit's arrays (an entry may be a list: several inputs or outputs)."""
    return [t for a in arrays for t in (a if isinstance(a, list) else [a])]


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()


class _Models:
    """A set of models by identity that does not keep them alive (a model may define __eq__, and
    so be unhashable or equal to another)."""

    def __init__(self):
        self._refs = {}

    def __contains__(self, model) -> bool:
        ref = self._refs.get(id(model))
        return ref is not None and ref() is model

    def add(self, model) -> None:
        key, refs = id(model), self._refs
        refs[key] = weakref.ref(model, lambda _, key=key: refs.pop(key, None))


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
        self._buckets = {}  # variable ids -> GradBuckets
        self._synced = _Models()  # models whose ranks hold rank 0's weights
        self._fit_synced = _Models()  # ... and optimizer state, and reseeded generators (begin_fit)
        self.overlapped_steps = 0  # train steps whose all-reduce overlapped backward (a replayed plan)

    def __repr__(self) -> str:
        return f"DataParallel(num_processes={self.num_processes}, rank={self.rank})"

    # -- faults ------------------------------------------------------------------------------------
    def abort(self, message: str, details: str = "") -> None:
        sys.stderr.write(f"{details}tensorlet.distribution: rank {self.rank} of {self.num_processes} failed in "
                         f"{message}; aborting all ranks\n")
        sys.stderr.flush()
        self._comm.Abort(1)

    # -- start of fit ------------------------------------------------------------------------------
    def sharded_checks(self):
        """A context in which the data checks (NaNs and infinities) read only this rank's share
        of the rows; it yields the list of what was found, which ``begin_fit`` (fit) or
        ``report_checks`` (evaluate, predict) reports."""
        from . import _data

        return _data.sharded_finite_checks(functools.partial(_bounds, rank=self.rank, size=self.num_processes))

    def report_checks(self, non_finite) -> None:
        """Warns, on every rank, about the NaNs and infinities all ranks found in their shares
        (``sharded_checks``) of evaluate's or predict's data: one small collective instead of
        every rank reading all the rows."""
        from . import _data

        _data.report_non_finite(self._comm.allgather(list(non_finite)))

    def _agree(self, what: str, parts: dict, extra=()) -> list:
        """Raises the same ValueError on every rank when the ranks' ``parts`` (name -> a value
        JSON can hold) differ; else every rank's ``extra``, in rank order (one allgather)."""
        mine = {name: _digest(value) for name, value in parts.items()}
        everyone = self._comm.allgather((mine, list(extra)))
        differing = [name for name in parts if len({d[name] for d, _ in everyone}) > 1]
        if differing:
            raise ValueError(f"DataParallel.{what}: the ranks differ in {', '.join(differing)} "
                             f"(this rank's: {', '.join(repr(parts[n]) for n in differing)}); every rank "
                             "must build the same model and be given arrays of the same shapes")
        return [e for _, e in everyone]

    @staticmethod
    def _model_parts(model) -> dict:
        return {
            # names left out: they count the layers a process made, which may differ
            "model config": [(type(layer).__name__, {k: v for k, v in layer.get_config().items() if k != "name"})
                             for layer in model.layers],
            "weights": [(tuple(w.shape), str(w.dtype)) for w in model.weights],
        }

    def sync_model(self, model, what: str) -> None:
        """Before ``evaluate``, ``predict`` and the ``*_on_batch`` calls: the first time a model
        (with its weights built) meets this distribution, checks that the ranks built the same
        model and broadcasts rank 0's weights, so ranks that built it from different seeds
        compute with one model, as Keras's DataParallel replicates one. ``fit`` does this (and
        more) at every start; later steps keep the ranks' weights identical."""
        if model in self._synced or not model.weights:
            return
        self._agree(what, self._model_parts(model))
        for t in model.weights:
            self._comm.Bcast(np.asarray(t), root=0)
        self._synced.add(model)

    def begin_fit(self, model, arrays, batch_size: int, non_finite=(), what: str = "fit") -> None:
        """Checks that every rank trains the same model on data of the same shapes, then
        broadcasts rank 0's weights and optimizer state and reseeds each rank's generator.
        ``non_finite``: this rank's share of the data checks (``sharded_checks``), reported as a
        warning on every rank once all ranks' are in (they ride on the config comparison)."""
        parts = dict(self._model_parts(model), **{
            "optimizer": [type(model.optimizer).__name__, model.optimizer.get_config()],
            "loss": repr(model.loss), "batch_size": int(batch_size),
            "data": [(tuple(a.shape), str(a.dtype)) for a in _leaves(arrays)],
        })
        everyone = self._agree(what, parts, non_finite)
        from . import _data

        _data.report_non_finite(everyone)
        for t in list(model.weights) + list(model.optimizer.variables):
            self._comm.Bcast(np.asarray(t), root=0)
        self._synced.add(model)
        self._fit_synced.add(model)
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
        from ._epoch_iterator import first_leaf, take_rows

        lo, hi = _bounds(int(first_leaf(arrays[0]).shape[0]), self.rank, self.num_processes)
        return take_rows(arrays, slice(lo, hi)), max(1, -(-batch_size // self.num_processes))

    def on_batch_train_function(self, model, function, arrays, rows: int):
        """``function`` (the model's train function) for ``train_on_batch`` of ``rows`` global rows:
        the first call for a model synchronises the ranks as fit starts (the same checks, rank 0's
        weights and optimizer state broadcast, generators reseeded); later calls only split
        the batch and all-reduce, as fit's steps do."""
        if model not in self._fit_synced:
            self.begin_fit(model, arrays, rows, what="train_on_batch")
        # kept on the model's train function (which the model holds), not here: this
        # distribution must not keep a model alive
        found = getattr(function, "_data_parallel", None)
        if found is None or found[0] is not self:
            found = function._data_parallel = (self, self.train_function(model, function))
        return found[1]

    def train_function(self, model, function, batch_logs: bool = True):
        """fit's function per batch under this distribution; ``batch_logs``: whether anything (a
        callback, the progress bar) reads the per-batch logs, which are then made global."""
        return _TrainFunction(self, model, function, batch_logs)

    # -- collectives the trainer uses --------------------------------------------------------------
    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on some rank (stop_training)."""
        return bool(self._comm.allreduce(int(bool(flag)), op=_MPI.MAX))

    def max(self, value: int) -> int:
        """The largest ``value`` over the ranks, on every rank."""
        return int(self._comm.allreduce(int(value), op=_MPI.MAX))

    def buckets(self, variables, model=None, metrics: Optional["_MetricStates"] = None) -> GradBuckets:
        """The gradient buckets of this variable list (made once per list; see _grad_buckets),
        with packs cut between ``model``'s layers, a blocking pack carrying ``metrics``' states."""
        tail = (0, None) if metrics is None else (metrics.size, metrics.dtype)
        key = (tuple(map(id, variables)), tail)
        found = self._buckets.get(key)
        if found is None or any(a is not b for a, b in zip(found.variables, variables)):
            layer_of = {}
            for n, layer in enumerate(getattr(model, "layers", None) or ()):
                for w in getattr(layer, "trainable_weights", ()):
                    layer_of.setdefault(id(w), n)
            groups = [layer_of.get(id(v), -1 - i) for i, v in enumerate(variables)]
            found = self._buckets[key] = GradBuckets(self._comm, _MPI, variables, BUCKET_MIN_ELEMENTS, groups,
                                                     tail=tail[0], tail_dtype=tail[1] or np.float32,
                                                     overlap_min=OVERLAP_MIN_ELEMENTS)
        return found

    def global_metrics(self, model, what: str = "evaluate"):
        """The metrics' results (floats) from their states summed over the ranks; the local
        states are left as they were."""
        from . import callbacks as callbacks_module

        states = _MetricStates(model)
        # A metric that builds its state at its first update (R2Score, F1Score) has none on a
        # rank that had no rows: the sizes must agree before the states can be summed.
        sizes = self._comm.allgather(states.size)
        if len(set(sizes)) > 1:
            raise ValueError(f"{what}: the ranks' metric states differ in size ({sizes}): a metric that builds its "
                             "state at its first update saw no rows on some rank; give every rank at least one "
                             "row (at least as many rows as processes)")
        summed = states.local().copy()
        self._comm.Allreduce(_MPI.IN_PLACE, summed, op=_MPI.SUM)
        return callbacks_module.pythonify_logs(states.results(summed))

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


class _MetricStates:
    """The model's metric states (the loss tracker's and the compiled metrics' sums and counts:
    every state adds over rows, so the global batch's state is the ranks' states summed) as one
    vector, and the metric results computed from a summed vector."""

    def __init__(self, model):
        self.model = model
        self.views = [np.asarray(v) for metric in model.metrics for v in metric.variables]
        dtypes = {v.dtype for v in self.views}
        # float32 states (the usual) summed as they are; others in float64 (exact for counts)
        self.dtype = dtypes.pop() if dtypes == {np.dtype(np.float32)} else np.dtype(np.float64)
        self.size = sum(v.size for v in self.views)
        self._local = np.empty(self.size, self.dtype)
        self.summed: Optional[np.ndarray] = None  # the summed states (set by _TrainFunction._apply)

    def local(self) -> np.ndarray:
        """This rank's states, flat (a buffer reused by the next call)."""
        offset = 0
        for v in self.views:
            self._local[offset:offset + v.size] = v.ravel()
            offset += v.size
        return self._local

    def results(self, summed) -> dict:
        """The metrics' results (0-d tensors, by name) computed from ``summed`` states; the local
        states are put back after."""
        saved = [v.copy() for v in self.views]
        offset = 0
        try:
            for v in self.views:
                v[...] = summed[offset:offset + v.size].reshape(v.shape)
                offset += v.size
            return self.model._metrics_result()
        finally:
            for v, s in zip(self.views, saved):
                v[...] = s


def _summed_tensors(summed, grads, arrays):
    """GradBuckets.finish's arrays as the optimizer's gradients: a gradient summed in its own
    buffer is its tensor, another array becomes a new tensor."""
    import tensorlet as tl

    return [None if s is None else (g if s is a else tl.asarray(s)) for s, g, a in zip(summed, grads, arrays)]


class _Overlap:
    """How a captured plan's replay overlaps the gradient all-reduce with backward: the plan is
    replayed in segments cut where each bucket's last gradient is final (its .grad assignment),
    and after each cut the buckets now complete start their all-reduce while the rest of backward
    replays."""

    def __init__(self, plan, variables, buckets):
        self.variables, self.buckets = list(variables), buckets
        where = {}  # a variable's buffer -> its index
        for i, v in enumerate(variables):
            a = np.asarray(v)
            where[(a.ctypes.data, a.shape, a.dtype)] = i
        n = len(variables)
        self.grads, ready = [None] * n, [-1] * n
        for index, leaf, grad in plan.leaf_grads:
            a = np.asarray(leaf)
            i = where.get((a.ctypes.data, a.shape, a.dtype))
            if i is not None:
                self.grads[i], ready[i] = grad, index
        self.arrays = [None if g is None else np.asarray(g) for g in self.grads]
        self.flags = [g is not None for g in self.grads]
        # cuts: (entry index to replay up to, how many buckets are complete there); buckets
        # start in order, so a bucket is due once it and all before it are complete. Only the
        # nonblocking buckets have cuts: the blocking ones start after the whole replay.
        self.cuts, due = [], -1
        for k, (members, _) in enumerate(buckets.buckets[:buckets.blocking_from]):
            due = max([due] + [ready[i] for i in members])
            if self.cuts and self.cuts[-1][0] == due + 1:
                self.cuts[-1] = (due + 1, k + 1)
            else:
                self.cuts.append((due + 1, k + 1))
        self.length = len(plan)

    def replay(self, plan, run, buckets, scale: float) -> None:
        """Replays the whole plan, each nonblocking bucket started at its cut; the caller starts
        the blocking ones (``buckets.start_rest``) once the metrics' updates have run too."""
        from . import _core

        buckets.begin(scale)
        done, k = None, 0
        try:
            # the last segment: the rest of backward and the metrics' updates
            for end, complete in self.cuts + [(self.length, 0)]:
                if done is None:
                    run(end)  # the new inputs in, then the first segment
                else:
                    buckets.progress()
                    plan.replay_range(done, end)
                while k < complete:
                    buckets.start(k, self.arrays, self.flags)
                    k += 1
                done = end
        except _core._capture.ReplayMismatch as e:
            if k == 0:  # nothing sent yet: the step may run eagerly instead
                raise
            # The other ranks have this rank's first buckets in their sums: no way back.
            raise RuntimeError(f"the captured step's shapes changed after {k} gradient bucket(s) were sent "
                               f"({e}); a step whose shapes depend on the data cannot overlap its all-reduce: "
                               "compile with run_eagerly=True") from None


class _TrainFunction:
    """The trainer's train function under a DataParallel: runs the step on this rank's rows with
    the optimizer deferred, all-reduces the gradients (overlapped with backward when the step is
    a replayed plan) with the metric states in a blocking pack, then applies them. Its logs are
    the metrics' results from the summed states: global, the same on every rank."""

    def __init__(self, dp: DataParallel, model, inner, batch_logs: bool = True):
        from .capture import CapturedFunction

        self._dp, self._model, self._inner = dp, model, inner
        self._batch_logs = batch_logs
        # (variables, grads) the step passed to optimizer.apply when it last ran Python (a replay
        # runs none); kept on the step function, whose plans outlive this fit
        self._pending = getattr(inner, "_deferred_applies", None)
        step = getattr(inner, "step", None)
        self._captured = step if isinstance(step, CapturedFunction) else None
        self._overlaps = {}  # plan -> _Overlap, or None where the plan cannot overlap
        self._overlapped = None  # the _Overlap this call's replay used
        self._scale = 1.0
        self._metrics = _MetricStates(model)
        self._bucket_of = {}  # (id(variable list), last) -> (that list, its GradBuckets)
        # gradient_scale()'s tensor (kept on the step function: its plans read this tensor) and
        # whether the step's one optimizer call takes gradients scaled by it (known when the step
        # last ran Python; a replay runs the same ops)
        if getattr(inner, "_grad_scale", None) is None:
            import tensorlet as tl

            inner._grad_scale, inner._grad_prescaled = tl.asarray(np.float32(1.0)), False
        self._scale_tensor = inner._grad_scale
        self._scale_value = np.asarray(inner._grad_scale)  # a view: set before each step
        self._scale_asked = 0

    def steps_per_execution(self, arrays, batch_size: int) -> int:
        return 1

    def _replay(self, plan, run) -> None:
        """The captured step's replay hook: the overlapped replay when the step's one optimizer
        call takes the variables' .grad (the standard train_step), else the plain replay."""
        overlap = self._overlaps.get(plan, False)
        if overlap is False:
            pending = self._pending
            single = pending is not None and len(pending) == 1 and pending[0][1] is None
            overlap = None
            buckets = self._buckets(pending[0][0], True) if single else None
            if buckets is not None and buckets.blocking_from > 0:  # some bucket to start mid-backward
                overlap = _Overlap(plan, pending[0][0], buckets)
            self._overlaps[plan] = overlap
        if overlap is None:
            run(None)
            return
        overlap.replay(plan, run, overlap.buckets, self._bucket_scale())
        self._overlapped = overlap
        self._dp.overlapped_steps += 1

    def _buckets(self, variables, last: bool) -> GradBuckets:
        """The buckets of one optimizer call's variables; the step's last call carries the metric
        states."""
        found = self._bucket_of.get((id(variables), last))
        if found is None or found[0] is not variables:  # once per variable list (not per step)
            found = self._bucket_of[(id(variables), last)] = (
                variables, self._dp.buckets(variables, self._model, self._metrics if last else None))
        return found[1]

    def _apply(self, buckets: GradBuckets, variables, grads, arrays) -> None:
        """Waits for the buckets, then the optimizer's update with the sums (``grads``/``arrays``:
        the gradients as given, tensors and NumPy arrays)."""
        summed = _summed_tensors(buckets.finish(), grads, arrays)
        if buckets.tail:
            self._metrics.summed = buckets.tail_sum
        self._model.optimizer.apply(variables, summed)

    def _bucket_scale(self) -> float:
        """The scale the buckets apply: none when the loss already carried it."""
        return 1.0 if self._inner._grad_prescaled else self._scale

    def __call__(self, batch):
        global _running
        Batch = type(batch)
        model, optimizer, metrics = self._model, self._model.optimizer, self._metrics
        start, stop = self._dp.local_rows(batch.start, batch.stop)
        self._scale = (stop - start) / batch.size
        self._overlapped = None
        logs = None
        if stop > start:
            deferred = optimizer._deferred = []
            self._scale_value[()] = self._scale
            self._scale_asked = 0
            if self._captured is not None:
                self._captured.replay_hook = self._replay
            _running = self
            try:
                logs = self._inner(Batch(batch.arrays, batch.index, start, stop, batch.notes))
            finally:
                _running = None
                optimizer._deferred = None
                if self._captured is not None:
                    self._captured.replay_hook = None
            if deferred:  # a replayed step runs no Python: the last recorded call's lists stand
                self._pending = self._inner._deferred_applies = deferred
                # one optimizer call on gradients of the loss times gradient_scale()
                self._inner._grad_prescaled = len(deferred) == 1 and self._scale_asked == 1
        if self._pending is None:  # this rank has had no rows yet
            self._pending = [(list(model.trainable_weights), None)]
        overlap = self._overlapped
        if overlap is not None:  # the nonblocking buckets started during the replay
            overlap.buckets.start_rest(overlap.arrays, overlap.flags, metrics.local())
            self._apply(overlap.buckets, overlap.variables, overlap.grads, overlap.arrays)
        else:  # after the step (eager, or a replay that could not overlap, or no rows here)
            last = len(self._pending) - 1
            for n, (variables, grads) in enumerate(self._pending):
                if stop == start:
                    grads = [None] * len(variables)
                elif grads is None:
                    grads = [v.grad for v in variables]
                buckets = self._buckets(variables, n == last)
                arrays = [None if g is None else np.asarray(g) for g in grads]
                buckets.begin(1.0 if stop == start else self._bucket_scale())
                buckets.start_rest(arrays, [a is not None for a in arrays], metrics.local() if n == last else None)
                self._apply(buckets, variables, grads, arrays)
        if not self._batch_logs or metrics.summed is None:  # nothing reads them (or no states):
            # fit's epoch logs sum the states themselves
            return model._metrics_result() if logs is None else logs
        # The metrics' results from the global states; a custom train_step's other values are
        # this rank's own.
        summed = metrics.results(metrics.summed)
        return summed if logs is None else {k: summed.get(k, v) for k, v in logs.items()}
