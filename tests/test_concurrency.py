"""Concurrency: several Python threads running kernels and whole training steps at once give the
same results as one thread (kernels release the GIL, so the core must be thread-safe), and the
thread pool survives os.fork() with a child that trains. Extends tests/test_threads.py (GEMM only)."""
import os
import threading

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import layers, models, optimizers

from test_threads import run_python

N_THREADS = 4


@pytest.fixture
def two_pool_threads():
    before = tl.get_num_threads()
    tl.set_num_threads(2)
    yield
    tl.set_num_threads(before)


def run_in_threads(fn, args_list, timeout=120):
    """Runs fn(*args) for each args in its own thread, all started together; returns the results."""
    results = [None] * len(args_list)
    errors = []
    barrier = threading.Barrier(len(args_list))

    def worker(i, args):
        try:
            barrier.wait(timeout=30)
            results[i] = fn(*args)
        except BaseException as e:  # reported below
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(args_list)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in ts), "a thread hung"
    assert not errors, errors
    return results


def kernel_mix(seed, reps=4):
    """matmul, elementwise, reductions, softmax and its cross-entropy (forward and backward)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 48)).astype(np.float32)
    w = rng.standard_normal((48, 33)).astype(np.float32)
    labels = rng.integers(0, 33, size=64)
    onehot = np.eye(33, dtype=np.float32)[labels]
    out = []
    for _ in range(reps):
        tw = tl.Tensor(w, requires_grad=True)
        tx = tl.Tensor(x)
        logits = tl.matmul(tx, tw)
        h = (logits * 0.5 + 1.0).relu().exp().sum(axis=0)
        m = logits.mean(axis=1)
        sm = tl.softmax(logits)
        loss = tl.softmax_cross_entropy(logits, tl.Tensor(onehot)).mean()
        loss.backward()
        out.append([np.asarray(a).copy() for a in (logits, h, m, sm, loss, tw.grad)])
    return out


def assert_same(a, b):
    assert len(a) == len(b)
    for xa, xb in zip(a, b):
        if isinstance(xa, (list, tuple)):
            assert_same(xa, xb)
        else:
            np.testing.assert_array_equal(np.asarray(xa), np.asarray(xb))


def test_threads_kernels_match_single_thread(two_pool_threads):
    seeds = list(range(N_THREADS))
    expected = [kernel_mix(s) for s in seeds]
    got = run_in_threads(kernel_mix, [(s,) for s in seeds])
    for e, g in zip(expected, got):
        assert_same(e, g)  # bit-identical: same inputs, same kernels, same pool


def test_threads_share_inputs(two_pool_threads):
    # All threads read the same tensors at once (no copy-on-read races, no shared scratch).
    rng = np.random.default_rng(1)
    a = tl.Tensor(rng.standard_normal((120, 90)))
    b = tl.Tensor(rng.standard_normal((90, 70)))

    def work():
        return [np.asarray(f()).copy() for f in (lambda: a @ b, lambda: (a * a).sum(axis=1),
                                                 lambda: tl.softmax(a @ b, axis=-1), lambda: a.T @ a)
                for _ in range(3)]

    expected = work()
    for got in run_in_threads(work, [()] * N_THREADS):
        assert_same(expected, got)


def make_model(seed):
    rng = np.random.default_rng(seed)
    model = models.Sequential([layers.Input(shape=(20,)), layers.Dense(32, activation="relu"),
                               layers.Dense(5, activation="softmax")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.set_weights([rng.standard_normal(w.shape).astype(w.dtype) * 0.1 for w in model.get_weights()])
    x = rng.standard_normal((128, 20)).astype(np.float32)
    y = rng.integers(0, 5, size=128)
    return model, x, y


def train(model, x, y):
    hist = model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    return [hist.history["loss"], model.get_weights(), model.predict(x, verbose=0)]


def test_threads_training_steps_match_single_thread(two_pool_threads):
    seeds = list(range(N_THREADS))
    expected = [train(*make_model(s)) for s in seeds]
    # Each thread trains its own model, built (weights set) before the threads start.
    got = run_in_threads(train, [make_model(s) for s in seeds])
    for e, g in zip(expected, got):
        assert_same(e, g)


def test_threads_with_changing_pool_size():
    # set_num_threads from one Python thread while others run kernels: no crash, right answers.
    before = tl.get_num_threads()
    stop = threading.Event()

    def flipper():
        n = 0
        while not stop.is_set():
            tl.set_num_threads(1 + n % 2)
            n += 1

    t = threading.Thread(target=flipper)
    t.start()
    try:
        expected = kernel_mix(7, reps=2)
        for got in run_in_threads(lambda s: kernel_mix(s, reps=2), [(7,)] * 3):
            for e_rep, g_rep in zip(expected, got):
                for e, g in zip(e_rep, g_rep):
                    np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    finally:
        stop.set()
        t.join(timeout=30)
        tl.set_num_threads(before)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_trains_model():
    # Parent trains with the pool running (threads alive), forks; the child builds and trains a
    # model and runs kernels; the parent keeps going. A hang fails via the timeouts.
    code = """
        import os, signal, numpy as np, tensorlet as tl
        from tensorlet import layers, models
        tl.set_num_threads(2)
        def fit_once():
            rng = np.random.default_rng(0)
            m = models.Sequential([layers.Input(shape=(16,)), layers.Dense(64, activation="relu"), layers.Dense(3)])
            m.compile(optimizer="sgd", loss="mse")
            m.set_weights([rng.standard_normal(w.shape).astype(w.dtype) * 0.1 for w in m.get_weights()])
            x = rng.standard_normal((256, 16)).astype(np.float32); y = rng.standard_normal((256, 3)).astype(np.float32)
            return m.fit(x, y, batch_size=64, epochs=2, verbose=0, shuffle=False).history["loss"]
        ref = fit_once()
        pid = os.fork()
        if pid == 0:
            signal.alarm(30)  # a hang in the child kills it (SIGALRM) instead of blocking
            ok = fit_once() == ref
            tl.set_num_threads(2)
            a = tl.Tensor(np.ones((200, 300), np.float32))
            ok = ok and float((a @ a.T).sum()) == 200 * 200 * 300
            os._exit(0 if ok else 3)
        assert fit_once() == ref
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        print("ok")
    """
    r = run_python(code, timeout=90)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
