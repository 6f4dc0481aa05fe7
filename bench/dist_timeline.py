"""Where a DataParallel fit step's time goes: a per-step breakdown of the chapter's model (784-512
relu-10 softmax, RMSprop, global batch 256) on each rank, in one process or under mpirun.

    PYTHONPATH=python python bench/dist_timeline.py [--epochs 3] [--samples 60000] [--batch-size 256]
    mpirun -n 2 --bind-to core -x PYTHONPATH python bench/dist_timeline.py [--epochs 3]

The trainer's parts are wrapped (monkeypatched in this process only) by timers that add up wall
time and this thread's CPU time (time.thread_time) per part, printed per step. Parts nest, so
each row is inclusive; "fit loop besides step+callbacks" is the rest of fit's time per step.
A warm-up fit of 8 batches captures the full batch's step before the timed fit; per-fit and
per-epoch costs (config check and broadcast, shuffles, global epoch metrics) are printed as
totals. CPU time is what to read on a shared machine, except inside collectives: a waiting rank
busy-polls, so a blocking all-reduce's CPU time includes waiting for the other rank.
The whole fit is then split into the steps, the per-fit/per-epoch parts outside them (data
checks, begin_fit, epoch-end collectives) and the rest; in steps, the first call of a new shape
(the short last batch) runs eagerly. Under mpirun, rank 0 also prints how long each rank waited
in the blocking all-reduces for the other to arrive (imbalance and jitter) and how long the
calls took once both were in (the transfer). Each timed call adds ~3-4 us of its own (two
clock reads each side, thread_time being a system call), so the parts read slightly high.
--no-row-gather sends the batches through Batch.data() and a copy into the plan (the path
before capture.run_rows), for an A/B in one checkout.
"""

import argparse
import collections
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TENSORLET_NUM_THREADS"):
    os.environ.setdefault(v, "1")

import numpy as np  # noqa: E402

import tensorlet as tl  # noqa: E402
from tensorlet import _epoch_iterator, capture, distribution, trainer  # noqa: E402
from tensorlet import _grad_buckets, _optimizer_base  # noqa: E402
from mnist_distributed import chapter_model  # noqa: E402
from mnist_fit import read_data, write_data  # noqa: E402

WALL = collections.defaultdict(float)
CPU = collections.defaultdict(float)
COUNT = collections.Counter()
ON = [False]


def timed(name, fn):
    def wrapper(*args, **kwargs):
        if not ON[0]:
            return fn(*args, **kwargs)
        w, c = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            WALL[name] += time.perf_counter() - w
            CPU[name] += time.thread_time() - c
            COUNT[name] += 1
    return wrapper


def patch(owner, attr, name):
    setattr(owner, attr, timed(name, getattr(owner, attr)))


class _Outer:
    def __init__(self, inner):
        self.inner = inner
        self.__call__ = timed("step function", inner.__call__)

    def __call__(self, batch):
        return self.__dict__["__call__"](batch)

    def __getattr__(self, name):
        return getattr(self.inner, name)


# (owner, attribute, the part's name) of the methods timed as they are
PARTS = [
    (distribution._Overlap, "replay", "overlapped replay"),
    (distribution.DataParallel, "local_rows", "local rows"),
    (distribution._MetricStates, "local", "metric states local"),
    (distribution._MetricStates, "results", "metric results (summed)"),
    (distribution._TrainFunction, "_apply", "apply (wait + optimizer)"),
    (_grad_buckets.GradBuckets, "start", "bucket start (post)"),
    (_grad_buckets.GradBuckets, "progress", "bucket progress (Testall)"),
    (_grad_buckets.GradBuckets, "finish", "bucket finish (Waitall + unpack)"),
    (_optimizer_base.Optimizer, "apply", "optimizer apply"),
    (distribution.DataParallel, "begin_fit", "per fit: begin_fit (check + broadcast)"),
    (distribution.DataParallel, "global_metrics", "per epoch: global metrics"),
    (distribution.DataParallel, "any", "any (stop_training)"),
    (distribution.DataParallel, "average_non_trainable", "per epoch: average non-trainable"),
    (_epoch_iterator.EpochIterator, "_permutation", "per epoch: permutation"),
    (trainer.StepFunction, "__call__", "inner step function"),
    (distribution._TrainFunction, "__call__", "step function"),
    (trainer.Trainer, "_prepare_data", "per fit: prepare data (checks, conversion)"),
    (trainer.Trainer, "_symbolic_build", "per fit: symbolic build"),
    (capture.CapturedFunction, "_eager", "in steps: eager step (a new shape's first call)"),
    (capture.CapturedFunction, "_capture", "in steps: capture (a new shape's second call)"),
]
# each blocking all-reduce's (entry, exit) perf_counter times (one clock for all processes on a
# host: CLOCK_MONOTONIC), for the ranks' arrival skew per call
CALLS = []


