"""Why a two-thread step's time jumps between modes on a virtual machine: the latency between the
two cores, measured between blocks of replays of one captured step in one process.

A C ping-pong (two threads pinned to CPUs 0 and 1 bouncing one cache line, compiled here with
the system's C compiler; skipped without one) times a round trip; then the step replays a
block of times at two threads; repeat. On a VM the two virtual CPUs may sit on cores that
share an L3 (a round trip of ~100-300 ns on the 2-core AMD EPYC host this was written on) or on
different core complexes (~500-700 ns), and the host moves them while a process runs. Blocks
are printed grouped by round-trip latency, so whether the step's time follows the placement
shows directly.

    PYTHONPATH=python python bench/two_thread_modes.py [--model chapter] [--blocks 60] [--steps 25]
"""

import argparse
import ctypes
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

PINGPONG_C = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
static _Atomic long flag __attribute__((aligned(64)));
static long rounds;
static void pin(int cpu) {
  cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s); pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}
static void* partner(void* arg) {
  (void)arg; pin(1);
  for (long i = 0; i < rounds; i++) {
    while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 1) {}
    atomic_store_explicit(&flag, 2 * i + 2, memory_order_release);
  }
  return 0;
}
/* Mean round trip in ns of one cache line between CPU 0 and CPU 1 (the caller is re-pinned to
   CPU 0 for the measurement and its affinity restored after). */
double round_trip_ns(long n) {
  cpu_set_t saved; pthread_getaffinity_np(pthread_self(), sizeof saved, &saved);
  rounds = n; atomic_store(&flag, 0); pin(0);
  pthread_t t; pthread_create(&t, 0, partner, 0);
  struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    atomic_store_explicit(&flag, 2 * i + 1, memory_order_release);
    while (atomic_load_explicit(&flag, memory_order_acquire) != 2 * i + 2) {}
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  pthread_join(t, 0);
  pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
  return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}
"""


def pingpong_library(directory):
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        return None
    src, lib = os.path.join(directory, "pingpong.c"), os.path.join(directory, "libpingpong.so")
    with open(src, "w") as f:
        f.write(PINGPONG_C)
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-pthread", src, "-o", lib], check=True)
    so = ctypes.CDLL(lib)
    so.round_trip_ns.restype, so.round_trip_ns.argtypes = ctypes.c_double, [ctypes.c_long]
    return so


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="chapter")
    ap.add_argument("--blocks", type=int, default=60)
    ap.add_argument("--steps", type=int, default=25, help="replays per block")
    ap.add_argument("--split-ns", type=float, default=350.0, help="round trips above this count as far apart")
    a = ap.parse_args()
    if (os.cpu_count() or 1) < 2:
        print("skipped: needs 2 CPUs")
        return
    import tensorlet as tl
    from captured_step import BATCH, MODELS, build_step, data

    with tempfile.TemporaryDirectory() as tmp:
        so = pingpong_library(tmp)
        if so is None:
            print("skipped: no C compiler (cc) to build the ping-pong")
            return
        f = build_step(a.model, True, 2)
        xs, ys = data(MODELS[a.model], BATCH.get(a.model, 128), 3)
        for i in range(3):
            float(f(xs[i], ys[i]))  # eager, capture, first replay
        (plan,) = f.plans.values()
        tl.set_num_threads(2)
        rows = []
        for _ in range(a.blocks):
            latency = so.round_trip_ns(20000)
            times = []
            for _ in range(a.steps):
                t0 = time.perf_counter()
                plan.replay()
                times.append(time.perf_counter() - t0)
            rows.append((latency, statistics.median(times) * 1e3))
    rows.sort()
    print(f"{a.model}, 2 threads, {a.blocks} blocks of {a.steps} replays; load {os.getloadavg()[0]:.1f}")
    print("round trip ns -> block median replay ms:")
    print("  " + "  ".join(f"{lat:.0f}:{ms:.2f}" for lat, ms in rows))
    near = [ms for lat, ms in rows if lat <= a.split_ns]
    far = [ms for lat, ms in rows if lat > a.split_ns]
    for name, part in ((f"round trip <= {a.split_ns:.0f} ns", near), (f"round trip > {a.split_ns:.0f} ns", far)):
        if part:
            print(f"  {name}: {len(part)} blocks, replay median {statistics.median(part):.2f} ms "
                  f"(min {min(part):.2f}, max {max(part):.2f})")


if __name__ == "__main__":
    main()
