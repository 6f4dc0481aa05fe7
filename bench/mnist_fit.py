"""The chapter's MNIST training (Dense 512 relu -> Dense 10 softmax, RMSprop, batch 128, 5 epochs)
on tensorlet and its peers, each run in its own process, interleaved, at one thread count.

    PYTHONPATH=python python bench/mnist_fit.py [--epochs 5] [--repeats 3] [--threads N]
        [--peers tensorlet,numpy,pytorch,keras] [--keras-python PATH] [--samples 60000]
        [--eval-batch-size B] [--peak-gflops G] [--seed 0]

Peers (a peer that is not installed is skipped with a one-line note):
  tensorlet  the chapter's program: to_categorical labels, categorical_crossentropy, rmsprop.
  tensorlet-flush  the same with tl.set_flush_denormal(True) (subnormals flushed to zero in
             every kernel); `--peers tensorlet,tensorlet-flush` interleaves the two settings.
  numpy      the same network by hand in NumPy float32: Keras's init (glorot_uniform, zero
             biases), softmax cross-entropy gradient, Keras 3's RMSprop, in-place updates.
  pytorch    eager: Sequential(Linear, ReLU, Linear), CrossEntropyLoss on logits, RMSprop(lr=1e-3,
             alpha=0.9, eps=1e-7), shuffled batches of 128.
  keras      Keras 3 on TensorFlow, the chapter's program. Runs in this interpreter if it can
             import keras and tensorflow, else in --keras-python PATH (default $KERAS_PYTHON):
             another venv's python, so TensorFlow need not be in this environment.

For each repeat the parent starts one child process per peer, round-robin (A B C A B C ...) so
that load from other tenants of the machine falls on all alike; it reports medians. The parent
loads MNIST once with tensorlet.datasets.mnist.load_data() and writes it as .npy files into a
temporary directory; every child np.load()s them, so no child imports another framework to
load data. The child sets OMP/OPENBLAS/MKL/TENSORLET/TF thread variables before any import
and the framework's own thread count (torch.set_num_threads, tf.config.threading) to --threads.

Timed in each child:
  fit       the whole --epochs fit (one fit() call, or the loop over epochs), after an untimed
            warm-up fit of 3 full batches and one batch of the epoch's last size on the same
            model (so tracing/first-call setup for both batch shapes is excluded; those few
            steps stay in the model, ~0.2% of 5 epochs' steps).
  eval      evaluate() (loss + accuracy) on the 10,000 test images; predict: the probabilities.
            Default batch size: the framework's own (32 for Keras and tensorlet, as the chapter
            calls evaluate()); PyTorch (under torch.no_grad()) and NumPy do one forward pass
            over the whole set. --eval-batch-size B sets it for all. Median of 3 after 1 untimed.
  RSS       resident set just before the timed fit, and the peak (ru_maxrss) after it and at
            the end (after evaluation).
  load      the machine's 1-minute load average around the fit (the higher of before and
            after, this run included): above --threads, other tenants were competing, and
            spin-waiting thread pools (OpenMP, OpenBLAS) can then slow down many times over.

GFLOP/s counts the GEMMs only (bias, relu, softmax and optimizer work are left out): per
sample, forward 2*(784*512 + 512*10) flops, backward twice that minus layer 1's input gradient
(nobody computes it). The % of peak is against --peak-gflops, by default the FP32 peak that
bench/gemm.py measures (tensorlet's FMA-loop probe at the active ISA, per thread x --threads;
on this Xeon, with two full-width 512-bit FMA pipes, about 220-235 GFLOP/s per thread). The %
of the 2-pipe x 8-lane x 2 flops x clock figure (115 per thread, the AMD Zen 4 figure of
issue 6, where 512-bit FMAs run at half rate) is printed beside it.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

PEERS = ("tensorlet", "tensorlet-flush", "numpy", "pytorch", "keras")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TENSORLET_NUM_THREADS",
               "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
LAYERS = (784, 512, 10)
PEAK_PER_THREAD = 115.0  # GFLOP/s, float32; see the module docstring
MB = 1024 * 1024
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.normpath(os.path.join(HERE, "..", "python"))  # this checkout's package


# ---------------------------------------------------------------------------------------------
# Work and memory accounting


def flops_per_sample(sizes=LAYERS):
    """GEMM flops of one training sample: forward, plus backward without layer 1's input gradient."""
    d_in, hidden, classes = sizes
    forward = 2 * (d_in * hidden + hidden * classes)
    backward = 2 * forward - 2 * d_in * hidden
    return forward, backward


