"""One optimizer step over the chapter's MNIST network (784x512, 512, 512x10, 10 float32 =
407,050 parameters): tensorlet's Optimizer.apply (one multi-tensor C++ call) against the same
Keras update written in-place in NumPy (preallocated temporaries, no allocation per step).

    python bench/optimizer.py [--threads 1 2] [--repeats 400]

Interleaved runs, medians; ratio = NumPy time / tensorlet time (> 1: tensorlet faster).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import fmt_time, interleaved, median  # noqa: E402

import tensorlet as tl  # noqa: E402
from tensorlet import optimizers  # noqa: E402

SHAPES = [(784, 512), (512,), (512, 10), (10,)]


def np_sgd(ws, gs, lr, tmp):
    for w, g, t in zip(ws, gs, tmp):
        np.multiply(g, lr, out=t)
        w -= t


def np_rmsprop(ws, gs, vs, lr, rho, eps, tmp, tmp2):
    for w, g, v, t, t2 in zip(ws, gs, vs, tmp, tmp2):
        v *= rho                      # v = rho * v + (1 - rho) * g^2
        np.multiply(g, g, out=t)
        t *= 1 - rho
        v += t
        np.add(v, eps, out=t)         # w -= lr * g / sqrt(v + eps)
        np.sqrt(t, out=t)
        np.multiply(g, lr, out=t2)
        t2 /= t
        w -= t2


def np_adam(ws, gs, ms, vs, alpha, b1, b2, eps, tmp, tmp2):
    for w, g, m, v, t, t2 in zip(ws, gs, ms, vs, tmp, tmp2):
        np.subtract(g, m, out=t)      # m += (g - m) * (1 - b1)
        t *= 1 - b1
        m += t
        np.multiply(g, g, out=t)      # v += (g^2 - v) * (1 - b2)
        t -= v
        t *= 1 - b2
        v += t
        np.sqrt(v, out=t)             # w -= m * alpha / (sqrt(v) + eps)
        t += eps
        np.multiply(m, alpha, out=t2)
        t2 /= t
        w -= t2


def cases():
    rng = np.random.default_rng(0)
    w_np = [rng.normal(scale=0.05, size=s).astype(np.float32) for s in SHAPES]
    g_np = [rng.normal(scale=1e-3, size=s).astype(np.float32) for s in SHAPES]
    tmp = [np.empty(s, np.float32) for s in SHAPES]
    tmp2 = [np.empty(s, np.float32) for s in SHAPES]
    f32 = np.float32
    out = []
    for name, make in [("RMSprop", optimizers.RMSprop), ("Adam", optimizers.Adam), ("SGD", optimizers.SGD)]:
        ws = [tl.array(w.copy()) for w in w_np]
        for w, g in zip(ws, g_np):
            w.grad = tl.array(g)
        opt = make()
        nws = [w.copy() for w in w_np]
        v = [np.zeros(s, np.float32) for s in SHAPES]
        m = [np.zeros(s, np.float32) for s in SHAPES]
        if name == "RMSprop":
            f_np = lambda nws=nws, v=v: np_rmsprop(nws, g_np, v, f32(1e-3), f32(0.9), f32(1e-7), tmp, tmp2)
        elif name == "Adam":
            f_np = lambda nws=nws, m=m, v=v: np_adam(nws, g_np, m, v, f32(1e-3), f32(0.9), f32(0.999), f32(1e-7),
                                                     tmp, tmp2)
        else:
            f_np = lambda nws=nws: np_sgd(nws, g_np, f32(0.01), tmp)
        out.append((f"{name} step, 407,050 float32", lambda opt=opt, ws=ws: opt.apply(ws), f_np))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=400)
    args = ap.parse_args()
    print(f"isa {tl.config()['isa']}")
    print(f"{'case':34s} {'threads':>7s} {'tensorlet':>12s} {'numpy':>12s} {'ratio':>7s}")
    for threads in args.threads:
        tl.set_num_threads(threads)
        for name, f_tl, f_np in cases():
            times = interleaved({"tl": f_tl, "np": f_np}, repeats=args.repeats, warmup=20)
            a, b = median(times["tl"]), median(times["np"])
            print(f"{name:34s} {threads:7d} {fmt_time(a):>12s} {fmt_time(b):>12s} {b / a:7.2f}")


if __name__ == "__main__":
    main()
