"""Captured steps: record a step built from tensorlet ops once, replay it without Python.

``CapturedFunction(fn)`` (or the ``@captured`` decorator) wraps a step such as a train step
(forward, loss, ``backward()``, ``optimizer.apply``). Per call signature (the shapes and dtypes
of the tensor arguments, and the values of the other arguments, e.g. ``training=True``):

1. the first call runs ``fn`` eagerly (so layers, optimizer slots and metrics build outside any
   capture, as tinygrad's TinyJit does);
2. the second call copies the tensor arguments into input tensors the plan owns and runs ``fn``
   while the C++ recorder logs every outermost op call, the backward engine's node calls and
   ``.grad`` assignments, and the buffers each call allocates (the plan's arena);
3. later calls copy the new inputs into those input tensors and replay the plan in C++, with
   the GIL released, each op under the grad mode it was recorded in: every op re-runs into the very buffers it wrote when
   recorded, so the tensors ``fn`` returned (the same objects every call) hold the new results.
   Entries whose logged kernel calls rebuild all they wrote replay as those calls alone
   (``Plan.lowered_ops``; see csrc/capture/recorder.h).
4. the first replay also lets the plan's buffers share memory by liveness: a buffer is dead after
   its last reader in the step, and buffers whose live ranges do not overlap share one slab
   (``Plan.arena_bytes`` against ``Plan.unshared_bytes``). The returned tensors, ``.grad``
   buffers, weights and optimizer state never share; other tensors made inside ``fn`` (and
   NumPy views of them) hold no defined values after a replay, as with CUDA graphs.

Rules (as for CUDA graphs / TinyJit): Python control flow and Python values are frozen at
capture, so a step whose Python reads tensor values while it is captured (``float(t)``,
``bool(t)``, ``.item()``, ``np.asarray(t)``, ...: ``Plan.python_read``) or returns Python
numbers runs eagerly, with a warning; each step produces
fresh gradients (set ``.grad`` to None before ``backward()`` inside ``fn``: the replay assigns
this step's gradient, it never accumulates into an older one); random ops draw new numbers on
every replay; an optimizer's step count advances and its current learning rate is used. Tensors
made from Python data inside ``fn`` are constants. A replay whose buffer sizes differ from the
recording (shapes that depend on the data) falls back to an eager call and captures again.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from . import _core

__all__ = ["CapturedFunction", "captured", "before_each_replay"]

_C = _core._capture
_local = threading.local()
# The default of CapturedFunction's share_buffers (bench/arena_sharing.py turns it off to compare).
SHARE_BUFFERS = True
# The default of CapturedFunction's fuse (tests compare fused and unfused replays).
FUSE = True


def before_each_replay(callback: Callable[[], None]) -> None:
    """Registers `callback` to run (with Python) before each replay of the step being captured on
    this thread; a no-op when nothing is being captured. For state that Python must refresh per
    step, such as a learning-rate schedule's value."""
    hooks = getattr(_local, "hooks", None)
    if hooks is not None:
        hooks.append(callback)


def _is_tensor_like(x) -> bool:
    return isinstance(x, (_core.Tensor, np.ndarray))


def _rebuild(obj, it):
    """`obj` with its tensors replaced, in the order of _C.signature's walk, by the next ones from `it`."""
    if _is_tensor_like(obj):
        return next(it)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_rebuild(o, it) for o in obj)
    if isinstance(obj, dict):
        return {k: _rebuild(v, it) for k, v in obj.items()}
    return obj


def _outputs_are_tensors(out) -> bool:
    if out is None or isinstance(out, _core.Tensor):
        return True
    if isinstance(out, (list, tuple)):
        return all(_outputs_are_tensors(o) for o in out)
    if isinstance(out, dict):
        return all(_outputs_are_tensors(o) for o in out.values())
    return False