def work_gflop(samples, epochs):
    forward, backward = flops_per_sample()
    return (forward + backward) * samples * epochs / 1e9


def describe_work(samples, epochs, batch_size):
    forward, backward = flops_per_sample()
    steps = -(-samples // batch_size)
    last = samples - (steps - 1) * batch_size
    per_step = (forward + backward) * batch_size / 1e6
    total = work_gflop(samples, epochs)
    if (samples, epochs, batch_size) == (60000, 5, 128):
        assert abs(per_step - 209.45) < 0.01 and abs(total - 490.9) < 0.05, (per_step, total)
    return (f"work: forward 2*{batch_size}*(784*512+512*10) = {forward * batch_size / 1e6:.2f} MFLOP, "
            f"backward 2x that - 2*{batch_size}*784*512 (no input gradient for layer 1) = "
            f"{backward * batch_size / 1e6:.2f} MFLOP; {per_step:.2f} MFLOP per step of {batch_size}; "
            f"{steps} steps/epoch (last of {last}) x {epochs} epochs = {total:.1f} GFLOP")


def current_rss_mb():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB
    except (OSError, ValueError):
        return float("nan")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ---------------------------------------------------------------------------------------------
# Data


def write_data(directory, samples):
    """Parent: the bundled MNIST as uint8 .npy files (x flattened to 784)."""
    import numpy as np
    from tensorlet.datasets import mnist

    (x, y), (xt, yt) = mnist.load_data()
    arrays = {"x_train": x[:samples].reshape(-1, 784), "y_train": y[:samples],
              "x_test": xt.reshape(-1, 784), "y_test": yt}
    for name, a in arrays.items():
        np.save(os.path.join(directory, name + ".npy"), np.ascontiguousarray(a))


def read_data(directory):
    """Child: float32 images / 255 as the chapter does, with no second float temporary."""
    import numpy as np

    def images(name):
        u8 = np.load(os.path.join(directory, name + ".npy"))
        return np.divide(u8, np.float32(255), dtype=np.float32)  # == u8.astype("float32") / 255

    def labels(name):
        return np.load(os.path.join(directory, name + ".npy")).astype(np.int64)

    return images("x_train"), labels("y_train"), images("x_test"), labels("y_test")


def one_hot(y, classes=10):
    import numpy as np

    out = np.zeros((len(y), classes), dtype=np.float32)
    out[np.arange(len(y)), y] = 1
    return out


# ---------------------------------------------------------------------------------------------
# Peers: build(seed), fit(x, y, epochs), evaluate(x, y) -> (loss, accuracy), predict(x)


class KerasLikePeer:
    """The chapter's program on tensorlet or Keras 3 (same API)."""

    def __init__(self, name, threads, batch_size, eval_batch_size):
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        if name == "keras":
            os.environ.setdefault("KERAS_BACKEND", "tensorflow")
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
            import keras

            self.version = f"keras {keras.__version__}, {keras.backend.backend()} {tf.__version__}"
            self.lib = keras
        else:
            import tensorlet

            tensorlet.set_num_threads(threads)
            flush = name == "tensorlet-flush" and tensorlet.set_flush_denormal(True)
            self.version = (f"tensorlet {getattr(tensorlet, '__version__', '?')}, {tensorlet.config()['isa']}"
                            + (", subnormals flushed" if flush else ""))
            from tensorlet import keras

            self.lib = keras

    def labels(self, y):
        return self.lib.utils.to_categorical(y, 10)

    def build(self, seed):
        k = self.lib
        k.utils.set_random_seed(seed)
        self.model = k.Sequential([k.layers.Dense(512, activation="relu", input_shape=(784,)),
                                   k.layers.Dense(10, activation="softmax")])
        self.model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])

    def fit(self, x, y, epochs):
        self.model.fit(x, y, epochs=epochs, batch_size=self.batch_size, verbose=0)

    def evaluate(self, x, y):
        loss, acc = self.model.evaluate(x, y, batch_size=self.eval_batch_size, verbose=0)
        return float(loss), float(acc)

    def predict(self, x):
        return self.model.predict(x, batch_size=self.eval_batch_size, verbose=0)


