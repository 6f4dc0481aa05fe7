"""Array API ops against NumPy: sort, argsort, unique_values, unique_all, cumulative_sum and
searchsorted on 1M float32 and int64 elements, and the new elementwise functions (atan2, hypot,
copysign, nextafter, logaddexp, isinf, signbit) on 1M float32.

    python bench/array_api_ops.py [--threads 1] [--repeats 9] [--cpu-time]

Peers are timed round-robin in one process (interleaved), medians printed with the ratio
tensorlet-time / NumPy-time (< 1: tensorlet is faster). NumPy's sorts are its default
(introsort / SIMD quicksort for `sort`); tensorlet's `sort` is an AVX2 quicksort on AVX2 CPUs
(a stable sort's result) and its argsort a stable radix sort, compared with NumPy's default
argsort and with its stable one (the standard's default). `--threads 1 --cpu-time` gives the
single-thread figures.
"""
import argparse
import time

import numpy as np

import tensorlet as tl
from _timing import fmt_time, interleaved, median


def sort_cases(x_np):
    x = tl.asarray(x_np)
    s_np = np.sort(x_np)
    s = tl.asarray(s_np)
    q_np = x_np[::7].copy()
    q = tl.asarray(q_np)
    return {
        "sort": {"tensorlet": lambda: tl.sort(x), "numpy": lambda: np.sort(x_np)},
        "argsort": {"tensorlet": lambda: tl.argsort(x), "numpy": lambda: np.argsort(x_np),
                    "numpy stable": lambda: np.argsort(x_np, kind="stable")},
        "unique_values": {"tensorlet": lambda: tl.unique_values(x), "numpy": lambda: np.unique_values(x_np)},
        "unique_all": {"tensorlet": lambda: tl.unique_all(x), "numpy": lambda: np.unique_all(x_np)},
        "cumulative_sum": {"tensorlet": lambda: tl.cumulative_sum(x), "numpy": lambda: np.cumulative_sum(x_np)},
        "searchsorted": {"tensorlet": lambda: tl.searchsorted(s, q), "numpy": lambda: np.searchsorted(s_np, q_np)},
    }


def elementwise_cases(a_np, b_np):
    a, b = tl.asarray(a_np), tl.asarray(b_np)
    pairs = {"atan2": np.arctan2, "hypot": np.hypot, "copysign": np.copysign, "nextafter": np.nextafter,
             "logaddexp": np.logaddexp}
    cases = {name: {"tensorlet": (lambda f=getattr(tl, name): f(a, b)), "numpy": (lambda f=f: f(a_np, b_np))}
             for name, f in pairs.items()}
    cases["isinf"] = {"tensorlet": lambda: tl.isinf(a), "numpy": lambda: np.isinf(a_np)}
    cases["signbit"] = {"tensorlet": lambda: tl.signbit(a), "numpy": lambda: np.signbit(a_np)}
    return cases


def report(title, cases, repeats, clock):
    print(f"\n{title}")
    for name, fns in cases.items():
        times = interleaved(fns, repeats=repeats, clock=clock)
        t = median(times["tensorlet"])
        peers = "  ".join(f"{p} {fmt_time(median(v))} (x{t / median(v):.2f})" for p, v in times.items()
                          if p != "tensorlet")
        print(f"  {name:15s} tensorlet {fmt_time(t)}   {peers}")


def setup(doc):
    """The command line both array benches share: (args, clock); sets threads, prints the header."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--cpu-time", action="store_true", help="process CPU time instead of wall time")
    args = ap.parse_args()
    if args.threads:
        tl.set_num_threads(args.threads)
    print(f"n = {args.n}, tensorlet threads = {tl.get_num_threads()}, NumPy {np.__version__}; "
          "ratio = tensorlet time / NumPy time")
    return args, time.process_time if args.cpu_time else time.perf_counter


def main():
    args, clock = setup(__doc__)
    rng = np.random.default_rng(0)
    f32 = rng.standard_normal(args.n).astype(np.float32)
    i64 = rng.integers(-2**62, 2**62, args.n)
    i64_small = rng.integers(0, 1000, args.n)  # many duplicates, as unique sees in practice
    report("float32", sort_cases(f32), args.repeats, clock)
    report("int64 (full range)", sort_cases(i64), args.repeats, clock)
    report("int64 (0..999)", sort_cases(i64_small), args.repeats, clock)
    b32 = rng.standard_normal(args.n).astype(np.float32)
    report("elementwise, float32", elementwise_cases(f32, b32), args.repeats, clock)


if __name__ == "__main__":
    main()
