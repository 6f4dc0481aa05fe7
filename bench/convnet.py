"""The book's chapter-5 MNIST convnet on tensorlet and its peers: per-layer forward+backward
times and the whole fit, each peer in its own process, interleaved, at one thread count.

    PYTHONPATH=python python bench/convnet.py [--what layers,fit] [--epochs 1] [--repeats 3]
        [--threads N] [--peers tensorlet,pytorch,keras] [--keras-python PATH]
        [--samples 60000] [--batches 64,1000] [--peak-gflops G] [--seed 0] [--baseline DIR]

The issue's full measurement (5 epochs of all 60,000 samples; the per-layer table at batch 64
and 1000), with torch in the interpreter and Keras found in /work/venv-tf:
    PYTHONPATH=python /work/venv-bench/bin/python bench/convnet.py --what layers,fit --epochs 5 \
        --samples 60000 --batches 64,1000 --repeats 3 --threads 2

Peers (one that is not installed is skipped with a note):
  tensorlet  the book's program (Conv2D 32/64/64 3x3 relu, MaxPooling2D 2x2, Dense 64 relu,
             Dense 10 softmax; rmsprop, categorical_crossentropy, batch 64), NHWC.
  pytorch    eager, the same architecture in NCHW (oneDNN convs): Conv2d/ReLU/MaxPool2d, Linear,
             CrossEntropyLoss on logits, RMSprop(lr=1e-3, alpha=0.9, eps=1e-7).
  keras      Keras 3 on TensorFlow, the book's program; in this interpreter if it imports keras
             and tensorflow, else in --keras-python (default $KERAS_PYTHON, else /work/venv-tf).
  tensorlet-base  with --baseline DIR: the tensorlet package found in DIR (e.g. another
             checkout's python/, or a copy of it made before a change), run like tensorlet and
             interleaved with it, to measure a change (column "base/tl": > 1, the change is faster).

layers: for each conv of the net (28x28x1->32, 13x13x32->64, 5x5x64->64, all 3x3 + bias +
  relu) and each pool (max, and average for comparison, 2x2 over 26x26x32 and 11x11x64), at
  each --batches size: the forward
  alone (no graph) and forward+backward (gradients of the weights and bias, and of the input
  except for the first conv, whose input is the data), median of repeats inside the child,
  then the median over the interleaved children. PyTorch: torch.nn.functional.conv2d + relu,
  max_pool2d and avg_pool2d; tensorlet: tl.conv(bias=, activation="relu"), tl.max_pool and
  tl.average_pool.
fit: as bench/mnist_fit.py (same child protocol, data in .npy files written by the parent):
  an untimed warm-up fit of 3 batches + one of the epoch's last size, then the timed fit;
  evaluate() and predict() on the 10,000 test images (PyTorch: one no-grad forward over the
  set), peak RSS.

GFLOP/s counts the convs and Dense layers: 16.4 MFLOP per training sample (forward 5.5, backward
twice that minus the first conv's input gradient, which nobody computes); see flops_per_sample().
"""

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mnist_fit as mf  # noqa: E402  (the shared child/parent machinery)

PEERS = ("tensorlet", "pytorch", "keras")
BASE = "tensorlet-base"  # --baseline: tensorlet from another directory, run by the tensorlet child
CONVS = ((28, 1, 32), (13, 32, 64), (5, 64, 64))  # input side, Cin, Cout; 3x3 valid
POOLS = ((26, 32), (11, 64))  # input side, channels; 2x2 stride 2
DENSE = ((576, 64), (64, 10))
DEFAULT_KERAS_PYTHON = "/work/venv-tf/bin/python"


def conv_flops(side, cin, cout, k=3):
    return 2 * (side - k + 1) ** 2 * k * k * cin * cout


def flops_per_sample():
    """(forward, backward) flops of one training sample: convs and Dense layers."""
    fwd = sum(conv_flops(*c) for c in CONVS) + sum(2 * a * b for a, b in DENSE)
    # Backward: weight and input gradients, each as much as the forward, except the first
    # conv's input gradient (its input is the data).
    bwd = 2 * fwd - conv_flops(*CONVS[0])
    return fwd, bwd


def work_gflop(samples, epochs):
    return sum(flops_per_sample()) * samples * epochs / 1e9


# ---------------------------------------------------------------------------------------------
# Children


def median_time(fn, repeats, clock=time.perf_counter):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        ts.append(clock() - t0)
    return statistics.median(ts)


def layer_cases(batches):
    for b in batches:
        for side, cin, cout in CONVS:
            yield f"conv {side}x{side}x{cin}->{cout} b{b}", ("conv", b, side, cin, cout)
        for kind in ("max", "avg"):
            for side, c in POOLS:
                yield f"{kind}pool {side}x{side}x{c} b{b}", (kind + "pool", b, side, c, c)


