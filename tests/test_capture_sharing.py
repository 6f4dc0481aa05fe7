"""Arena buffers shared by liveness (Plan.share_buffers, on by default in CapturedFunction): replays
with shared buffers equal eager steps on several models; the arena shrinks; what the step hands to
the outside (returned tensors, .grad) is never overwritten by a later entry of the step; logged
kernels' reads resolve to Storages the plan holds."""

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import optimizers
from tensorlet.capture import CapturedFunction
from tensorlet.layers import Dropout
from test_capture import MODELS, STEPS, batches, init_weights, make_step


def train(share, sizes, acts, loss, make_opt, rate, capture=True, batch=16):
    tl.random.seed(1234)
    ws = [tl.array(w, requires_grad=True) for w in init_weights(sizes)]
    opt = make_opt()
    drop = Dropout(rate) if rate else None
    f = CapturedFunction(make_step(ws, acts, loss, opt, drop), enabled=capture, share_buffers=share)
    losses = [np.asarray(f(x, y)).copy() for x, y in batches(sizes[0], sizes[-1], batch, loss)]
    return f, ws, losses


@pytest.mark.parametrize("name,sizes,acts,loss,make_opt,rate", MODELS, ids=[m[0] for m in MODELS])
def test_shared_replays_equal_eager_steps(name, sizes, acts, loss, make_opt, rate):
    _, ws_e, losses_e = train(True, sizes, acts, loss, make_opt, rate, capture=False)
    f, ws_c, losses_c = train(True, sizes, acts, loss, make_opt, rate)
    (plan,) = f.plans.values()
    assert f.stats()["replays"] == STEPS - 2
    assert plan.arena_bytes < plan.unshared_bytes  # some buffers really share memory
    np.testing.assert_allclose(np.array(losses_c), np.array(losses_e), rtol=1e-6, atol=0)
    for a, b in zip(ws_c, ws_e):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(np.asarray(a.grad), np.asarray(b.grad), rtol=1e-6, atol=1e-7)


def test_sharing_keeps_every_entry_lowered_and_can_be_turned_off():
    args = MODELS[2][1:]
    f_on, _, _ = train(True, *args)
    f_off, _, _ = train(False, *args)
    (on,), (off,) = f_on.plans.values(), f_off.plans.values()
    assert on.ops == off.ops and on.lowered_ops == off.lowered_ops  # the relayout re-lowered them all
    assert off.arena_bytes == off.unshared_bytes == on.unshared_bytes
    assert on.arena_bytes < off.arena_bytes


def test_outputs_and_grads_are_intact_after_a_shared_replay():
    """Every intermediate the step returns must hold its own value after the replay, although the
    buffers around it (dead after their last reader) share memory."""
    rng = np.random.default_rng(3)
    w0 = [tl.array(rng.normal(scale=0.4, size=s).astype(np.float32), requires_grad=True)
          for s in [(6, 8), (8,), (8, 8), (8,), (8, 3), (3,)]]

    def step(x, y):
        for w in w0:
            w.grad = None
        h1 = tl.sigmoid(tl.linear(x, w0[0], w0[1]))
        h2 = tl.tanh(tl.linear(h1, w0[2], w0[3]))
        z = tl.linear(h2, w0[4], w0[5])
        loss = tl.mean(tl.sparse_softmax_cross_entropy(z, y))
        loss.backward()
        return {"loss": loss, "h1": h1, "h2": h2, "z": z, "probs": tl.softmax(z)}

    f = CapturedFunction(step)
    for i in range(5):
        x = rng.normal(size=(4, 6)).astype(np.float32)
        y = rng.integers(0, 3, size=4)
        out = f(x, y)
        # NumPy oracle from the same weights (no optimizer: the weights stay put)
        W = [np.asarray(w) for w in w0]
        h1 = 1 / (1 + np.exp(-(x @ W[0] + W[1])))
        h2 = np.tanh(h1 @ W[2] + W[3])
        z = h2 @ W[4] + W[5]
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        for k, want in (("h1", h1), ("h2", h2), ("z", z), ("probs", p)):
            np.testing.assert_allclose(np.asarray(out[k]), want, rtol=2e-5, atol=2e-6, err_msg=f"{k}, call {i}")
        np.testing.assert_allclose(float(out["loss"]), -np.mean(np.log(p[np.arange(4), y])), rtol=2e-5)
        dz = (p - np.eye(3)[y]) / 4
        np.testing.assert_allclose(np.asarray(w0[5].grad), dz.sum(0), rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(w0[4].grad), h2.T @ dz, rtol=2e-5, atol=1e-6)
        dh2 = dz @ W[4].T * (1 - h2 ** 2)
        np.testing.assert_allclose(np.asarray(w0[2].grad), h1.T @ dh2, rtol=2e-5, atol=1e-6)
        dh1 = dh2 @ W[2].T * h1 * (1 - h1)
        np.testing.assert_allclose(np.asarray(w0[0].grad), x.T @ dh1, rtol=2e-5, atol=1e-6)
    (plan,) = f.plans.values()
    assert f.stats()["replays"] == 3 and plan.arena_bytes < plan.unshared_bytes


