"""LeakSanitizer check of tensorlet's C++ (issue 7), run by tools/sanitize.sh --leaks under the
ASan build with detect_leaks=1:leak_check_at_exit=0 and full (slow) allocation stacks.

It runs the scenarios of tests/test_memory.py (a few iterations each: a leak shows after one)
and more that exercise error paths, retain_graph and create_graph backward, optimizers, weight
files and the thread pool; then, with every reference dropped, it asks LSan for a check while
the interpreter is still alive (tools/lsan_report.py: anything reported then is memory nothing
points to) and fails on the reports whose allocation stack has a frame in tensorlet's _core.
Reports without one (CPython's, NumPy's) are counted, not failed on; there are none today.
The exit-time check stays off: CPython does not free everything at exit, and those reports
would bury ours. Nothing is suppressed: pybind11's type registrations and interned strings,
the thread pool (a global pointer, workers parked) and thread-local GEMM pack buffers are
all still reachable at the time of the check, so LSan does not report them.

  tools/sanitize.sh --leaks              # builds, runs this (and the C++ leak test)
  python tools/leak_check.py --list      # the scenario names
  tools/sanitize.sh --leaks NAME...      # only these scenarios
  python tools/leak_check.py --expect-leak  # self-test: a deliberate leak must be reported
Exit status: 0 clean (or, with --expect-leak, the leak was caught), 1 leaks of ours (or not
caught), 2 usage. TENSORLET_LSAN_REPORT=PATH also writes LSan's raw report (full stacks) there.
"""
import gc
import os
import sys
import tempfile
import warnings

import numpy as np

import tensorlet as tl
from tensorlet import layers, models, optimizers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lsan_report import TL_FRAME, check_and_split, lsan_available, short, summarize  # noqa: E402

sys.path.pop(0)

SCENARIOS = []


def scenario(fn):
    SCENARIOS.append(fn)
    return fn


# -- the scenarios of tests/test_memory.py (fewer iterations: leaks show after one) -----------

@scenario
def training_steps():
    rng = np.random.default_rng(0)
    for opt, loss, act in ((optimizers.Adam(1e-3), "sparse_categorical_crossentropy", "softmax"),
                           (optimizers.SGD(0.01, momentum=0.9, nesterov=True), "categorical_crossentropy", "softmax"),
                           (optimizers.RMSprop(1e-3, momentum=0.5, centered=True), "mse", None)):
        model = models.Sequential([layers.Input(shape=(32,)), layers.Dense(32, activation="relu"),
                                   layers.Dense(10, activation=act)])
        model.compile(optimizer=opt, loss=loss, metrics=["accuracy"])
        x = rng.standard_normal((64, 32)).astype(np.float32)
        y = rng.integers(0, 10, size=64)
        if loss != "sparse_categorical_crossentropy":
            y = np.eye(10, dtype=np.float32)[y]
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25)
        model.evaluate(x, y, verbose=0)
        model.predict(x, verbose=0)


@scenario
def graph_builds_without_backward():
    a = tl.Tensor(np.random.rand(16, 16).astype(np.float32), requires_grad=True)
    for _ in range(5):
        h = a
        for _ in range(5):
            h = (h @ a).relu() * 0.01 + h
        h.sum()


@scenario
def backward_graphs():
    a = tl.Tensor(np.random.rand(16, 16).astype(np.float32), requires_grad=True)
    for _ in range(5):
        loss = tl.softmax((a @ a).tanh()).sum()
        loss.backward()
        a.grad = None
    # retain_graph: a second backward through the same graph, then the graph is dropped
    loss = (a * a).mean()
    loss.backward(retain_graph=True)
    loss.backward()
    a.grad = None
    # a long chain (the iterative Node teardown) and a shared subexpression
    h = a
    for _ in range(2000):
        h = h * 1.0
    (h + h).sum().backward()


@scenario
def double_backward():
    # create_graph: the gradient carries its own graph (which refers back to the leaf)
    x = tl.Tensor(np.array([0.5, 1.5, -2.0]), requires_grad=True)
    y = (x * x * x).sum()
    y.backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.sum().backward()
    x.grad = None
    del g


@scenario
def views_outlive_base():
    kept = []
    for _ in range(10):
        base = tl.Tensor(np.random.rand(64, 64))
        v = base[10:20, ::3]
        t = base.T
        del base
        assert np.asarray(v).shape == (10, 22) and np.asarray(t).shape == (64, 64)
        kept.append(v)
        if len(kept) > 4:
            kept.pop(0)


@scenario
def numpy_exports_outlive_tensor():
    for _ in range(10):
        t = tl.Tensor(np.random.rand(64, 64))
        arr = np.asarray(t)
        arr2 = t.numpy()
        del t
        assert arr.shape == (64, 64) and float(arr2[0, 0]) == float(arr[0, 0])
        arr.tolist()


@scenario
def tensors_outlive_numpy_source():
    for _ in range(10):
        src = np.random.rand(64, 64)
        t = tl.asarray(src)
        u = tl.Tensor(src)
        w = tl.Tensor(src[::2, ::-1].astype(">f8"))  # copied first (byte order, strides)
        expected = float(src[3, 4])
        del src
        assert float(np.asarray(t)[3, 4]) == expected == float(np.asarray(u)[3, 4])
        del w


# -- more paths: errors, ops, weights files, threads ------------------------------------------

