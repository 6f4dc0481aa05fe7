"""GEMM throughput: tensorlet vs NumPy's BLAS, in one process, interleaved, best of several runs.

    PYTHONPATH=python python bench/gemm.py [--reps 7] [--threads 1,2] [--dtype float32]

For each shape it prints GFLOP/s of both, the ratio (tensorlet / NumPy; > 1 means tensorlet
is faster) and each one's fraction of this CPU's float32 peak. The peak is measured (a
register-only FMA loop at the active ISA's vector width, times the thread count) rather
than computed from /proc/cpuinfo, whose MHz is the nominal clock, not the turbo one.
NumPy's BLAS threads are pinned to the same count with threadpoolctl when it is installed;
otherwise NumPy uses its default and the all-thread rows say so.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import tensorlet as tl  # noqa: E402
from tensorlet import _core  # noqa: E402

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional
    threadpool_limits = None

# (label, M, K, N, trans_a, trans_b): op(A) is M x K, op(B) is K x N. The first five are the
# GEMMs of one training step of the chapter's 784-512-10 network at batch 128.
SHAPES = [
    ("x@W1      (128x784)@(784x512)", 128, 784, 512, False, False),
    ("X^T@dY    (784x128)@(128x512)", 784, 128, 512, True, False),
    ("h@W2      (128x512)@(512x10)", 128, 512, 10, False, False),
    ("h^T@dY2   (512x128)@(128x10)", 512, 128, 10, True, False),
    ("dY2@W2^T  (128x10)@(10x512)", 128, 10, 512, False, True),
    ("extra: A@B^T (128x512)@(512x784)", 128, 512, 784, False, True),
] + [(f"square {n}", n, n, n, False, False) for n in (256, 512, 1024, 2048)]


def make(label, M, K, N, ta, tb, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    b = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    na, nb = (a.T if ta else a), (b.T if tb else b)
    if hasattr(tl, "matmul") and hasattr(tl, "array"):
        ta_, tb_ = tl.array(a), tl.array(b)
        xa = ta_.T if ta else ta_
        xb = tb_.T if tb else tb_
        ours = lambda: tl.matmul(xa, xb)  # noqa: E731
    else:
        c = np.empty((M, N), dtype)
        ours = lambda: _core._gemm(a, b, c, ta, tb)  # noqa: E731
    theirs = lambda: na @ nb  # noqa: E731
    # Same answer, or the comparison means nothing.
    np.testing.assert_allclose(np.asarray(ours()), theirs(), rtol=1e-3, atol=1e-3 * np.sqrt(K))
    return ours, theirs


def best_seconds(fn, flops, reps):
    n = max(1, int(1e9 / flops))  # ~1 GFLOP (several to 1000s of calls) per timed run
    fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t) / n)
    return best


def run(threads, reps, dtype, peak1):
    tl.set_num_threads(threads)
    limit = threadpool_limits(limits=threads, user_api="blas") if threadpool_limits else None
    note = "" if limit else " (NumPy threads not controlled: install threadpoolctl)"
    peak = peak1 * threads
    print(f"\n== {threads} thread(s), {np.dtype(dtype).name}, peak {peak:.0f} GFLOP/s{note}")
    print(f"{'shape':32s} {'tensorlet':>10s} {'numpy':>10s} {'ratio':>6s} {'tl %pk':>7s} {'np %pk':>7s}")
    ratios = []
    try:
        for label, M, K, N, ta, tb in SHAPES:
            ours, theirs = make(label, M, K, N, ta, tb, dtype)
            flops = 2.0 * M * N * K
            t_ours = t_theirs = float("inf")
            for _ in range(3):  # interleave so drift on a shared machine hits both alike
                # Let the other library's idle workers stop spinning first: OpenBLAS's spin
                # for ~0.1 s after a call and would otherwise steal a core from the next timing.
                time.sleep(0.2)
                t_ours = min(t_ours, best_seconds(ours, flops, reps))
                time.sleep(0.2)
                t_theirs = min(t_theirs, best_seconds(theirs, flops, reps))
            g1, g2 = flops / t_ours * 1e-9, flops / t_theirs * 1e-9
            ratios.append((label, g1 / g2))
            print(f"{label:32s} {g1:10.1f} {g2:10.1f} {g1 / g2:6.2f} {100 * g1 / peak:6.0f}% {100 * g2 / peak:6.0f}%")
    finally:
        if limit:
            limit.unregister() if hasattr(limit, "unregister") else limit.__exit__(None, None, None)
    train = [r for label, r in ratios if not label.startswith(("square", "extra"))]
    big_squares = [r for label, r in ratios if label.startswith("square") and int(label.split()[1]) >= 512]
    if train and big_squares:
        print(f"min ratio: training shapes {min(train):.2f} (target >= 1.0), "
              f"squares >= 512 {min(big_squares):.2f} (target >= 0.9); "
              f"median ratio over all shapes {float(np.median([r for _, r in ratios])):.2f}")
    return ratios


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", default=f"1,{len(os.sched_getaffinity(0))}")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = p.parse_args()
    cfg = tl.config()
    peak1 = _core._fma_peak_gflops()
    if args.dtype == "float64":
        peak1 /= 2
    print(f"tensorlet isa={cfg['isa']} (available {cfg['available_isas']}), cache {cfg['cache']}")
    print(f"blocking {cfg['gemm_blocking'][args.dtype]}; numpy {np.__version__}; "
          f"measured 1-thread {args.dtype} peak {peak1:.0f} GFLOP/s ({cfg['isa']} FMA loop)")
    if "avx2" in cfg["available_isas"]:
        # The usual formula, cores x 2 FMA pipes x 8 lanes x 2 flops x GHz, with the clock
        # taken from the AVX2 probe (which runs exactly 32 flops per cycle on such a core).
        ghz = _core._fma_peak_gflops("avx2") / 32
        formula = 2 * 8 * 2 * ghz
        print(f"for reference: 2 pipes x 8 lanes x 2 x {ghz:.2f} GHz = {formula:.0f} GFLOP/s per core; "
              f"a measured peak above that means 512-bit FMAs run at full width on this CPU")
    before = tl.get_num_threads()
    try:
        for t in sorted({int(x) for x in args.threads.split(",")}):
            run(t, args.reps, np.dtype(args.dtype).type, peak1)
    finally:
        tl.set_num_threads(before)


if __name__ == "__main__":
    main()