def test_a_predict_step_under_no_grad_shares_and_stays_exact():
    w = tl.array(np.linspace(-1, 1, 40, dtype=np.float32).reshape(5, 8))

    @tl.no_grad()
    def predict(x):
        return tl.softmax(tl.relu(tl.exp(tl.tanh(x @ w)) - 1.5) * 2.0)

    # unfused: the elementwise chain rewrite would keep every intermediate in its chunk scratch,
    # leaving nothing to share (tests/test_capture_elementwise_chain.py checks that case)
    f = CapturedFunction(predict, fuse=False)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.normal(size=(3, 5)).astype(np.float32)
        got = np.asarray(f(x))
        a = np.maximum(np.exp(np.tanh(x @ np.asarray(w))) - 1.5, 0) * 2.0
        e = np.exp(a - a.max(1, keepdims=True))
        np.testing.assert_allclose(got, e / e.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)
    (plan,) = f.plans.values()
    assert plan.arena_bytes < plan.unshared_bytes


def test_trainer_fit_with_shared_arena_equals_eager():
    from tensorlet import layers, models

    def run(eager):
        tl.random.seed(7)
        m = models.Sequential([layers.Input((10,)), layers.Dense(16, activation="sigmoid"),
                               layers.Dense(16, activation="relu"), layers.Dense(4, activation="softmax")])
        m.compile(optimizer=optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], run_eagerly=eager)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(70, 10)).astype(np.float32)
        y = rng.integers(0, 4, size=70)
        h = m.fit(x, y, batch_size=16, epochs=2, verbose=0)
        if not eager:  # the metric updates (in-place ops re-run as ops) must not pin every buffer
            plan = next(iter(m.train_function.step.plans.values()))
            assert plan.arena_bytes < plan.unshared_bytes
        return h.history, m.get_weights(), m.predict(x, verbose=0)

    he, we, pe = run(True)
    hc, wc, pc = run(False)
    for k in he:
        np.testing.assert_allclose(hc[k], he[k], rtol=1e-5)
    for a, b in zip(wc, we):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pc, pe, rtol=1e-5, atol=1e-6)


def test_a_captured_functions_replay_moves_the_shared_buffers():
    """CapturedFunction's replays (capture.run) used to replay entry ranges only, which never move
    buffers: sharing was planned (arena_bytes shrank) but no buffer ever moved into the slab."""
    rng = np.random.default_rng(5)
    w = [tl.array(rng.normal(size=s).astype(np.float32), requires_grad=True) for s in [(6, 8), (8,), (8, 3), (3,)]]
    seen = []

    def step(x, y):
        for p in w:
            p.grad = None
        h = tl.tanh(tl.linear(x, w[0], w[1]))
        seen.append(h)  # an intermediate the step does not return: its buffer may move
        loss = tl.mean(tl.sparse_softmax_cross_entropy(tl.linear(h, w[2], w[3]), y))
        loss.backward()
        return loss

    f = CapturedFunction(step)
    data = [(rng.normal(size=(4, 6)).astype(np.float32), rng.integers(0, 3, 4)) for _ in range(4)]
    f(*data[0])
    f(*data[1])  # recorded: seen[-1] is the plan's buffer
    h = seen[-1]
    before = np.asarray(h).ctypes.data
    f(*data[2])  # the first replay moves shared buffers
    (plan,) = f.plans.values()
    assert plan.arena_bytes < plan.unshared_bytes
    assert np.asarray(h).ctypes.data != before
