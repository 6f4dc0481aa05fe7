"""Reductions, softmax and the fused losses: tensorlet against NumPy in the same process.

    python bench/reduce.py [--threads N]

Interleaved runs, medians; ratio = NumPy time / tensorlet time (> 1: tensorlet faster). The
NumPy side of softmax/cross-entropy is the usual formula (max, exp, sum, divide / log).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import fmt_time, interleaved, median  # noqa: E402

import tensorlet as tl  # noqa: E402


def np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def np_sparse_xent(z, y):
    return -np_log_softmax(z)[np.arange(len(y)), y]


def cases():
    rng = np.random.default_rng(0)
    big = rng.standard_normal(10**7).astype(np.float32)
    m1k = rng.standard_normal((1000, 1000)).astype(np.float32)
    bias = rng.standard_normal((128, 512)).astype(np.float32)
    logits = rng.standard_normal((128, 10)).astype(np.float32)
    wide = rng.standard_normal((256, 1000)).astype(np.float32)
    ints = rng.integers(-100, 100, (1000, 1000)).astype(np.int32)
    labels = rng.integers(0, 10, 128)
    onehot = np.eye(10, dtype=np.float32)[labels]
    t = {k: tl.asarray(v) for k, v in dict(big=big, m1k=m1k, ints=ints, bias=bias, logits=logits, wide=wide,
                                            labels=labels, onehot=onehot).items()}
    return [
        ("sum 1e7 float32", lambda: tl.sum(t["big"]), lambda: big.sum()),
        ("max 1e7 float32", lambda: tl.max(t["big"]), lambda: big.max()),
        ("sum (1000,1000) axis=1", lambda: tl.sum(t["m1k"], axis=1), lambda: m1k.sum(axis=1)),
        ("sum (1000,1000) axis=0", lambda: tl.sum(t["m1k"], axis=0), lambda: m1k.sum(axis=0)),
        ("sum (128,512) axis=0 (bias grad)", lambda: tl.sum(t["bias"], axis=0), lambda: bias.sum(axis=0)),
        ("sum (1000,1000) int32 axis=1", lambda: tl.sum(t["ints"], axis=1), lambda: ints.sum(axis=1)),
        ("sum (1000,1000) int32 dtype=int32 axis=0", lambda: tl.sum(t["ints"], axis=0, dtype="int32"),
         lambda: ints.sum(axis=0, dtype=np.int32)),
        ("mean (1000,1000) axis=1", lambda: tl.mean(t["m1k"], axis=1), lambda: m1k.mean(axis=1)),
        ("max (1000,1000) axis=1", lambda: tl.max(t["m1k"], axis=1), lambda: m1k.max(axis=1)),
        ("argmax (1000,1000) axis=1", lambda: tl.argmax(t["m1k"], axis=1), lambda: m1k.argmax(axis=1)),
        ("var (1000,1000) axis=0", lambda: tl.var(t["m1k"], axis=0), lambda: m1k.var(axis=0)),
        ("softmax (128,10)", lambda: tl.softmax(t["logits"]), lambda: np_softmax(logits)),
        ("softmax (256,1000)", lambda: tl.softmax(t["wide"]), lambda: np_softmax(wide)),
        ("log_softmax (256,1000)", lambda: tl.log_softmax(t["wide"]), lambda: np_log_softmax(wide)),
        ("sparse xent (128,10)", lambda: tl.sparse_softmax_cross_entropy(t["logits"], t["labels"]),
         lambda: np_sparse_xent(logits, labels)),
        ("dense xent (128,10)", lambda: tl.softmax_cross_entropy(t["logits"], t["onehot"]),
         lambda: -(onehot * np_log_softmax(logits)).sum(-1)),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    if args.threads and hasattr(tl, "set_num_threads"):
        tl.set_num_threads(args.threads)
    print(f"{'case':42s} {'tensorlet':>12s} {'numpy':>12s} {'ratio':>7s}")
    for name, f_tl, f_np in cases():
        times = interleaved({"tl": f_tl, "np": f_np}, repeats=args.repeats)
        a, b = median(times["tl"]), median(times["np"])
        print(f"{name:42s} {fmt_time(a):>12s} {fmt_time(b):>12s} {b / a:7.2f}")


if __name__ == "__main__":
    main()
