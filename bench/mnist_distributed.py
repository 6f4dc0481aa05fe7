"""Data-parallel training of the chapter's model (Dense 512 relu -> Dense 10 softmax, RMSprop) on
MNIST at global batch 256: tensorlet under `mpirun -n 2` (tensorlet.distribution.DataParallel)
against tensorlet in one process, and PyTorch DDP on gloo (2 ranks) against PyTorch in one
process. One thread per process everywhere. Each configuration runs in its own processes,
round-robin over --repeats rounds (A B C D A B C D ...); medians are reported.

    PYTHONPATH=python python bench/mnist_distributed.py [--epochs 1] [--repeats 3]
        [--samples 60000] [--torch-python /work/venv-bench/bin/python] [--yield-when-idle] [--ceiling]

--ceiling adds "2 apart": the same 2 ranks, each fitting a model of its own on half the rows at
batch 128 (the rows a rank computes per step under DataParallel), with no all-reduce and no shared
weights. That is the most any data-parallel step could reach on this machine; how close the 2
ranks come to it is what the gradient all-reduce and the replicated optimizer update cost.

mpirun binds the 2 ranks to a core each; a waiting rank busy-polls (Open MPI's default with a
core per rank), or with --yield-when-idle yields its core between polls (see commands()). The
PyTorch DDP ranks are pinned to a core each too. The 1-min load average before each run is
printed next to its time.

CPU: the fit's CPU time summed over the configuration's processes (a waiting rank's polling
counts). On a loaded machine wall times mostly measure scheduling: a synchronous 2-rank step runs
at its slower rank's pace, so one busy core caps it, while 1 process takes the free core.

Timed: one fit of --epochs epochs after an untimed warm-up fit of 8 global batches on the same
model; for the 2-rank runs from a barrier before the fit to a barrier after it (rank 0's clock).
PyTorch peers (skipped with a note when the --torch-python interpreter has no torch): eager
Sequential(Linear, ReLU, Linear), CrossEntropyLoss on logits, RMSprop(lr=1e-3, alpha=0.9,
eps=1e-7); DDP splits each global batch of 256 into the ranks' halves as tensorlet does, its
gradients all-reduced by DDP's bucketed hooks (overlapped with backward). Needs mpirun and mpi4py
in this interpreter (pip install ".[distributed]").
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mnist_fit import read_data, write_data  # noqa: E402  (the same data files as bench/mnist_fit.py)

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TENSORLET_NUM_THREADS")
GLOBAL_BATCH = 256
WARMUP_BATCHES = 8


def child_env():
    env = dict(os.environ)
    env.update({v: "1" for v in THREAD_VARS})
    return env


# ---------------------------------------------------------------------------------------------
# Children: each process prints one JSON line {"rank": r, "seconds": wall, "cpu": its CPU time}


def chapter_model():
    """The chapter's model, compiled, from seed 0 (bench/dist_timeline.py times the same one)."""
    from tensorlet import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(512, activation="relu", input_shape=(784,)),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def tensorlet_child(data, epochs, apart=False):
    """One rank of the data-parallel fit, or with ``apart`` the same ranks each fitting its own
    model on its half of the rows at the per-rank batch, with no all-reduce (the ceiling)."""
    import numpy as np

    import tensorlet
    from tensorlet import distribution

    tensorlet.set_num_threads(1)
    x, y, _, _ = read_data(data)
    y = np.eye(10, dtype=np.float32)[y]
    batch = GLOBAL_BATCH
    if apart:
        from mpi4py import MPI

        comm = MPI.COMM_WORLD
        rank, size = comm.rank, comm.size
        share = -(-len(x) // size)
        x, y = x[rank * share:(rank + 1) * share], y[rank * share:(rank + 1) * share]
        batch = -(-GLOBAL_BATCH // size)  # the rows a rank computes per step under DataParallel
    else:
        dp = distribution.DataParallel()
        distribution.set_distribution(dp)
        rank, size = dp.rank, dp.num_processes
        comm = None if size == 1 else __import__("mpi4py.MPI").MPI.COMM_WORLD
    model = chapter_model()
    warm = WARMUP_BATCHES * batch
    model.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)
    barrier = (lambda: None) if comm is None else comm.Barrier
    barrier()
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
    cpu = time.process_time() - c0
    barrier()
    print(json.dumps({"rank": rank, "seconds": time.perf_counter() - t0, "cpu": cpu}), flush=True)


def torch_child(rank, world, port, data, epochs):
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    if world > 1 and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= world:
        os.sched_setaffinity(0, {rank})  # each rank on its own core, as mpirun binds tensorlet's
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    x, y, _, _ = read_data(data)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run(samples):
        for _ in range(epochs if samples == len(x) else 1):
            order = torch.randperm(samples, generator=torch.Generator().manual_seed(0))
            for start in range(0, samples, GLOBAL_BATCH):
                rows = order[start:start + GLOBAL_BATCH]
                share = -(-len(rows) // world)
                rows = rows[rank * share:(rank + 1) * share]  # this rank's part of the global batch
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(x[rows]), y[rows]).backward()
                optimizer.step()

    run(WARMUP_BATCHES * GLOBAL_BATCH)
    if world > 1:
        dist.barrier()
    t0, c0 = time.perf_counter(), time.process_time()
    run(len(x))
    cpu = time.process_time() - c0
    if world > 1:
        dist.barrier()
    print(json.dumps({"rank": rank, "seconds": time.perf_counter() - t0, "cpu": cpu}), flush=True)
    if world > 1:
        dist.destroy_process_group()


def torch_main(world, data, epochs):
    if world == 1:
        torch_child(0, 1, 0, data, epochs)
        return
    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(torch_child, args=(world, port, data, epochs), nprocs=world)


# ---------------------------------------------------------------------------------------------
# Parent


def commands(args, data):
    me = os.path.abspath(__file__)
    child = ["--child", "--data", data, "--epochs", str(args.epochs)]
    mpirun = shutil.which("mpirun")
    root = ["--allow-run-as-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    found = {"tensorlet 1 process": [sys.executable, me, "--kind", "tensorlet", *child]}
    if mpirun:
        # One rank per core, each bound to its core (Open MPI's default for 2 ranks, which
        # --oversubscribe turns off): no migration between cores, each rank keeps its L2 cache.
        # --yield-when-idle: a waiting rank yields its core between polls. On a shared machine
        # the rank it waits for may then get the core (20.5 -> 16.5 s per epoch at load 14 here),
        # but each yield can also lose the core for a whole time slice: at load 4 a Testall took
        # 2.5 ms of wall time for 20 us of CPU. Busy polling is the fastest on a quiet machine
        # (one round at load 4: 0.93 s an epoch, 1.80 s yielding).
        placement = ["--bind-to", "core"] if (os.cpu_count() or 1) >= 2 else ["--oversubscribe"]
        if args.yield_when_idle:
            placement += ["--mca", "mpi_yield_when_idle", "1"]
        found["tensorlet 2 ranks"] = [mpirun, "-n", "2", *placement, *root, "-x", "PYTHONPATH",
                                      sys.executable, me, "--kind", "tensorlet", *child]
        if args.ceiling:
            found["2 apart (ceiling)"] = [mpirun, "-n", "2", *placement, *root, "-x", "PYTHONPATH",
                                          sys.executable, me, "--kind", "apart", *child]
    else:
        print("tensorlet 2 ranks: skipped (no mpirun; pip install '.[distributed]')")
    torch_python = args.torch_python
    if torch_python and shutil.which(torch_python) and \
            subprocess.run([torch_python, "-c", "import torch"], capture_output=True).returncode == 0:
        found["pytorch 1 process"] = [torch_python, me, "--kind", "torch1", *child]
        found["pytorch DDP 2 ranks"] = [torch_python, me, "--kind", "torch2", *child]
    else:
        print(f"pytorch peers: skipped (no torch in {torch_python!r})")
    return found


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--samples", type=int, default=60000)
    p.add_argument("--torch-python", default=os.environ.get("TORCH_PYTHON", "/work/venv-bench/bin/python"))
    p.add_argument("--yield-when-idle", action="store_true",
                   help="waiting tensorlet ranks yield their core (for a machine shared with other work)")
    p.add_argument("--ceiling", action="store_true",
                   help="also time 2 ranks that each fit their own model on half the rows at batch 128, "
                        "with no all-reduce: what any data-parallel step could reach on this machine")
    p.add_argument("--child", action="store_true")
    p.add_argument("--kind")
    p.add_argument("--data")
    args = p.parse_args()
    if args.child:
        if args.kind in ("tensorlet", "apart"):
            tensorlet_child(args.data, args.epochs, apart=args.kind == "apart")
        else:
            torch_main(2 if args.kind == "torch2" else 1, args.data, args.epochs)
        return

    data = tempfile.mkdtemp(prefix="mnist_dist_")
    try:
        write_data(data, args.samples)
        runs = commands(args, data)
        times = {name: [] for name in runs}
        cpus = {name: [] for name in runs}  # CPU seconds of all the configuration's processes
        loads = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, command in runs.items():
                loads[name].append(os.getloadavg()[0])
                job = subprocess.run(command, capture_output=True, text=True, env=child_env(), timeout=1800)
                if job.returncode != 0:
                    sys.exit(f"{name} failed:\n{job.stdout}\n{job.stderr}")
                # the ranks' lines may interleave in the merged output: take each {...} object
                lines = [json.loads(m) for m in re.findall(r"\{[^{}]*\}", job.stdout)]
                times[name].append(next(d["seconds"] for d in lines if d["rank"] == 0))
                cpus[name].append(sum(d["cpu"] for d in lines))
    finally:
        shutil.rmtree(data, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"chapter model, global batch {GLOBAL_BATCH}, {args.samples} samples x {args.epochs} epoch(s), "
          f"1 thread per process, {args.repeats} interleaved rounds; 1-min load average {load:.1f} "
          f"on {os.cpu_count()} cores; waiting ranks {'yield' if args.yield_when_idle else 'busy-poll'}")
    med = {name: statistics.median(ts) for name, ts in times.items()}
    for name, ts in times.items():
        print(f"  {name:22s} median {med[name]:7.2f} s   all: {', '.join(f'{t:.2f}' for t in ts)}   "
              f"CPU (all processes) median {statistics.median(cpus[name]):.2f} s   "
              f"(1-min load before each: {', '.join(f'{v:.1f}' for v in loads[name])})")
    if "tensorlet 2 ranks" in med:
        print(f"  tensorlet speed-up, 2 ranks vs 1 process: {med['tensorlet 1 process'] / med['tensorlet 2 ranks']:.2f}x"
              " (target >= 1.7x)")
    if "2 apart (ceiling)" in med:
        print(f"  ceiling, 2 ranks apart (no all-reduce) vs 1 process: "
              f"{med['tensorlet 1 process'] / med['2 apart (ceiling)']:.2f}x; the 2 ranks reach "
              f"{med['2 apart (ceiling)'] / med['tensorlet 2 ranks']:.0%} of it")
    if "pytorch DDP 2 ranks" in med:
        print(f"  PyTorch speed-up, DDP 2 ranks vs 1 process: {med['pytorch 1 process'] / med['pytorch DDP 2 ranks']:.2f}x")
        if "tensorlet 2 ranks" in med:
            print(f"  tensorlet 2 ranks vs PyTorch DDP 2 ranks: {med['pytorch DDP 2 ranks'] / med['tensorlet 2 ranks']:.2f}x"
                  " faster (target >= 2x)")


if __name__ == "__main__":
    main()
