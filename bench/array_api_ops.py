"""Array API ops against NumPy: sort, argsort, unique_values, unique_all, cumulative_sum and
searchsorted on 1M float32 and int64 elements, and every new elementwise function of the
standard (tan, atan2, the hyperbolics, isinf, signbit, log1p, expm1, log2, log10, hypot,
copysign, nextafter, logaddexp, floor/ceil/round/trunc) on 1M float32 and float64, beside
today's add/multiply/exp kernels.

    python bench/array_api_ops.py [--threads 1] [--repeats 9] [--cpu-time] [--no-sort] [--only NAME ...]

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
        "unique_counts": {"tensorlet": lambda: tl.unique_counts(x), "numpy": lambda: np.unique_counts(x_np)},
        "unique_inverse": {"tensorlet": lambda: tl.unique_inverse(x), "numpy": lambda: np.unique_inverse(x_np)},
        "unique_all": {"tensorlet": lambda: tl.unique_all(x), "numpy": lambda: np.unique_all(x_np)},
        "nonzero": {"tensorlet": lambda: tl.nonzero(x), "numpy": lambda: np.nonzero(x_np)},
        "count_nonzero": {"tensorlet": lambda: tl.count_nonzero(x), "numpy": lambda: np.count_nonzero(x_np)},
        "x[x > 0]": {"tensorlet": lambda: x[x > 0], "numpy": lambda: x_np[x_np > 0]},
        "cumulative_sum": {"tensorlet": lambda: tl.cumulative_sum(x), "numpy": lambda: np.cumulative_sum(x_np)},
        "searchsorted": {"tensorlet": lambda: tl.searchsorted(s, q), "numpy": lambda: np.searchsorted(s_np, q_np)},
    }


# NumPy names of the standard's functions where they differ.
NP_NAMES = {"atan2": "arctan2", "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh"}
# Inputs inside each function's domain (no NaN-producing arguments: those time other paths).
DOMAINS = {"acosh": lambda a: 1 + np.abs(a), "atanh": lambda a: np.tanh(a) * 0.99, "log1p": np.abs,
           "log2": np.abs, "log10": np.abs, "expm1": lambda a: a * 3}
UNARY = ["tan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "isinf", "signbit", "log1p", "expm1", "log2",
         "log10", "floor", "ceil", "round", "trunc"]
BINARY = ["atan2", "hypot", "copysign", "nextafter", "logaddexp"]
BASELINE = ["add", "multiply", "exp"]  # today's kernels: must not slow down


def elementwise_cases(a_np, b_np, names=None):
    """The standard's new elementwise functions (and the baseline kernels) on a_np (and b_np)."""
    out = {}
    for name in names or BASELINE + BINARY + UNARY:
        np_f = getattr(np, NP_NAMES.get(name, name))
        x_np = DOMAINS.get(name, lambda a: a)(a_np).astype(a_np.dtype)
        x, b = tl.asarray(x_np), tl.asarray(b_np)
        if name in BINARY or name in ("add", "multiply"):
            out[name] = {"tensorlet": (lambda f=getattr(tl, name), x=x: f(x, b)),
                         "numpy": (lambda f=np_f, x_np=x_np: f(x_np, b_np))}
        else:
            out[name] = {"tensorlet": (lambda f=getattr(tl, name), x=x: f(x)), "numpy": (lambda f=np_f, x_np=x_np: f(x_np))}
    return out


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
    ap.add_argument("--only", nargs="*", default=None, help="elementwise functions to time (default: all)")
    ap.add_argument("--no-sort", action="store_true", help="skip the sorting, set and scan ops")
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
    if not args.no_sort:
        report("float32", sort_cases(f32), args.repeats, clock)
        report("int64 (full range)", sort_cases(i64), args.repeats, clock)
        report("int64 (0..999)", sort_cases(i64_small), args.repeats, clock)
    for dt in ("float32", "float64"):
        a, b = (rng.standard_normal(args.n).astype(dt) for _ in range(2))
        report(f"elementwise, {dt}", elementwise_cases(a, b, args.only), args.repeats, clock)


if __name__ == "__main__":
    main()