class NumpyPeer:
    """The same network by hand in NumPy float32, with Keras's init and Keras 3's RMSprop."""

    lr, rho, eps = 0.001, 0.9, 1e-7

    def __init__(self, name, threads, batch_size, eval_batch_size):
        import numpy as np

        self.np, self.batch_size, self.eval_batch_size = np, batch_size, eval_batch_size
        self.version = f"numpy {np.__version__}"

    def labels(self, y):
        return one_hot(y)

    def build(self, seed):
        np = self.np
        self.rng = np.random.default_rng(seed)
        (d, h, c), f32 = LAYERS, np.float32

        def glorot(fan_in, fan_out):
            limit = np.sqrt(6 / (fan_in + fan_out))
            return self.rng.uniform(-limit, limit, (fan_in, fan_out)).astype(f32)

        self.params = [glorot(d, h), np.zeros(h, f32), glorot(h, c), np.zeros(c, f32)]
        self.grads = [np.empty_like(p) for p in self.params]
        self.velocity = [np.zeros_like(p) for p in self.params]
        self.scratch = [np.empty_like(p) for p in self.params]
        b = self.batch_size
        self.hidden, self.logits, self.dhidden = np.empty((b, h), f32), np.empty((b, c), f32), np.empty((b, h), f32)

    def forward(self, x, hidden, logits):
        np = self.np
        w1, b1, w2, b2 = self.params
        np.matmul(x, w1, out=hidden)
        hidden += b1
        np.maximum(hidden, 0, out=hidden)
        np.matmul(hidden, w2, out=logits)
        logits += b2
        logits -= logits.max(axis=1, keepdims=True)  # softmax, in place
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

    def step(self, x, y):
        np = self.np
        n = len(x)
        hidden, probs, dhidden = self.hidden[:n], self.logits[:n], self.dhidden[:n]
        self.forward(x, hidden, probs)
        w1, _, w2, _ = self.params
        gw1, gb1, gw2, gb2 = self.grads
        dlogits = probs
        dlogits -= y  # softmax + cross-entropy: (p - y) / batch
        dlogits *= np.float32(1 / n)
        np.matmul(hidden.T, dlogits, out=gw2)
        np.sum(dlogits, axis=0, out=gb2)
        np.matmul(dlogits, w2.T, out=dhidden)
        np.copyto(dhidden, 0, where=hidden <= 0)  # relu mask
        np.matmul(x.T, dhidden, out=gw1)  # no input gradient for layer 1
        np.sum(dhidden, axis=0, out=gb1)
        for p, g, v, t in zip(self.params, self.grads, self.velocity, self.scratch):
            # Keras 3 RMSprop: v = rho v + (1 - rho) g^2;  w -= lr g / sqrt(v + epsilon)
            v *= np.float32(self.rho)
            np.multiply(g, g, out=t)
            t *= np.float32(1 - self.rho)
            v += t
            np.add(v, np.float32(self.eps), out=t)
            np.sqrt(t, out=t)
            np.divide(g, t, out=t)
            t *= np.float32(self.lr)
            p -= t

    def fit(self, x, y, epochs):
        b = self.batch_size
        for _ in range(epochs):
            order = self.rng.permutation(len(x))
            for start in range(0, len(x), b):
                idx = order[start:start + b]
                self.step(x[idx], y[idx])

    def predict(self, x):
        np = self.np
        n = len(x)
        b = self.eval_batch_size or n
        out = np.empty((n, LAYERS[2]), np.float32)
        hidden = np.empty((min(b, n), LAYERS[1]), np.float32)
        for start in range(0, n, b):
            stop = min(start + b, n)
            self.forward(x[start:stop], hidden[:stop - start], out[start:stop])
        return out

    def evaluate(self, x, y):
        np = self.np
        p = self.predict(x)
        picked = p[np.arange(len(p)), y.argmax(1)]
        loss = -np.log(np.maximum(picked, 1e-7)).mean()
        return float(loss), float((p.argmax(1) == y.argmax(1)).mean())