def recorded(fn):
    def wrapper(*args, **kwargs):
        if not ON[0]:
            return fn(*args, **kwargs)
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            CALLS.append((t, time.perf_counter()))
    return wrapper


def install():
    patch(_epoch_iterator.Batch, "data", "batch rows (gather)")
    patch(capture.CapturedFunction, "__call__", "captured call")
    C = capture._C

    class Shim:  # capture._C's run timed, the rest as it is
        def __getattr__(self, name):
            return getattr(C, name)
    shim = Shim()
    shim.run = timed("plan run (inputs in + replay)", C.run)
    shim.signature = timed("signature", C.signature)
    shim.run_rows = timed("plan run_rows (rows in + replay)", C.run_rows)
    patch(C.Plan, "replay_range", "plan replay_range (segments)")
    capture._C = shim
    for owner, attr, name in PARTS:
        patch(owner, attr, name)
    init = _grad_buckets.GradBuckets.__init__

    class Comm:  # the buckets' communicator, its all-reduces timed
        def __init__(self, comm):
            self.comm = comm
            self.Allreduce = timed("blocking Allreduce", recorded(comm.Allreduce))
            self.Iallreduce = timed("Iallreduce post", comm.Iallreduce)

        def __getattr__(self, name):
            return getattr(self.comm, name)

    def new_init(self, comm, *args, **kwargs):
        init(self, Comm(comm), *args, **kwargs)
    _grad_buckets.GradBuckets.__init__ = new_init
    patch(distribution.DataParallel, "train_function", "train_function wrap")  # (per fit)
    base = trainer.Trainer.make_train_function
    # one process: the trainer's StepFunction is fit's step function
    trainer.Trainer.make_train_function = lambda self, force=False: (
        _Outer(base(self, force)) if distribution.active() is None else base(self, force))
    from tensorlet import _callback_base
    make = _callback_base.CallbackList._dispatcher
    names = {"on_train_batch_begin": "callbacks batch begin", "on_train_batch_end": "callbacks batch end"}
    _callback_base.CallbackList._dispatcher = lambda self, hook: (
        timed(names[hook], make(self, hook)) if hook in names else make(self, hook))


