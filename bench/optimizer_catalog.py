"""One optimizer step over the chapter's MNIST network (407,050 float32 parameters) for each
optimizer of the catalog, as a captured step replays it (CapturedFunction around apply), against
Adam's per-ISA SIMD step: the catalog kernel (csrc/kernels/optim_catalog.cpp: AdamW's decay,
clipping, amsgrad, Adagrad, ..., compiler-vectorised at the baseline ISA).

    PYTHONPATH=python python bench/optimizer_catalog.py [--repeats 200]

Interleaved runs, medians; ratio = time / fused Adam time (> 1: slower than fused Adam).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import fmt_time, interleaved, median  # noqa: E402

import tensorlet as tl  # noqa: E402
from tensorlet import optimizers  # noqa: E402
from tensorlet.capture import CapturedFunction  # noqa: E402

SHAPES = [(784, 512), (512,), (512, 10), (10,)]
OPTIMIZERS = {
    "adam (fused)": lambda: optimizers.Adam(1e-3),
    "sgd momentum (fused)": lambda: optimizers.SGD(0.01, momentum=0.9),
    "adamw (fused, decay in kernel)": lambda: optimizers.AdamW(1e-3),
    "adam clipnorm (fused, clip in kernel)": lambda: optimizers.Adam(1e-3, clipnorm=1.0),
    "adam amsgrad (fused)": lambda: optimizers.Adam(1e-3, amsgrad=True),
    "adagrad (fused)": lambda: optimizers.Adagrad(1e-3),
    "adadelta (fused)": lambda: optimizers.Adadelta(1e-3),
    "adamax (fused)": lambda: optimizers.Adamax(1e-3),
    "nadam (fused)": lambda: optimizers.Nadam(1e-3),
    "lion (fused)": lambda: optimizers.Lion(1e-4),
}


def make_step(make_opt):
    rng = np.random.default_rng(0)
    ws = [tl.array(rng.normal(size=s).astype(np.float32) * 0.01) for s in SHAPES]
    gs = [tl.array(rng.normal(size=s).astype(np.float32) * 0.01) for s in SHAPES]
    opt = make_opt()

    def step(token):
        opt.apply(ws, gs)
        return token

    captured = CapturedFunction(step)
    token = np.zeros(1, np.float32)
    for _ in range(3):  # eager, capture, first replay
        captured(token)
    return lambda: captured(token)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    fns = {name: make_step(make) for name, make in OPTIMIZERS.items()}
    times = interleaved(fns, repeats=args.repeats, number=1, warmup=5)
    base = median(times["adam (fused)"])
    print(f"threads={tl.get_num_threads()}  one captured optimizer step, 407,050 float32 parameters (medians)")
    for name in fns:
        t = median(times[name])
        print(f"  {name:32s} {fmt_time(t)}   x{t / base:5.2f} of fused Adam")


if __name__ == "__main__":
    main()