class TorchPeer:
    def __init__(self, name, threads, batch_size, eval_batch_size):
        import torch

        torch.set_num_threads(threads)
        self.torch, self.batch_size, self.eval_batch_size = torch, batch_size, eval_batch_size
        self.version = f"torch {torch.__version__}"

    def labels(self, y):
        return y

    def build(self, seed):
        torch = self.torch
        torch.manual_seed(seed)
        nn = torch.nn
        self.model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
        # Keras's RMSprop defaults (PyTorch's eps sits outside the square root: close, not identical).
        self.opt = torch.optim.RMSprop(self.model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
        self.loss = nn.CrossEntropyLoss()

    def fit(self, x, y, epochs):
        torch = self.torch
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        for _ in range(epochs):
            for idx in torch.randperm(len(xt)).split(self.batch_size):
                loss = self.loss(self.model(xt[idx]), yt[idx])
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                self.opt.step()

    def _logits(self, xt):
        chunks = xt.split(self.eval_batch_size) if self.eval_batch_size else [xt]
        return self.torch.cat([self.model(c) for c in chunks])

    def evaluate(self, x, y):
        torch = self.torch
        with torch.no_grad():
            xt, yt = torch.from_numpy(x), torch.from_numpy(y)
            logits = self._logits(xt)
            return float(self.loss(logits, yt)), float((logits.argmax(1) == yt).float().mean())

    def predict(self, x):
        torch = self.torch
        with torch.no_grad():
            return torch.softmax(self._logits(torch.from_numpy(x)), 1).numpy()


PEER_CLASSES = {"tensorlet": KerasLikePeer, "tensorlet-flush": KerasLikePeer, "keras": KerasLikePeer, "numpy": NumpyPeer, "pytorch": TorchPeer}


# ---------------------------------------------------------------------------------------------
# Child: one peer, one measurement, one JSON line on stdout


def timed(fn, repeats=3):
    fn()  # untimed first call
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_child(args):
    os.environ.update({k: str(args.threads) for k in THREAD_VARS})  # before any framework import
    peer = PEER_CLASSES[args.child](args.child, args.threads, args.batch_size, args.eval_batch_size)
    x, y, xt, yt = read_data(args.data_dir)
    y, yt = peer.labels(y), peer.labels(yt)
    b = args.batch_size
    warm = min(len(x), 3 * b + (len(x) % b or b))

    peer.build(args.seed)
    peer.fit(x[:warm], y[:warm], 1)  # untimed warm-up: both batch shapes of the epoch
    rss_before = current_rss_mb()
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    peer.fit(x, y, args.epochs)
    fit_s = time.perf_counter() - t0
    peak_fit = peak_rss_mb()
    load = max(load_before, os.getloadavg()[0])  # 1-minute load average (ours included) around the fit
    loss, acc = peer.evaluate(xt, yt)
    result = {"peer": args.child, "version": peer.version, "fit_s": fit_s, "test_accuracy": acc, "test_loss": loss,
              "eval_s": timed(lambda: peer.evaluate(xt, yt)), "predict_s": timed(lambda: peer.predict(xt)),
              "rss_before_fit_mb": rss_before, "peak_rss_fit_mb": peak_fit, "peak_rss_mb": peak_rss_mb(), "load": load}
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------------------------------------
# Parent: spawn, interleave, tabulate


def keras_here():
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("keras", "tensorflow"))


def runs(python, code):
    try:
        return subprocess.run([python, "-c", code], capture_output=True).returncode == 0
    except OSError:
        return False


def interpreters(peers, keras_python):
    """peer -> python executable to run it with; notes for the peers that are skipped."""
    import importlib.util

    chosen, notes = {}, []
    for peer in peers:
        if peer == "pytorch" and importlib.util.find_spec("torch") is None:
            notes.append("pytorch: skipped (torch is not installed)")
        elif peer == "keras" and not keras_here():
            if keras_python and runs(keras_python, "import keras, tensorflow, numpy"):
                chosen[peer] = keras_python
            else:
                where = f" nor by {keras_python}" if keras_python else "; try --keras-python PATH"
                notes.append(f"keras: skipped (keras + tensorflow are not importable here{where})")
        else:
            chosen[peer] = sys.executable
    return chosen, notes