def skew(comm, dp):
    """Rank 0's summary of the ranks' arrival times at each blocking all-reduce: how long the
    earlier rank waited in it for the later one, and how long the call took once both were in."""
    everyone = comm.gather(CALLS, root=0)
    if dp.rank != 0:
        return ""
    n = min(len(c) for c in everyone)
    if any(len(c) != n for c in everyone):
        return f"  (ranks made {[len(c) for c in everyone]} all-reduces: no skew table)"
    last_in = [max(c[k][0] for c in everyone) for k in range(n)]
    waits = [[last_in[k] - c[k][0] for k in range(n)] for c in everyone]
    after = [min(c[k][1] for c in everyone) - last_in[k] for k in range(n)]
    later = [max(range(len(everyone)), key=lambda r: everyone[r][k][0]) for k in range(n)]
    out = [f"  blocking all-reduces: {n} per rank; once all ranks are in: median {1e3 * np.median(after):.3f} ms, "
           f"total {1e3 * sum(after):.1f} ms"]
    for r, w in enumerate(waits):
        out.append(f"    rank {r}: waited for the other(s) {1e3 * sum(w):.1f} ms in all (median "
                   f"{1e3 * np.median(w):.3f} ms, p90 {1e3 * np.percentile(w, 90):.3f} ms per call), "
                   f"arrived last at {sum(x == r for x in later)} of {n}")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--samples", type=int, default=60000)
    p.add_argument("--batch-size", type=int, default=256,
                   help="the global batch (one process at 128 runs one rank's share of 2 ranks' steps)")
    p.add_argument("--no-row-gather", action="store_true",
                   help="batches through Batch.data() and a copy into the plan (as before run_rows)")
    args = p.parse_args()
    if args.no_row_gather:
        init = trainer.StepFunction.__init__

        def without(self, step):
            init(self, step)
            self._call_rows = None
        trainer.StepFunction.__init__ = without
    tl.set_num_threads(1)
    dp = distribution.DataParallel()
    distribution.set_distribution(dp)
    import tempfile
    data = tempfile.mkdtemp(prefix="tl_timeline_") if dp.rank == 0 else None
    comm = getattr(dp, "_comm", None)
    if dp.rank == 0:
        write_data(data, args.samples)
    if dp.num_processes > 1:
        data = comm.bcast(data, root=0)
    x, y, _, _ = read_data(data)
    y = np.eye(10, dtype=np.float32)[y]
    model = chapter_model()
    install()
    model.fit(x[:8 * args.batch_size], y[:8 * args.batch_size], batch_size=args.batch_size, epochs=1,
              verbose=0)  # capture outside the timing
    ON[0] = True
    if dp.num_processes > 1:
        comm.Barrier()
    w0, c0 = time.perf_counter(), time.thread_time()
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0)
    wall, cpu = time.perf_counter() - w0, time.thread_time() - c0
    ON[0] = False
    steps = COUNT["step function"]
    lines = [f"rank {dp.rank}/{dp.num_processes}: {args.epochs} epochs, {steps} steps, fit {wall:.2f} s wall "
             f"{cpu:.2f} s CPU = {1e3 * wall / steps:.2f} ms wall {1e3 * cpu / steps:.2f} ms CPU per step"]
    named = ["step function", "inner step function", "batch rows (gather)", "captured call", "signature",
             "plan run (inputs in + replay)", "plan run_rows (rows in + replay)", "overlapped replay",
             "plan replay_range (segments)", "bucket progress (Testall)", "bucket start (post)", "Iallreduce post",
             "blocking Allreduce", "local rows", "metric states local", "apply (wait + optimizer)",
             "bucket finish (Waitall + unpack)", "optimizer apply", "metric results (summed)",
             "callbacks batch begin", "callbacks batch end", "any (stop_training)"]
    lines.append(f"  {'part (inclusive)':36s} {'calls':>6s} {'wall ms/step':>12s} {'CPU ms/step':>12s}")
    for name in named + sorted(k for k in COUNT if k.startswith(("per ", "in steps:"))):
        if COUNT[name]:
            per = 1 if name.startswith(("per ", "in steps:")) else steps
            unit = "" if per == steps else " (total ms)"
            lines.append(f"  {name + unit:36s} {COUNT[name]:6d} {1e3 * WALL[name] / per:12.3f} {1e3 * CPU[name] / per:12.3f}")
    fit_other_w = wall - WALL["step function"] - WALL["callbacks batch begin"] - WALL["callbacks batch end"]
    fit_other_c = cpu - CPU["step function"] - CPU["callbacks batch begin"] - CPU["callbacks batch end"]
    lines.append(f"  {'fit loop besides step+callbacks':36s} {'':6s} {1e3 * fit_other_w / steps:12.3f} "
                 f"{1e3 * fit_other_c / steps:12.3f}")
    # the epoch(s) as parts: what the steps took, the per-fit and per-epoch work, the rest
    fixed = [k for k in COUNT if k.startswith("per ")]
    parts_w = WALL["step function"] + WALL["callbacks batch begin"] + WALL["callbacks batch end"]
    lines.append(f"  fit {1e3 * wall:.1f} ms wall = steps+callbacks {1e3 * parts_w:.1f} + per-fit/epoch parts "
                 f"{1e3 * sum(WALL[k] for k in fixed if 'permutation' not in k):.1f} (outside the steps) + rest "
                 f"{1e3 * (wall - parts_w - sum(WALL[k] for k in fixed if 'permutation' not in k)):.1f} ms "
                 "(permutations, the loop, callbacks' epoch hooks)")
    text = "\n".join(lines)
    if dp.num_processes > 1:
        text += "\n" + skew(comm, dp)
    if dp.num_processes > 1:
        texts = comm.gather(text, root=0)
        if dp.rank == 0:
            print("\n".join(texts), flush=True)
    else:
        print(text, flush=True)
    if dp.rank == 0:
        import shutil
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