def tensorlet_layer(case, rng):
    import tensorlet as tl

    kind, b, side, cin, cout = case
    x = tl.array(rng.standard_normal((b, side, side, cin)).astype("float32"), requires_grad=kind != "conv" or cin > 1)
    if kind != "conv":
        pool = tl.max_pool if kind == "maxpool" else tl.average_pool

        def run(grad):
            if not grad:
                with tl.no_grad():
                    pool(x, 2)
                return
            y = pool(x, 2)
            y.backward(tl.ones(y.shape))
        return run
    w = tl.array(0.1 * rng.standard_normal((3, 3, cin, cout)).astype("float32"), requires_grad=True)
    bias = tl.array(rng.standard_normal(cout).astype("float32"), requires_grad=True)

    def run(grad):
        if not grad:
            with tl.no_grad():
                tl.conv(x, w, bias=bias, activation="relu")
            return
        y = tl.conv(x, w, bias=bias, activation="relu")
        y.backward(tl.ones(y.shape))
    return run


def torch_layer(case, rng):
    import torch
    import torch.nn.functional as F

    kind, b, side, cin, cout = case
    x = torch.from_numpy(rng.standard_normal((b, cin, side, side)).astype("float32"))
    x.requires_grad_(kind != "conv" or cin > 1)
    if kind != "conv":
        pool = F.max_pool2d if kind == "maxpool" else F.avg_pool2d

        def run(grad):
            if not grad:
                with torch.no_grad():
                    pool(x, 2)
                return
            y = pool(x, 2)
            y.backward(torch.ones_like(y))
        return run
    w = torch.from_numpy(0.1 * rng.standard_normal((cout, cin, 3, 3)).astype("float32")).requires_grad_()
    bias = torch.from_numpy(rng.standard_normal(cout).astype("float32")).requires_grad_()

    def run(grad):
        if not grad:
            with torch.no_grad():
                F.relu(F.conv2d(x, w, bias))
            return
        y = F.relu(F.conv2d(x, w, bias))
        y.backward(torch.ones_like(y))
    return run


def run_layers_child(args):
    import numpy as np

    if args.child == "tensorlet":
        import tensorlet as tl

        tl.set_num_threads(args.threads)
        make = tensorlet_layer
    else:
        import torch

        torch.set_num_threads(args.threads)
        make = torch_layer
    rng = np.random.default_rng(args.seed)
    out = {}
    for name, case in layer_cases(args.batches):
        run = make(case, rng)
        reps = 7 if case[1] <= 64 else 3
        out[name] = {"fwd": median_time(lambda: run(False), reps), "fwdbwd": median_time(lambda: run(True), reps)}
    print(json.dumps({"peer": args.child, "layers": out}), flush=True)


class TensorletConvnet(mf.KerasLikePeer):
    def build(self, seed):
        k = self.lib
        k.utils.set_random_seed(seed)
        L = k.layers
        self.model = k.Sequential([
            L.Input(shape=(28, 28, 1)),
            L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
            L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
            L.Conv2D(64, (3, 3), activation="relu"),
            L.Flatten(), L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")])
        self.model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])


