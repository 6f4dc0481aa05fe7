"""Per-step time of a captured (replayed) train step vs the same step eager vs PyTorch eager.

Each measurement runs in its own process; rounds interleave the peers; medians are printed.
Models (batch 128, 784 inputs, 10 classes, sparse softmax cross-entropy):
  chapter:  784-512 relu-10, RMSprop            dropout:  784-512 relu, Dropout(0.3), 10, RMSprop
  tanh:     784-512 tanh-10, Adam               stack4:   784-256 sigmoid-256 relu-256 sigmoid-10, SGD(momentum 0.9)
The arena column is MB after / before buffer sharing by liveness. Plus the replay overhead: the chapter's plan on a tiny model (4-8-3, batch 2), whose kernels cost
almost nothing, per step (the whole call from Python: signature, input copies, replay, reading the
loss) and per recorded entry (plan.replay() alone, in C++ without the GIL).
(The Dense-stack step that captured steps replaced is gone; compare the chapter's fit against an
older build with bench/mnist_fit.py run under each build's PYTHONPATH, interleaved.)

    PYTHONPATH=python python bench/captured_step.py [--threads 2] [--rounds 3] [--steps 60]
        [--torch-python /work/venv-bench/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

MODELS = {
    "chapter": dict(sizes=[784, 512, 10], acts=["relu", "linear"], dropout=None, opt="rmsprop"),
    "dropout": dict(sizes=[784, 512, 10], acts=["relu", "linear"], dropout=0.3, opt="rmsprop"),
    "tanh": dict(sizes=[784, 512, 10], acts=["tanh", "linear"], dropout=None, opt="adam"),
    "stack4": dict(sizes=[784, 256, 256, 256, 10], acts=["sigmoid", "relu", "sigmoid", "linear"], dropout=None,
                   opt="sgd"),
    "tiny": dict(sizes=[4, 8, 3], acts=["relu", "linear"], dropout=None, opt="rmsprop"),
}
BATCH = {"tiny": 2}


def data(cfg, batch, steps, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    xs = rng.random((steps, batch, cfg["sizes"][0]), dtype=np.float32)
    ys = rng.integers(0, cfg["sizes"][-1], size=(steps, batch))
    return xs, ys


def build_step(model, captured, threads):
    """The model's train step as a CapturedFunction (``captured=False``: eager every call)."""
    import numpy as np

    import tensorlet as tl
    from tensorlet import optimizers
    from tensorlet.capture import CapturedFunction
    from tensorlet.layers import Dropout

    tl.set_num_threads(threads)
    cfg = MODELS[model]
    rng = np.random.default_rng(1)
    ws = []
    for k, n in zip(cfg["sizes"][:-1], cfg["sizes"][1:]):
        ws.append(tl.array((rng.uniform(-1, 1, (k, n)) * np.sqrt(6 / (k + n))).astype(np.float32), requires_grad=True))
        ws.append(tl.array(np.zeros(n, np.float32), requires_grad=True))
    opt = {"rmsprop": lambda: optimizers.RMSprop(0.001), "adam": lambda: optimizers.Adam(0.001),
           "sgd": lambda: optimizers.SGD(0.01, momentum=0.9)}[cfg["opt"]]()
    drop = Dropout(cfg["dropout"]) if cfg["dropout"] else None
    acts = {"relu": tl.relu, "tanh": tl.tanh, "sigmoid": tl.sigmoid}

    def step(x, y):
        for w in ws:
            w.grad = None
        h = x
        for i, a in enumerate(cfg["acts"]):
            if a == "relu":
                h = tl.linear(h, ws[2 * i], ws[2 * i + 1], activation="relu")  # the fused epilogue
            else:
                h = tl.linear(h, ws[2 * i], ws[2 * i + 1])
                if a != "linear":
                    h = acts[a](h)
            if drop is not None and i == 0:
                h = drop(h, training=True)
        loss = tl.mean(tl.sparse_softmax_cross_entropy(h, y))
        loss.backward()
        opt.apply(ws)
        return loss

    return CapturedFunction(step, enabled=captured)


def child_tensorlet(model, captured, steps, threads):
    cfg = MODELS[model]
    f = build_step(model, captured, threads)
    warm = 5
    xs, ys = data(cfg, BATCH.get(model, 128), steps + warm)
    times, cpu = [], []
    for i in range(steps + warm):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = f(xs[i], ys[i])
        float(loss)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out = {"times": times[warm:], "cpu_times": cpu[warm:], "loss": float(loss)}
    if captured:
        (plan,) = f.plans.values()
        out["entries"] = len(plan)
        out["lowered"] = plan.lowered
        out["arena_mb"] = plan.arena_bytes / 2**20
        out["unshared_mb"] = plan.unshared_bytes / 2**20
        replays = []
        for _ in range(steps):  # the C++ replay alone (inputs unchanged)
            t0 = time.perf_counter()
            plan.replay()
            replays.append(time.perf_counter() - t0)
        out["replay_times"] = replays
    out["rss_mb"] = _rss_mb()
    return out