def tensorlet_dir():
    """The directory holding the tensorlet package the parent uses (and passes to the children):
    the importable one (PYTHONPATH=python, or an installed package), else this checkout's."""
    try:
        import tensorlet
    except ImportError:
        sys.path.insert(0, SOURCE_DIR)
        import tensorlet
    return os.path.dirname(os.path.dirname(os.path.abspath(tensorlet.__file__)))


def spawn(python, peer, args, data_dir, seed):
    cmd = [python, os.path.abspath(__file__), "--child", peer, "--data-dir", data_dir, "--threads", str(args.threads),
           "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--seed", str(seed)]
    if args.eval_batch_size:
        cmd += ["--eval-batch-size", str(args.eval_batch_size)]
    return run_json_child(cmd, args.threads, peer)


def run_json_child(cmd, threads, label, extra_path=None, tensorlet_path=None):
    """Runs a child with every thread variable at `threads` and the parent's tensorlet (or the
    one in directory `tensorlet_path`) first on its path; returns the last JSON line it printed,
    or None (with a note) if it failed."""
    env = dict(os.environ, **{k: str(threads) for k in THREAD_VARS}, KERAS_BACKEND="tensorflow",
               TF_CPP_MIN_LOG_LEVEL="2")
    first = tensorlet_path or tensorlet_dir()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [first, extra_path, env.get("PYTHONPATH")]))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n    ".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        print(f"  {label}: child failed (exit {proc.returncode}):\n    {tail}", flush=True)
        return None
    return json.loads(lines[-1])


def measured_peak_per_thread():
    try:
        from tensorlet import _core, config

        return _core._fma_peak_gflops(), config()["isa"]
    except Exception:  # pragma: no cover - an older build without the probe
        return None, None


def report(results, args, samples, peak, two_pipe_peak=None):
    work = work_gflop(samples, args.epochs)
    med = {p: {k: statistics.median(r[k] for r in rs) for k in rs[0] if k not in ("peer", "version")}
           for p, rs in results.items() if rs}
    print(f"\nmedian of {args.repeats} run(s), {args.epochs} epoch(s), {samples} samples, {args.threads} thread(s); "
          f"% of peak against {peak:.0f} GFLOP/s")
    print(f"{'peer':<15} {'fit s':>7} {'GFLOP/s':>8} {'% peak':>7} {'test acc':>9} {'eval ms':>8} "
          f"{'pred ms':>8} {'RSS@fit MiB':>12} {'peak MiB':>8}   fit s of each run")
    for p, m in med.items():
        g = work / m["fit_s"]
        runs = ", ".join(f"{r['fit_s']:.2f}" for r in results[p])
        print(f"{p:<15} {m['fit_s']:7.2f} {g:8.1f} {100 * g / peak:6.0f}% {m['test_accuracy']:9.4f} "
              f"{1e3 * m['eval_s']:8.1f} {1e3 * m['predict_s']:8.1f} {m['rss_before_fit_mb']:12.0f} "
              f"{m['peak_rss_mb']:8.0f}   {runs}")
    for p, rs in results.items():
        if rs:
            print(f"  {p}: {rs[0]['version']}")
    peers = {p: m["fit_s"] for p, m in med.items() if not p.startswith("tensorlet")}
    if "tensorlet" in med and peers:
        fastest = min(peers, key=peers.get)
        t = med["tensorlet"]
        print(f"tensorlet speed-up over the fastest peer ({fastest}): {peers[fastest] / t['fit_s']:.2f}x fit"
              f" (target >= 1.5); test accuracy {t['test_accuracy']:.4f} (target >= 0.975); "
              f"{100 * work / t['fit_s'] / peak:.0f}% of peak (target >= 70%)"
              + (f", {100 * work / t['fit_s'] / two_pipe_peak:.0f}% of the {two_pipe_peak:.0f} GFLOP/s 2-pipe figure"
                 if two_pipe_peak and two_pipe_peak != peak else ""))
    if "tensorlet" in med and "tensorlet-flush" in med:
        t, f = med["tensorlet"]["fit_s"], med["tensorlet-flush"]["fit_s"]
        print(f"subnormals flushed: fit {f:.2f} s vs kept {t:.2f} s ({t / f:.3f}x)")
    if "tensorlet" in med and peers:
        t = med["tensorlet"]
        if "pytorch" in med:
            tp = med["pytorch"]
            print(f"tensorlet evaluate {1e3 * t['eval_s']:.1f} ms, predict {1e3 * t['predict_s']:.1f} ms vs "
                  f"PyTorch no-grad forward {1e3 * tp['predict_s']:.1f} ms (evaluate with loss and accuracy "
                  f"{1e3 * tp['eval_s']:.1f} ms)")


