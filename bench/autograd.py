"""Autograd overhead: a 784-512-10 MLP training step (batch 128) and a tiny op, with and
without grad, against PyTorch eager in the same process (skipped when not installed).

    python bench/autograd.py

Prints medians over interleaved repeats and tensorlet/peer ratios (< 1 means faster).
"""
import numpy as np

import tensorlet as tl
from _timing import fmt_time, interleaved, median, try_import

torch = try_import("torch")


def mlp_tensorlet(x, y, w1, b1, w2, b2):
    def step():
        h = tl.relu(x @ w1 + b1)
        logits = h @ w2 + b2
        loss = tl.mean(tl.softmax_cross_entropy(logits, y))
        for p in (w1, b1, w2, b2):
            p.grad = None
        loss.backward()
    return step


def mlp_torch(x, y, w1, b1, w2, b2):
    def step():
        h = torch.relu(x @ w1 + b1)
        logits = h @ w2 + b2
        loss = torch.nn.functional.cross_entropy(logits, y)
        for p in (w1, b1, w2, b2):
            p.grad = None
        loss.backward()
    return step


def main():
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="threads for both libraries (default: all)")
    args = parser.parse_args()
    if args.threads:
        tl.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 128)
    onehot = np.eye(10, dtype=np.float32)[labels]
    params = [rng.standard_normal(s).astype(np.float32) * 0.05 for s in [(784, 512), (512,), (512, 10), (10,)]]

    fns = {"tensorlet": mlp_tensorlet(tl.asarray(x), tl.asarray(onehot),
                                      *[tl.array(p, requires_grad=True) for p in params])}
    if torch is not None:
        torch.set_num_threads(tl.get_num_threads())
        fns["torch"] = mlp_torch(torch.from_numpy(x), torch.from_numpy(labels),
                                 *[torch.tensor(p, requires_grad=True) for p in params])
    t = interleaved(fns, repeats=30)
    print(f"MLP step (128x784 -> 512 relu -> 10, softmax CE, forward + backward), {tl.get_num_threads()} thread(s):")
    for name, ts in t.items():
        print(f"  {name:10s} median {fmt_time(median(ts))}  best {fmt_time(min(ts))}")
    if "torch" in t:
        print(f"  ratio tensorlet/torch: median {median(t['tensorlet']) / median(t['torch']):.2f}x, "
              f"best {min(t['tensorlet']) / min(t['torch']):.2f}x  (< 1: tensorlet faster)")

    a8 = np.ones(8, np.float32)
    tiny = {
        "tensorlet": (lambda a, b: (lambda: a + b))(tl.asarray(a8), tl.asarray(a8)),
        "tensorlet+grad": (lambda a, b: (lambda: a + b))(tl.array(a8, requires_grad=True), tl.asarray(a8)),
        "numpy": (lambda a, b: (lambda: a + b))(a8, a8.copy()),
    }
    if torch is not None:
        tiny["torch"] = (lambda a, b: (lambda: a + b))(torch.ones(8), torch.ones(8))
        tiny["torch+grad"] = (lambda a, b: (lambda: a + b))(torch.ones(8, requires_grad=True), torch.ones(8))
    t = interleaved(tiny, repeats=15, number=20000)
    print("Tiny op (add of two 8-element float32 tensors, from Python):")
    for name, ts in t.items():
        print(f"  {name:15s} median {fmt_time(median(ts))}")
    if "torch" in t:
        print(f"  ratio tensorlet/torch without grad: {median(t['tensorlet']) / median(t['torch']):.2f}x, "
              f"with grad: {median(t['tensorlet+grad']) / median(t['torch+grad']):.2f}x")


if __name__ == "__main__":
    main()
