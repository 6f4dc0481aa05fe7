"""Forward+backward time of depthwise conv and training-mode batch norm: tensorlet (NHWC, its
direct depthwise loops and batch_norm_train) vs PyTorch eager (NCHW conv2d with groups=C, and
batch_norm), each peer in its own process, rounds interleaved, medians printed.

    PYTHONPATH=python python bench/depthwise_bn.py [--threads 2] [--rounds 3] [--steps 20]
        [--torch-python /work/venv-bench/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# name: (N, H, W, C, kernel, depth multiplier) for depthwise; (N, H, W, C) for batch norm
CASES = {
    "dw3x3 32x56x56x64": ("dw", (32, 56, 56, 64), 3, 1),
    "dw3x3 64x28x28x128": ("dw", (64, 28, 28, 128), 3, 1),
    "dw5x5 x2 16x28x28x32": ("dw", (16, 28, 28, 32), 5, 2),
    "bn 64x28x28x64": ("bn", (64, 28, 28, 64), None, None),
}


def child(peer, case, steps, threads):
    import numpy as np

    kind, (n, h, w, c), k, m = CASES[case]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    if peer == "torch":
        import torch

        torch.set_num_threads(threads)
        xt = torch.tensor(np.moveaxis(x, -1, 1).copy(), requires_grad=True)
        if kind == "dw":
            wt = torch.tensor(rng.standard_normal((c * m, 1, k, k)).astype(np.float32), requires_grad=True)
            fn = lambda: torch.nn.functional.conv2d(xt, wt, padding=k // 2, groups=c)  # noqa: E731
        else:
            g, b = (torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True))
            rm, rv = torch.zeros(c), torch.ones(c)
            fn = lambda: torch.nn.functional.batch_norm(xt, rm, rv, g, b, training=True)  # noqa: E731
        def step():
            y = fn()
            y.backward(torch.ones_like(y))
    else:
        import tensorlet as tl

        tl.set_num_threads(threads)
        xt = tl.array(x, requires_grad=True)
        if kind == "dw":
            wt = tl.array(rng.standard_normal((k, k, c, m)).astype(np.float32), requires_grad=True)
            fn = lambda: tl.depthwise_conv(xt, wt, padding="same")  # noqa: E731
        else:
            g, b = tl.ones(c, dtype="float32", requires_grad=True), tl.zeros(c, dtype="float32", requires_grad=True)
            rm, rv = tl.zeros(c, dtype="float32"), tl.ones(c, dtype="float32")
            fn = lambda: tl.batch_norm_train(xt, rm, rv, offset=b, scale=g)  # noqa: E731
        def step():
            y = fn()
            y.backward(tl.ones_like(y))
    times = []
    for _ in range(steps + 3):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {"median": statistics.median(times[3:])}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--torch-python", default=None)
    ap.add_argument("--child", nargs=2, metavar=("PEER", "CASE"))
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child[0], a.child[1], a.steps, a.threads)))
        return
    peers = {"tensorlet": sys.executable}
    if a.torch_python:
        peers["torch"] = a.torch_python
    else:
        try:
            import torch  # noqa: F401

            peers["torch"] = sys.executable
        except ImportError:
            print("torch not found: PyTorch column skipped (pass --torch-python)")
    res = {(c, p): [] for c in CASES for p in peers}
    for _ in range(a.rounds):
        for case in CASES:
            for peer, py in peers.items():
                cmd = [py, os.path.abspath(__file__), "--child", peer, case, "--steps", str(a.steps), "--threads",
                       str(a.threads)]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=dict(os.environ))
                res[(case, peer)].append(json.loads(out.stdout.strip().splitlines()[-1])["median"])
    print(f"threads={a.threads} rounds={a.rounds} steps={a.steps} load={os.getloadavg()[0]:.1f} (fwd+bwd, ms)")
    print(f"{'case':24s} {'tensorlet':>10s} {'torch':>10s} {'torch/tl':>9s}")
    for case in CASES:
        t = statistics.median(res[(case, "tensorlet")]) * 1e3
        p = statistics.median(res[(case, "torch")]) * 1e3 if "torch" in peers else float("nan")
        print(f"{case:24s} {t:10.2f} {p:10.2f} {p / t:9.2f}")


if __name__ == "__main__":
    main()