def run_parent(args):
    tensorlet_dir()
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = set(peers) - set(PEERS)
    if unknown:
        sys.exit(f"unknown peer(s) {sorted(unknown)}; choose from {','.join(PEERS)}")
    chosen, notes = interpreters(peers, args.keras_python)
    for note in notes:
        print(note)
    if not chosen:
        sys.exit("no peer to run")
    samples = min(args.samples, 60000)
    fma, isa = measured_peak_per_thread()
    peak = args.peak_gflops or (fma or PEAK_PER_THREAD) * args.threads
    print(f"MNIST fit: {args.epochs} epoch(s) of {samples} samples, batch {args.batch_size}, "
          f"{args.threads} thread(s) for every peer, {args.repeats} interleaved run(s), one process each")
    print(describe_work(samples, args.epochs, args.batch_size))
    print(f"data: x_train {samples}x784 float32 = {samples * 784 * 4 / MB:.0f} MiB "
          f"(+ test 10000x784 = {10000 * 784 * 4 / MB:.0f} MiB) in every process")
    if args.peak_gflops:
        src = "--peak-gflops"
    elif fma:
        src = f"tensorlet's measured {isa} FMA-loop peak, {fma:.0f} GFLOP/s per thread x {args.threads}"
    else:
        src = f"{PEAK_PER_THREAD:.0f} GFLOP/s per thread x {args.threads}: tensorlet cannot measure it"
    print(f"peak: {peak:.0f} GFLOP/s ({src}); the 2-pipe 256-bit figure is {PEAK_PER_THREAD:.0f} per thread")
    print(f"eval batch size: {args.eval_batch_size or 'framework default (Keras/tensorlet 32; PyTorch, NumPy: whole set)'}")

    results = {p: [] for p in chosen}
    # On SIGTERM too, subprocess.run kills the running child and the temporary data is removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    data_dir = tempfile.mkdtemp(prefix="mnist_fit_")
    try:
        write_data(data_dir, samples)
        for r in range(args.repeats):
            for peer, python in chosen.items():
                res = spawn(python, peer, args, data_dir, args.seed + r)
                if res:
                    results[peer].append(res)
                    print(f"  run {r + 1} {peer:<10} fit {res['fit_s']:6.2f} s  test accuracy "
                          f"{res['test_accuracy']:.4f}  peak RSS {res['peak_rss_mb']:.0f} MiB  "
                          f"load average {res['load']:.1f}", flush=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    report(results, args, samples, peak, PEAK_PER_THREAD * args.threads)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3, help="child processes per peer (interleaved)")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                   help="threads for every peer (default: all CPUs this process may use)")
    p.add_argument("--peers", default=",".join(p for p in PEERS if p != "tensorlet-flush"),
                   help="comma-separated subset of " + ",".join(PEERS))
    p.add_argument("--keras-python", default=os.environ.get("KERAS_PYTHON"),
                   help="python of another environment with keras + tensorflow (default $KERAS_PYTHON)")
    p.add_argument("--samples", type=int, default=60000, help="training samples (quick runs: fewer)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--eval-batch-size", type=int, default=None,
                   help="batch size of evaluate/predict for all peers (default: each framework's own)")
    p.add_argument("--peak-gflops", type=float, default=None,
                   help="float32 peak for the %% column (default: the measured FMA-loop peak x --threads)")
    p.add_argument("--seed", type=int, default=0, help="seed of run 1 (run r uses seed + r - 1)")
    p.add_argument("--child", choices=PEERS, help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads < 1 or args.epochs < 1 or args.repeats < 1:
        p.error("--threads, --epochs and --repeats must be >= 1")
    if args.child:
        run_child(args)
    else:
        run_parent(args)


if __name__ == "__main__":
    main()