def child_torch(model, steps, threads):
    import torch

    torch.set_num_threads(threads)
    cfg = MODELS[model]
    torch.manual_seed(1)
    layers = []
    for i, (k, n) in enumerate(zip(cfg["sizes"][:-1], cfg["sizes"][1:])):
        layers.append(torch.nn.Linear(k, n))
        a = cfg["acts"][i]
        if a != "linear":
            layers.append({"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[a]())
        if cfg["dropout"] and i == 0:
            layers.append(torch.nn.Dropout(cfg["dropout"]))
    net = torch.nn.Sequential(*layers)
    opt = {"rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.001, alpha=0.9, eps=1e-7),
           "adam": lambda p: torch.optim.Adam(p, lr=0.001, eps=1e-7),
           "sgd": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)}[cfg["opt"]](net.parameters())
    lossf = torch.nn.CrossEntropyLoss()
    warm = 5
    xs, ys = data(cfg, BATCH.get(model, 128), steps + warm)
    xs, ys = torch.from_numpy(xs), torch.from_numpy(ys)
    times, cpu = [], []
    for i in range(steps + warm):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = lossf(net(xs[i]), ys[i])
        loss.backward()
        opt.step()
        float(loss)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {"times": times[warm:], "cpu_times": cpu[warm:], "loss": float(loss), "rss_mb": _rss_mb()}


def _rss_mb():
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except ImportError:
        return float("nan")


def run_child(python, mode, model, steps, threads):
    env = dict(os.environ)
    cmd = [python, os.path.abspath(__file__), "--child", mode, model, "--steps", str(steps), "--threads", str(threads)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--models", default="chapter,dropout,tanh,stack4")
    ap.add_argument("--torch-python", default=None, help="an interpreter with torch (default: this one, if it has it)")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "MODEL"))
    a = ap.parse_args()
    if a.child:
        mode, model = a.child
        if mode == "torch":
            res = child_torch(model, a.steps, a.threads)
        else:
            res = child_tensorlet(model, mode == "captured", a.steps, a.threads)
        print(json.dumps(res))
        return
    torch_python = a.torch_python
    if torch_python is None:
        try:
            import torch  # noqa: F401

            torch_python = sys.executable
        except ImportError:
            print("torch not found: PyTorch column skipped (pass --torch-python)")
    elif not shutil.which(torch_python) or subprocess.run([torch_python, "-c", "import torch"],
                                                           capture_output=True).returncode != 0:
        print(f"no torch in {torch_python!r}: PyTorch column skipped")
        torch_python = None
    modes = ["captured", "eager"] + (["torch"] if torch_python else [])
    models = a.models.split(",")
    results = {(m, mode): [] for m in models + ["tiny"] for mode in modes}
    cpu = {(m, mode): [] for m in models for mode in modes}
    extra = {}
    replay_only = []
    for _ in range(a.rounds):
        for m in models:
            for mode in modes:
                py = torch_python if mode == "torch" else sys.executable
                r = run_child(py, mode, m, a.steps, a.threads)
                results[(m, mode)].append(statistics.median(r["times"]))
                cpu[(m, mode)].append(statistics.median(r["cpu_times"]))
                extra[(m, mode)] = r
        r = run_child(sys.executable, "captured", "tiny", 400, a.threads)
        results[("tiny", "captured")].append(statistics.median(r["times"]))
        replay_only.append(statistics.median(r["replay_times"]))
        extra[("tiny", "captured")] = r
    print(f"threads={a.threads} rounds={a.rounds} steps={a.steps} load={os.getloadavg()[0]:.1f}")
    print(f"{'model':9s} {'captured ms':>12s} {'eager ms':>9s} {'torch ms':>9s} {'eager/capt':>10s} "
          f"{'torch/capt':>10s} {'entries':>7s} {'lowered':>7s} {'arena MB':>11s} {'RSS MB c/e/t':>16s}")
    for m in models:
        med = {mode: statistics.median(results[(m, mode)]) * 1e3 for mode in modes}
        t = med.get("torch", float("nan"))
        rss = "/".join(f"{extra[(m, mode)]['rss_mb']:.0f}" for mode in modes)
        print(f"{m:9s} {med['captured']:12.3f} {med['eager']:9.3f} {t:9.3f} {med['eager'] / med['captured']:10.2f} "
              f"{t / med['captured']:10.2f} {extra[(m, 'captured')]['entries']:7d} {extra[(m, 'captured')]['lowered']:7d} "
              f"{extra[(m, 'captured')]['arena_mb']:5.1f}/{extra[(m, 'captured')]['unshared_mb']:<5.1f} {rss:>16s}")
    # Process CPU time per step: less sensitive to other jobs on a shared machine; with more than one
    # thread it includes workers spinning between regions (both libraries' pools spin), so compare
    # ratios at one thread.
    print("CPU ms per step (process time): " + "; ".join(
        f"{m} " + "/".join(f"{statistics.median(cpu[(m, mode)]) * 1e3:.3f}" for mode in modes) +
        (f" torch/capt {statistics.median(cpu[(m, 'torch')]) / statistics.median(cpu[(m, 'captured')]):.2f}"
         if "torch" in modes else "") for m in models) + f"  ({'/'.join(modes)})")
    tiny = statistics.median(results[("tiny", "captured")]) * 1e6
    n = extra[("tiny", "captured")]["entries"]
    replay = statistics.median(replay_only) * 1e6
    print(f"replay overhead (the chapter's plan on a 4-8-3 model, batch 2): {tiny:.1f} us per step from Python "
          f"(signature, input copies, replay, loss read); plan.replay() alone {replay:.1f} us for {n} entries, "
          f"{replay / n:.2f} us per entry")


if __name__ == "__main__":
    main()
