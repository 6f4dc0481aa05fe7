"""Arena bytes and peak RSS of captured train steps with and without buffer sharing by liveness
(tensorlet.capture: Plan.share_buffers), through Sequential.fit on random data.

Models: chapter (784-512 relu-10 softmax, RMSprop, batch 128), stack4 (784-256 sigmoid-256
relu-256 sigmoid-10, SGD momentum 0.9, batch 128) and the book's convnet (bench/convnet.py,
batch 64). Each run is its own process (peak RSS is per process); rounds interleave on/off.

    PYTHONPATH=python python bench/arena_sharing.py [--rounds 2] [--batches 12] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys


def build(name, tl):
    L = tl.layers
    if name == "chapter":
        layers = [L.Input((784,)), L.Dense(512, activation="relu"), L.Dense(10, activation="softmax")]
        opt, shape, batch = "rmsprop", (784,), 128
    elif name == "stack4":
        layers = [L.Input((784,)), L.Dense(256, activation="sigmoid"), L.Dense(256, activation="relu"),
                  L.Dense(256, activation="sigmoid"), L.Dense(10, activation="softmax")]
        opt, shape, batch = tl.optimizers.SGD(0.01, momentum=0.9), (784,), 128
    else:
        layers = [L.Input((28, 28, 1)), L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
                  L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
                  L.Conv2D(64, (3, 3), activation="relu"), L.Flatten(), L.Dense(64, activation="relu"),
                  L.Dense(10, activation="softmax")]
        opt, shape, batch = "rmsprop", (28, 28, 1), 64
    m = tl.models.Sequential(layers)
    m.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m, shape, batch


def child(name, share, batches, threads):
    import resource

    import numpy as np

    import tensorlet as tl
    import tensorlet.models  # noqa: F401  (tl.models)
    from tensorlet import capture

    tl.set_num_threads(threads)
    capture.SHARE_BUFFERS = share
    tl.utils.set_random_seed(0)
    m, shape, batch = build(name, tl)
    rng = np.random.default_rng(0)
    x = rng.random((batch * batches,) + shape, dtype=np.float32)
    y = rng.integers(0, 10, size=batch * batches)
    h = m.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    plans = list(m.train_function.step.plans.values())
    return {"arena": sum(p.arena_bytes for p in plans), "unshared": sum(p.unshared_bytes for p in plans),
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "loss": h.history["loss"][-1]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--batches", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default="chapter,stack4,convnet")
    ap.add_argument("--child", nargs=2, metavar=("MODEL", "SHARE"))
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child[0], a.child[1] == "1", a.batches, a.threads)))
        return
    res = {}
    for _ in range(a.rounds):
        for m in a.models.split(","):
            for share in ("0", "1"):
                cmd = [sys.executable, os.path.abspath(__file__), "--child", m, share, "--batches", str(a.batches),
                       "--threads", str(a.threads)]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                res.setdefault((m, share), []).append(json.loads(out.strip().splitlines()[-1]))
    print(f"load={os.getloadavg()[0]:.1f} rounds={a.rounds} batches={a.batches}")
    print(f"{'model':8s} {'arena MB unshared':>17s} {'arena MB shared':>15s} {'ratio':>6s} "
          f"{'peak RSS MB off/on':>19s} {'loss off/on':>17s}")
    for m in a.models.split(","):
        off, on = res[(m, "0")], res[(m, "1")]
        ua, sa = off[0]["arena"] / 2**20, on[0]["arena"] / 2**20
        r_off = statistics.median(r["rss_mb"] for r in off)
        r_on = statistics.median(r["rss_mb"] for r in on)
        print(f"{m:8s} {ua:17.2f} {sa:15.2f} {sa / ua:6.2f} {r_off:9.0f}/{r_on:<9.0f} "
              f"{off[0]['loss']:.6f}/{on[0]['loss']:.6f}")


if __name__ == "__main__":
    main()