class TorchConvnet(mf.TorchPeer):
    def build(self, seed):
        torch = self.torch
        torch.manual_seed(seed)
        nn = torch.nn
        self.model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.Flatten(), nn.Linear(576, 64), nn.ReLU(), nn.Linear(64, 10))
        self.opt = torch.optim.RMSprop(self.model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
        self.loss = nn.CrossEntropyLoss()


def images(x, peer):
    """(n, 784) float32 -> NHWC for the Keras-like peers, NCHW for PyTorch (views, no copies)."""
    return x.reshape(-1, 1, 28, 28) if peer == "pytorch" else x.reshape(-1, 28, 28, 1)


def run_fit_child(args):
    os.environ.update({k: str(args.threads) for k in mf.THREAD_VARS})
    cls = {"tensorlet": TensorletConvnet, "keras": TensorletConvnet, "pytorch": TorchConvnet}[args.child]
    peer = cls(args.child, args.threads, args.batch_size, None)
    x, y, xt, yt = mf.read_data(args.data_dir)
    x, xt = images(x, args.child), images(xt, args.child)
    y, yt = peer.labels(y), peer.labels(yt)
    b = args.batch_size
    warm = min(len(x), 3 * b + (len(x) % b or b))
    peer.build(args.seed)
    peer.fit(x[:warm], y[:warm], 1)
    rss_before = mf.current_rss_mb()
    load_before = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    peer.fit(x, y, args.epochs)
    fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    peak_fit = mf.peak_rss_mb()
    load = max(load_before, os.getloadavg()[0])
    loss, acc = peer.evaluate(xt, yt)
    print(json.dumps({"peer": args.child, "version": peer.version, "fit_s": fit_s, "fit_cpu_s": fit_cpu_s,
                      "test_accuracy": acc,
                      "test_loss": loss, "eval_s": mf.timed(lambda: peer.evaluate(xt, yt)),
                      "predict_s": mf.timed(lambda: peer.predict(xt)), "rss_before_fit_mb": rss_before,
                      "peak_rss_fit_mb": peak_fit, "peak_rss_mb": mf.peak_rss_mb(), "load": load}), flush=True)


# ---------------------------------------------------------------------------------------------
# Parent


def spawn(python, peer, what, args, data_dir, seed):
    child = "tensorlet" if peer == BASE else peer
    cmd = [python, os.path.abspath(__file__), "--child", child, "--child-what", what, "--threads", str(args.threads),
           "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--seed", str(seed),
           "--batches", ",".join(map(str, args.batches))]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    return mf.run_json_child(cmd, args.threads, f"{peer} ({what})", HERE,
                             tensorlet_path=args.baseline if peer == BASE else None)


def report_layers(results, args):
    print(f"\nper layer, median over {args.repeats} interleaved child(ren), {args.threads} thread(s); "
          "ratio = PyTorch time / tensorlet time (> 1: tensorlet faster)"
          + ("; base/tl = tensorlet-base time / tensorlet time" if BASE in results else ""))
    names = [n for n, _ in layer_cases(args.batches)]
    med = {p: {n: {k: statistics.median(r["layers"][n][k] for r in rs) for k in ("fwd", "fwdbwd")} for n in names}
           for p, rs in results.items() if rs}
    peers = list(med)
    head = f"{'layer':<28}" + "".join(f" {p + ' fwd':>15} {p + ' f+b':>15}" for p in peers)
    if "tensorlet" in med and "pytorch" in med:
        head += f" {'ratio fwd':>10} {'ratio f+b':>10} {'tl GFLOP/s f+b':>15}"
    if "tensorlet" in med and BASE in med:
        head += f" {'base/tl fwd':>12} {'base/tl f+b':>12}"
    print(head)
    for n, (_, case) in zip(names, layer_cases(args.batches)):
        line = f"{n:<28}" + "".join(f" {mf_ms(med[p][n]['fwd']):>15} {mf_ms(med[p][n]['fwdbwd']):>15}" for p in peers)
        if "tensorlet" in med and "pytorch" in med:
            t, p = med["tensorlet"][n], med["pytorch"][n]
            line += f" {p['fwd'] / t['fwd']:10.2f} {p['fwdbwd'] / t['fwdbwd']:10.2f}"
            kind, b, side, cin, cout = case
            if kind == "conv":
                fl = conv_flops(side, cin, cout) * b * (2 if cin == 1 else 3)
                line += f" {fl / t['fwdbwd'] / 1e9:15.1f}"
            else:
                line += f" {'':>15}"
        if "tensorlet" in med and BASE in med:
            t, b = med["tensorlet"][n], med[BASE][n]
            line += f" {b['fwd'] / t['fwd']:12.2f} {b['fwdbwd'] / t['fwdbwd']:12.2f}"
        print(line)


def mf_ms(s):
    return f"{1e3 * s:.2f} ms"


def report_fit(results, args, samples, peak):
    work = work_gflop(samples, args.epochs)
    med = {p: {k: statistics.median(r[k] for r in rs) for k in rs[0] if k not in ("peer", "version")}
           for p, rs in results.items() if rs}
    print(f"\nwhole fit: median of {args.repeats} run(s), {args.epochs} epoch(s), {samples} samples, batch "
          f"{args.batch_size}, {args.threads} thread(s); {work:.1f} GFLOP; % of peak against {peak:.0f} GFLOP/s")
    print(f"{'peer':<14} {'fit s':>7} {'cpu s':>7} {'GFLOP/s':>8} {'% peak':>7} {'test acc':>9} {'eval ms':>8} "
          f"{'pred ms':>8} {'peak MiB':>9} {'load':>5}   fit s of each run")
    for p, m in med.items():
        g = work / m["fit_s"]
        each = ", ".join(f"{r['fit_s']:.2f}" for r in results[p])
        print(f"{p:<14} {m['fit_s']:7.2f} {m.get('fit_cpu_s', float('nan')):7.2f} {g:8.1f} {100 * g / peak:6.0f}% "
              f"{m['test_accuracy']:9.4f} {1e3 * m['eval_s']:8.1f} {1e3 * m['predict_s']:8.1f} {m['peak_rss_mb']:9.0f} "
              f"{m['load']:5.1f}   {each}")
    print("(cpu s: the fit's CPU time over all of the process's threads, spin-waiting included; with the load\n"
          " average above the thread count, wall times are inflated and the CPU times compare the work better)")
    for p, rs in results.items():
        if rs:
            print(f"  {p}: {rs[0]['version']}")
    if "tensorlet" in med:
        t = med["tensorlet"]
        rivals = [p for p in ("pytorch", "keras") if p in med]
        if rivals:
            best = min(rivals, key=lambda p: med[p]["fit_s"])
            print(f"fastest peer ({best}) / tensorlet: fit {med[best]['fit_s'] / t['fit_s']:.2f}x (target >= 1.5), "
                  f"test accuracy {t['test_accuracy']:.4f} (target >= 0.99 after 5 epochs of 60000)")
        for p in rivals + ([BASE] if BASE in med else []):
            if p in med:
                print(f"{p} / tensorlet: fit {med[p]['fit_s'] / t['fit_s']:.2f}x, evaluate "
                      f"{med[p]['eval_s'] / t['eval_s']:.2f}x, predict {med[p]['predict_s'] / t['predict_s']:.2f}x, "
                      f"peak RSS {med[p]['peak_rss_mb']:.0f} vs {t['peak_rss_mb']:.0f} MiB")


def run_parent(args):
    mf.tensorlet_dir()
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = set(peers) - set(PEERS)
    if unknown:
        sys.exit(f"unknown peer(s) {sorted(unknown)}; choose from {','.join(PEERS)}")
    keras_python = args.keras_python or (DEFAULT_KERAS_PYTHON if os.path.exists(DEFAULT_KERAS_PYTHON) else None)
    chosen, notes = mf.interpreters(peers, keras_python)
    if args.baseline:
        if not os.path.isdir(os.path.join(args.baseline, "tensorlet")):
            sys.exit(f"--baseline {args.baseline}: no tensorlet package in that directory")
        chosen[BASE] = sys.executable
        print(f"{BASE}: the tensorlet in {os.path.abspath(args.baseline)}")
    for note in notes:
        print(note)
    what = [w.strip() for w in args.what.split(",")]
    fma, isa = mf.measured_peak_per_thread()
    peak = args.peak_gflops or (fma or mf.PEAK_PER_THREAD) * args.threads
    print(f"peak: {peak:.0f} GFLOP/s ({'--peak-gflops' if args.peak_gflops else f'measured {isa} FMA loop x {args.threads}'})")
    fwd, bwd = flops_per_sample()
    print(f"work per training sample: forward {fwd / 1e6:.2f} + backward {bwd / 1e6:.2f} = {(fwd + bwd) / 1e6:.2f} MFLOP")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if "layers" in what:
        lp = {p: py for p, py in chosen.items() if p in ("tensorlet", "pytorch", BASE)}
        res = {p: [] for p in lp}
        for r in range(args.repeats):
            for p, py in lp.items():
                out = spawn(py, p, "layers", args, None, args.seed + r)
                if out:
                    res[p].append(out)
                    print(f"  layers run {r + 1} {p} done", flush=True)
        report_layers(res, args)
    if "fit" in what:
        samples = min(args.samples, 60000)
        res = {p: [] for p in chosen}
        data_dir = tempfile.mkdtemp(prefix="convnet_")
        try:
            mf.write_data(data_dir, samples)
            for r in range(args.repeats):
                for p, py in chosen.items():
                    out = spawn(py, p, "fit", args, data_dir, args.seed + r)
                    if out:
                        res[p].append(out)
                        print(f"  fit run {r + 1} {p:<10} {out['fit_s']:7.2f} s  test accuracy {out['test_accuracy']:.4f}"
                              f"  peak RSS {out['peak_rss_mb']:.0f} MiB  load {out['load']:.1f}", flush=True)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
        report_fit(res, args, samples, peak)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--what", default="layers,fit", help="layers, fit, or both (comma-separated)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--peers", default=",".join(PEERS))
    p.add_argument("--keras-python", default=os.environ.get("KERAS_PYTHON"))
    p.add_argument("--samples", type=int, default=60000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--batches", default="64,1000", help="batch sizes of the per-layer table")
    p.add_argument("--peak-gflops", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--baseline", metavar="DIR", help=f"also run the tensorlet in DIR as peer {BASE}")
    p.add_argument("--child", choices=PEERS, help=argparse.SUPPRESS)
    p.add_argument("--child-what", choices=("layers", "fit"), help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.batches = [int(b) for b in str(args.batches).split(",") if b]
    if args.threads < 1 or args.epochs < 1 or args.repeats < 1 or not args.batches or min(args.batches) < 1:
        p.error("--threads, --epochs, --repeats and --batches must be >= 1")
    if args.child:
        (run_layers_child if args.child_what == "layers" else run_fit_child)(args)
    else:
        run_parent(args)


if __name__ == "__main__":
    main()
