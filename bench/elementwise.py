"""Elementwise throughput and per-call overhead against NumPy (and PyTorch when installed).

    python bench/elementwise.py            # all threads tensorlet has (tl.get_num_threads())
    python bench/elementwise.py --threads 1
    python bench/elementwise.py --cpu-time  # CPU time of this process, 1 thread: for a busy machine

Large: add / mul / relu (NumPy: maximum(x, 0)) and exp / tanh / sigmoid on 1e6 and 1e7 float32
elements, each call allocating its output like NumPy does. Tiny: `a + b` on two 8-element
float32 tensors from Python, with and without requires_grad, and `exp(a)`. Peers are timed round-robin in
the same process; medians and tensorlet/peer ratios are printed (< 1 means tensorlet is faster).
NumPy runs on one thread; tensorlet's count is printed with the results.
"""
import argparse
import time

import numpy as np

import tensorlet as tl
from _timing import fmt_time, interleaved, median, try_import

torch = try_import("torch")


def large_cases(x_np, y_np):
    x, y = tl.asarray(x_np), tl.asarray(y_np)
    zero = np.float32(0)
    cases = {
        "add": {"tensorlet": lambda: x + y, "numpy": lambda: x_np + y_np},
        "mul": {"tensorlet": lambda: x * y, "numpy": lambda: x_np * y_np},
        "relu": {"tensorlet": lambda: tl.relu(x), "numpy": lambda: np.maximum(x_np, zero)},
        "exp": {"tensorlet": lambda: tl.exp(x), "numpy": lambda: np.exp(x_np)},
        "tanh": {"tensorlet": lambda: tl.tanh(x), "numpy": lambda: np.tanh(x_np)},
        "sigmoid": {"tensorlet": lambda: tl.sigmoid(x), "numpy": lambda: 1 / (1 + np.exp(-x_np))},
    }
    if torch is not None:
        xt, yt = torch.from_numpy(x_np), torch.from_numpy(y_np)
        cases["add"]["torch"] = lambda: xt + yt
        cases["mul"]["torch"] = lambda: xt * yt
        cases["relu"]["torch"] = lambda: torch.relu(xt)
        cases["exp"]["torch"] = lambda: torch.exp(xt)
        cases["tanh"]["torch"] = lambda: torch.tanh(xt)
        cases["sigmoid"]["torch"] = lambda: torch.sigmoid(xt)
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=None, help="tensorlet threads (default: its own default)")
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with process CPU time (implies --threads 1; steadier when the machine is shared)")
    args = ap.parse_args()
    clock = time.process_time if args.cpu_time else time.perf_counter
    if args.cpu_time:
        args.threads = 1
    if args.threads is not None:
        tl.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(tl.get_num_threads())
    print(f"tensorlet threads: {tl.get_num_threads()}, NumPy {np.__version__} (1 thread)"
          + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else ", torch not installed")
          + (", clock: process CPU time" if args.cpu_time else ", clock: wall"))

    rng = np.random.default_rng(0)
    for n in (10**6, 10**7):
        x = rng.standard_normal(n, dtype=np.float32)
        y = rng.standard_normal(n, dtype=np.float32)
        print(f"\nfloat32, n = {n:.0e}{'':8s}" + "".join(f"{p:>14s}" for p in ["tensorlet", "numpy", "torch"])
              + f"{'tl/numpy':>10s}" + (f"{'tl/torch':>10s}" if torch else ""))
        for op, fns in large_cases(x, y).items():
            t = interleaved(fns, repeats=args.repeats if n == 10**6 else max(5, args.repeats // 2),
                            number=10 if n == 10**6 else 1, clock=clock)
            med = {k: median(v) for k, v in t.items()}
            row = f"  {op:20s}" + "".join(f"{fmt_time(med[p]) if p in med else '-':>14s}"
                                          for p in ["tensorlet", "numpy", "torch"])
            row += f"{med['tensorlet'] / med['numpy']:9.2f}x"
            if "torch" in med:
                row += f"{med['tensorlet'] / med['torch']:9.2f}x"
            print(row)

    a8 = np.ones(8, np.float32)
    tiny = {
        "tensorlet": (lambda a, b: (lambda: a + b))(tl.asarray(a8), tl.asarray(a8.copy())),
        "tensorlet+grad": (lambda a, b: (lambda: a + b))(tl.array(a8, requires_grad=True), tl.asarray(a8.copy())),
        "tensorlet+scalar": (lambda a: (lambda: a + 1.0))(tl.asarray(a8)),
        "numpy": (lambda a, b: (lambda: a + b))(a8, a8.copy()),
        "numpy+scalar": (lambda a: (lambda: a + 1.0))(a8),
        "tensorlet exp": (lambda a: (lambda: tl.exp(a)))(tl.asarray(a8)),  # a unary op of the op table
        "numpy exp": (lambda a: (lambda: np.exp(a)))(a8),
    }
    if torch is not None:
        tiny["torch"] = (lambda a, b: (lambda: a + b))(torch.ones(8), torch.ones(8))
        tiny["torch+grad"] = (lambda a, b: (lambda: a + b))(torch.ones(8, requires_grad=True), torch.ones(8))
        tiny["torch exp"] = (lambda a: (lambda: torch.exp(a)))(torch.ones(8))
    t = interleaved(tiny, repeats=15, number=20000, clock=clock)
    print("\nTiny op (a + b, two 8-element float32 tensors, from Python):")
    for name, ts in t.items():
        print(f"  {name:18s} median {fmt_time(median(ts))}")
    print(f"  ratio tensorlet/numpy: {median(t['tensorlet']) / median(t['numpy']):.2f}x, "
          f"exp: {median(t['tensorlet exp']) / median(t['numpy exp']):.2f}x")
    if "torch" in t:
        print(f"  ratio tensorlet/torch without grad: {median(t['tensorlet']) / median(t['torch']):.2f}x, "
              f"with grad: {median(t['tensorlet+grad']) / median(t['torch+grad']):.2f}x")


if __name__ == "__main__":
    main()