@scenario
def invalid_inputs():
    # the whole table of invalid calls of tests/test_invalid_inputs.py: every error path (ASan
    # prints "failed to allocate" warnings for the huge ones; allocator_may_return_null=1 makes
    # them MemoryErrors, as intended)
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")
    sys.path.insert(0, here)
    try:
        import invalid_cases
    finally:
        sys.path.pop(0)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for _name, _expected, fn in invalid_cases.cases():
            try:
                fn()
            except Exception:
                pass


@scenario
def ops_and_grads():
    rng = np.random.default_rng(1)
    x = tl.Tensor(rng.standard_normal((6, 5)), requires_grad=True)
    w = tl.Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    b = tl.Tensor(rng.standard_normal((4,)), requires_grad=True)
    labels = tl.Tensor(rng.integers(0, 4, size=6))
    onehot = tl.Tensor(np.eye(4)[rng.integers(0, 4, size=6)])
    z = tl.linear(x, w, b, "relu")
    parts = [tl.softmax(z).sum(), tl.log_softmax(z, axis=0).mean(), (tl.log(x.exp() + 1) * 2).max(),
             tl.concatenate([x, x[::-1]], axis=0).var(), tl.stack([x, x]).sum(axis=(0, 2)).min(),
             x[[0, 2, 4], 1:3].sum(), x.reshape(5, 6).transpose().sum(), (x[x > 0]).sum(),
             tl.softmax_cross_entropy(z, onehot).mean(), tl.sparse_softmax_cross_entropy(z, labels).mean()]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    total.backward()
    str(x), repr(z), x.tolist()
    tl.random.seed(3)
    tl.random.normal(size=(10,)), tl.random.uniform(size=(3, 3)), tl.random.permutation(10)
    # a raising backward: gradient of the wrong shape passed in
    try:
        (x * 2).backward(tl.ones((2, 2)))
    except Exception:
        pass
    try:
        (x * 2).sum().backward()
        (x * 2).sum().backward()
        y = (x * x).sum()
        y.backward()
        y.backward()  # a second backward through a released graph raises
    except Exception:
        pass


@scenario
def weights_files():
    model = models.Sequential([layers.Input(shape=(4,)), layers.Dense(3)])
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "w.weights.npz")
        model.save_weights(path)
        model.load_weights(path)
        with open(path, "r+b") as f:
            f.truncate(40)
        try:
            model.load_weights(path)
        except Exception:
            pass


@scenario
def thread_pool():
    import threading
    a = tl.Tensor(np.random.rand(200, 200).astype(np.float32), requires_grad=True)

    def work():
        for _ in range(3):
            (tl.softmax(a @ a) * 2).sum().backward()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    n = tl.get_num_threads()
    tl.set_num_threads(1)
    (a @ a).sum()
    tl.set_num_threads(n)
    (a @ a).sum()


# -- the check --------------------------------------------------------------------------------

def create_graph_cycle():
    """A leak on purpose, for --expect-leak: after backward(create_graph=True) the leaf's .grad
    has a graph that holds the leaf (as PyTorch's does), a reference cycle of shared_ptrs that
    nothing frees unless .grad is reset. Its memory is allocated by tensorlet's C++."""
    x = tl.Tensor(np.array([0.5, 1.5, -2.0]), requires_grad=True)
    (x * x * x).sum().backward(create_graph=True)


def main(argv):
    names = [f.__name__ for f in SCENARIOS]
    if "--list" in argv:
        print("\n".join(names))
        return 0
    expect_leak = "--expect-leak" in argv
    argv = [a for a in argv if a != "--expect-leak"]
    chosen = [create_graph_cycle] if expect_leak else [f for f in SCENARIOS if not argv or f.__name__ in argv]
    unknown = set(argv) - set(names)
    if unknown:
        print(f"unknown scenario(s): {sorted(unknown)}; --list shows them", file=sys.stderr)
        return 2
    if not lsan_available():
        print("LeakSanitizer is not loaded: run this through tools/sanitize.sh --leaks", file=sys.stderr)
        return 2
    for f in chosen:
        f()
        gc.collect()
        print(f"ran {f.__name__}", flush=True)
    # main() holds no tensorlet object here (see tools/lsan_report.py on frame locals).
    found, text, ours, others = check_and_split()
    if found and not ours and not others:
        print("LeakSanitizer found leaks but its report could not be parsed:\n" + text, file=sys.stderr)
        return 1
    if others:
        print(f"{len(others)} leak report(s) ({sum(r[1] for r in others)} bytes) without a tensorlet frame "
              f"(CPython/NumPy, not failed on); first stacks:")
        for kind, nbytes, nobj, frames in others[:3]:
            print(f"  {kind} leak of {nbytes} byte(s): " + " <- ".join(short(f) for f in frames[1:5]))
    if expect_leak:
        # The self-test: the cycle above must be reported, as ours.
        if ours:
            where = next((short(f) for r in ours for f in r[3] if TL_FRAME.match(f)), "?")
            print(f"leak check self-test: the deliberate create_graph cycle was caught "
                  f"({len(ours)} report(s), {sum(r[1] for r in ours)} bytes, e.g. from "
                  f"{where})")
            return 0
        print("leak check self-test FAILED: the deliberate leak was not reported as tensorlet's", file=sys.stderr)
        return 1
    if ours:
        print(f"LEAKS IN TENSORLET: {len(ours)} report(s), {sum(r[1] for r in ours)} bytes "
              f"(the first 10 below; TENSORLET_LSAN_REPORT=PATH keeps LSan's whole report)", file=sys.stderr)
        print("\n".join(summarize(ours)), file=sys.stderr)
        return 1
    print(f"leak check: {len(chosen)} scenario(s), 0 leaks in tensorlet ({len(others)} report(s) in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