def _flat_tensors(out) -> List:
    if isinstance(out, _core.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _flat_tensors(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _flat_tensors(o)]
    return []


class _Entry:
    """One signature's state: calls seen, and once captured its plan, inputs and outputs."""

    __slots__ = ("calls", "plan", "inputs", "outputs", "hooks", "mismatches", "eager_only", "replays")

    def __init__(self):
        self.calls = 0
        self.plan = None
        self.inputs: List = []
        self.outputs: Any = None
        self.hooks: List[Callable[[], None]] = []
        self.mismatches = 0
        self.eager_only = False
        self.replays = 0


class CapturedFunction:
    """Wraps `fn` so that its calls are captured once per signature and then replayed.

    Args:
        fn: the step; its tensor arguments arrive as ``tl.Tensor`` (NumPy arrays are converted).
        enabled: False runs every call eagerly (what ``run_eagerly=True`` gives).
        share_buffers: False keeps one buffer per allocation (no reuse by liveness); None: the
            module's ``SHARE_BUFFERS``.
        fuse: False replays the recorded entries as recorded, without the fusion rewrites
            (``Plan.fuse``: GEMM epilogues, activation and bias gradients, the mean's gradient
            with the cross-entropy's); None: the module's ``FUSE``.
    """

    def __init__(self, fn: Callable, enabled: bool = True, share_buffers: Optional[bool] = None,
                 fuse: Optional[bool] = None):
        self.fn = fn
        self.enabled = bool(enabled)
        self.share_buffers = SHARE_BUFFERS if share_buffers is None else bool(share_buffers)
        self.fuse = FUSE if fuse is None else bool(fuse)
        self.fused: Dict[str, int] = {}  # how often each rewrite fired, summed over the plans
        self._entries: Dict[tuple, _Entry] = {}
        # Called instead of the plain replay as replay_hook(plan, run): run(end) copies the new
        # inputs in and replays entries [0, end); the hook replays the rest (plan.replay_range)
        # with its own work in between (tensorlet.distribution starts gradient all-reduces there).
        self.replay_hook: Optional[Callable[[Any, Callable[[Optional[int]], None]], None]] = None
        self.__wrapped__ = fn
        self.__doc__ = getattr(fn, "__doc__", None)

    # -- introspection -------------------------------------------------------------------------
    @property
    def plans(self) -> Dict[tuple, Any]:
        """The captured plans by signature key."""
        return {k: e.plan for k, e in self._entries.items() if e.plan is not None}

    def arena_bytes(self) -> int:
        """Bytes held by the captured plans' buffers."""
        return sum(e.plan.arena_bytes for e in self._entries.values() if e.plan is not None)

    def stats(self) -> Dict[str, int]:
        es = self._entries.values()
        return {"signatures": len(self._entries), "plans": sum(e.plan is not None for e in es),
                "replays": sum(e.replays for e in es), "ops": sum(len(e.plan) for e in es if e.plan is not None)}

    def reset(self) -> None:
        """Drops every plan (the next calls run eagerly, then capture again)."""
        self._entries.clear()

    # -- calls ---------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        # The signature walk (tensors with their shapes and dtypes, other values by value) is
        # C++: it runs on every call.
        key, tensors, requires_grad = _C.signature(*args, **kwargs)
        return self._call(key, tensors, requires_grad, (args, kwargs))

    def call_rows(self, batch):
        """``self(batch.data())`` for a ``Batch`` of the trainer's loops: once this batch size
        replays a plan, each later batch's rows are gathered by C++ straight into the plan's inputs
        (without the GIL), with no gathered tensors in between. What was found out about the
        batches is kept in ``batch.notes`` (shared by one iterator's batches)."""
        note = ("captured rows", id(self), batch.size, batch.index is None)
        found = batch.notes.get(note)
        if found is not None and found[0] is self and self._entries.get(found[1]) is found[2] \
                and found[2].plan is not None and self.enabled and not _C.is_recording():
            entry = found[2]
            entry.calls += 1
            return self._replay(entry, None, None, rows=(found[3], batch))
        data = batch.data()
        key, tensors, requires_grad = _C.signature(data)
        out = self._call(key, tensors, requires_grad, ((data,), {}))
        entry = self._entries.get(key)
        if entry is not None and entry.plan is not None:
            sources = _row_sources(batch)
            if sources is not None:
                batch.notes[note] = (self, key, entry, sources)
        return out

    def _call(self, key, tensors, requires_grad, build):
        if not self.enabled or requires_grad or _C.is_recording():
            return self._eager(build, tensors)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.calls += 1
        if entry.plan is not None:
            return self._replay(entry, build, tensors)
        if entry.eager_only or entry.calls == 1:
            return self._eager(build, tensors)
        return self._capture(entry, build, tensors)

    def _eager(self, build, tensors):
        args, kwargs = _rebuild(build, iter([t if isinstance(t, _core.Tensor) else _core.asarray(t) for t in tensors]))
        return self.fn(*args, **kwargs)

    def _capture(self, entry: _Entry, build, tensors):
        inputs = [_core.array(t, copy=True) for t in tensors]  # plan-owned, contiguous
        args, kwargs = _rebuild(build, iter(inputs))
        plan = _C.Plan()
        hooks: List[Callable[[], None]] = []
        _local.hooks = hooks
        _C.begin(plan)
        try:
            out = self.fn(*args, **kwargs)
        finally:
            _C.end()
            _local.hooks = None
        if not _outputs_are_tensors(out):
            warnings.warn(f"CapturedFunction({getattr(self.fn, '__name__', self.fn)!r}): the step returned "
                          f"{type(out).__name__} values that are not tensors, which a replay could not refresh; "
                          "running it eagerly", RuntimeWarning, stacklevel=3)
            entry.eager_only = True
            return out
        if plan.python_read:
            warnings.warn(f"CapturedFunction({getattr(self.fn, '__name__', self.fn)!r}): the step read tensor values "
                          f"in Python ({plan.python_read}) while it was captured; replays run no Python, so code "
                          "that depends on those values (a branch, a loop bound) would be frozen at the captured "
                          "ones: running it eagerly", RuntimeWarning, stacklevel=3)
            entry.eager_only = True
            return out
        if self.fuse:
            for name, n in plan.fuse(_flat_tensors(out)).items():
                self.fused[name] = self.fused.get(name, 0) + n
        if self.share_buffers:
            plan.share_buffers(_flat_tensors(out))
        entry.plan, entry.inputs, entry.outputs, entry.hooks = plan, inputs, out, hooks
        # The capturing run's own buffers are free now that the plan has its arena; glibc keeps
        # freed heap pages mapped, which held a fit's peak RSS 3 MiB higher. Captures are rare.
        _C.return_free_memory()
        return out

    def _replay(self, entry: _Entry, build, tensors, rows=None):
        """Replays ``entry``'s plan on ``tensors``, or (``rows`` = (sources, batch), build and
        tensors None) on the batch's rows of the sources, gathered into the plan's inputs."""
        for hook in entry.hooks:
            hook()
        if rows is None:
            def run(end=None):  # copies the new inputs in, then replays
                _C.run(entry.plan, entry.inputs, tensors, end)
        else:
            sources, batch = rows

            def run(end=None):
                _C.run_rows(entry.plan, entry.inputs, sources, batch.index, batch.start, batch.stop, end)
        try:
            hook = self.replay_hook
            if hook is None:
                run()
            else:
                hook(entry.plan, run)
        except _C.ReplayMismatch as e:
            if rows is not None:  # the eager call below takes the gathered rows
                data = rows[1].data()
                _, tensors, _ = _C.signature(data)
                build = ((data,), {})
            # Shapes that depend on the data: this call runs eagerly; capture once more, then stay
            # eager for this signature if it happens again.
            entry.mismatches += 1
            entry.plan, entry.inputs, entry.outputs, entry.hooks = None, [], None, []
            if entry.mismatches > 1:
                entry.eager_only = True
                warnings.warn(f"CapturedFunction: {e}; running this signature eagerly from now on",
                              RuntimeWarning, stacklevel=3)
            entry.calls = 1
            return self._eager(build, tensors)
        entry.replays += 1
        return entry.outputs


def _row_sources(batch):
    """The tensors ``CapturedFunction.call_rows`` gathers the batch's rows from (the arrays' in the
    order the signature walk meets them in ``batch.data()``), or None when they are not all
    contiguous tensors or the index is not an int64 vector (then batches go through data())."""
    sources = []

    def walk(a):
        if isinstance(a, list):
            return all(walk(t) for t in a)
        if not isinstance(a, _core.Tensor) or a.ndim < 1 or not np.asarray(a).flags.c_contiguous:
            return False
        sources.append(a)
        return True

    index = batch.index
    if not all(walk(a) for a in batch.arrays) or (index is not None and (
            not isinstance(index, _core.Tensor) or index.ndim != 1 or str(index.dtype) != "int64"
            or not np.asarray(index).flags.c_contiguous)):
        return None
    return sources


def captured(fn: Optional[Callable] = None, *, enabled: bool = True):
    """Decorator form of CapturedFunction: ``@captured`` or ``@captured(enabled=False)``."""
    if fn is None:
        return lambda f: CapturedFunction(f, enabled=enabled)
    return CapturedFunction(fn, enabled=enabled)
