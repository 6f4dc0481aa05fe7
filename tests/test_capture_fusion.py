"""Fusions as rewrites of a captured plan (csrc/capture/rewrite.h, Plan.fuse): a fused replay equals
the unfused replay and the eager steps on several models, and each rewrite fires where it should
(entry counts before / after), so a rewrite that silently stops firing fails here."""

from collections import Counter

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import optimizers
from tensorlet.capture import CapturedFunction
from tensorlet.layers import Dropout
from test_capture import STEPS, batches, init_weights

OPTS = {"rmsprop": lambda: optimizers.RMSprop(0.01), "adam": lambda: optimizers.Adam(0.01),
        "sgd": lambda: optimizers.SGD(0.1, momentum=0.9)}
# (name, sizes, activations ("relu!" is tl.linear(..., activation="relu")), bias, dropout, optimizer,
#  dtype, loss, rewrites expected to fire)
MODELS = [
    ("tanh-adam", [12, 16, 5], ["tanh", "linear"], True, None, "adam", np.float32, "sparse", (1, 1, 1, 0, 0)),
    ("sigmoid-relu-sgd", [12, 16, 16, 16, 5], ["sigmoid", "relu!", "sigmoid", "linear"], True, None, "sgd",
     np.float32, "sparse", (2, 3, 1, 0, 0)),
    ("relu-rmsprop", [12, 16, 5], ["relu!", "linear"], True, None, "rmsprop", np.float32, "sparse", (0, 1, 1, 0, 0)),
    ("tanh-nobias-rmsprop", [12, 16, 5], ["tanh", "linear"], False, None, "rmsprop", np.float32, "sparse",
     (1, 1, 1, 0, 0)),
    ("sigmoid-float64-adam", [12, 16, 5], ["sigmoid", "linear"], True, None, "adam", np.float64, "sparse",
     (1, 1, 1, 0, 0)),
    ("tanh-mse-sgd", [12, 16, 5], ["tanh", "linear"], True, None, "sgd", np.float32, "mse", (1, 1, 0, 1, 1)),
    ("dropout-relu-rmsprop", [12, 32, 5], ["relu!", "linear"], True, 0.3, "rmsprop", np.float32, "sparse",
     (0, 1, 1, 0, 2)),
    ("dropout-tanh-adam", [12, 32, 16, 5], ["tanh", "tanh", "linear"], True, 0.3, "adam", np.float32, "sparse",
     (2, 2, 1, 0, 4)),
]
# the last column: how often gemm_epilogue, activation_grad, mean_xent_grad, mean_grad and
# elementwise_chain fire
ACTS = {"tanh": tl.tanh, "sigmoid": tl.sigmoid, "relu": tl.relu, "linear": lambda h: h}


def train(mode, sizes, acts, bias, rate, opt, dtype, loss="sparse"):
    """mode: "eager", "fused" or "unfused"; returns the function, weights and per-step losses."""
    tl.random.seed(1234)
    ws = [tl.array(w, requires_grad=True) for w in init_weights(sizes, dtype=dtype)]
    if not bias:
        ws = [w for i, w in enumerate(ws) if i % 2 == 0]
    optimizer = OPTS[opt]()
    drop = Dropout(rate) if rate else None

    def step(x, y):
        for w in ws:
            w.grad = None
        h = x
        for i, a in enumerate(acts):
            w, b = (ws[2 * i], ws[2 * i + 1]) if bias else (ws[i], None)
            h = tl.linear(h, w, b, activation="relu") if a == "relu!" else ACTS[a](tl.linear(h, w, b))
            if drop is not None and i < len(acts) - 1:
                h = drop(h, training=True)
        per = tl.sparse_softmax_cross_entropy(h, y) if loss == "sparse" else tl.mean_squared_error(h, y)
        value = tl.mean(per)
        value.backward()
        optimizer.apply(ws)
        return value

    f = CapturedFunction(step, enabled=mode != "eager", fuse=mode == "fused")
    losses = [np.asarray(f(x, y)).copy() for x, y in batches(sizes[0], sizes[-1], 16, loss, dtype=dtype)]
    return f, ws, losses


@pytest.mark.parametrize("name,sizes,acts,bias,rate,opt,dtype,loss,fired", MODELS, ids=[m[0] for m in MODELS])
def test_fused_replay_equals_unfused_replay_and_eager(name, sizes, acts, bias, rate, opt, dtype, loss, fired):
    runs = {mode: train(mode, sizes, acts, bias, rate, opt, dtype, loss) for mode in ("eager", "unfused", "fused")}
    f, ws_f, losses_f = runs["fused"]
    assert f.stats()["replays"] == STEPS - 2
    assert len(set(float(v) for v in losses_f)) == STEPS  # the steps really ran on new data
    for other in ("unfused", "eager"):
        _, ws_o, losses_o = runs[other]
        np.testing.assert_allclose(np.array(losses_f), np.array(losses_o), rtol=1e-6, atol=0)
        for a, b in zip(ws_f, ws_o):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(np.asarray(a.grad), np.asarray(b.grad), rtol=1e-6, atol=1e-7)
    (fused_plan,), (plain,) = f.plans.values(), runs["unfused"][0].plans.values()
    epilogue, act_grad, mean_xent, mean, chains = fired
    assert f.fused == {"gemm_epilogue": epilogue, "activation_grad": act_grad, "mean_xent_grad": mean_xent,
                       "mean_grad": mean, "elementwise_chain": chains}
    # each rewrite of two entries removes one (the relu mask and mean_grad rewrite one entry in
    # place); each Dropout's forward chain (uniform, <, *, zeros, where) becomes one entry and its
    # backward (WhereBackward0, MulBackward0) another, mean_squared_error's MulBackward0 + add one
    removed = epilogue + mean_xent + sum(a in ("tanh", "sigmoid") for a in acts)
    removed += (4 + 1) * (len(acts) - 1 if rate else 0) + (loss == "mse")
    assert len(fused_plan) == len(plain) - removed
    # the full mean's MeanBackward0 no longer re-runs as its op (mean_squared_error's own mean over
    # the last axis still does)
    def as_op(plan):
        return (Counter(plan.ops) - Counter(plan.lowered_ops))["MeanBackward0"]
    assert as_op(fused_plan) == as_op(plain) - 1 == (1 if loss == "mse" else 0)


def test_rewrites_keep_what_the_step_returns():
    """The pre-activation is returned: the epilogue rewrite must not drop its write; nor the
    activation's gradient when a hook-free .grad needs it, so only what is provably dead fuses."""
    rng = np.random.default_rng(0)
    w = tl.array(rng.normal(size=(6, 4)).astype(np.float32), requires_grad=True)
    b = tl.array(rng.normal(size=4).astype(np.float32), requires_grad=True)

    def step(x, y):
        w.grad = b.grad = None
        z = tl.linear(x, w, b)
        loss = tl.mean(tl.sparse_softmax_cross_entropy(tl.tanh(z), y))
        loss.backward()
        return loss, z

    f = CapturedFunction(step)
    data = batches(6, 4, 8, "sparse")
    for x, y in data:
        loss, z = f(x, y)
        np.testing.assert_allclose(np.asarray(z), x @ np.asarray(w) + np.asarray(b), rtol=1e-5, atol=1e-6)
    assert f.fused["gemm_epilogue"] == 0 and f.fused["activation_grad"] == 1


def test_plan_fuse_reports_each_rewrite():
    f, _, _ = train("fused", [12, 16, 5], ["tanh", "linear"], True, None, "sgd", np.float32)
    (plan,) = f.plans.values()
    assert "linear+tanh" in plan.ops and "TanhBackward0+AddmmBackward0" in plan.ops
    assert "MeanBackward0+SparseSoftmaxCrossEntropyBackward0" in plan.ops
    assert "tanh" not in plan.ops and "MeanBackward0" not in plan.ops
    assert set(plan.fuse([])) == {"gemm_epilogue", "activation_grad", "mean_xent_grad", "mean_grad",
                                  "elementwise_chain"}
    assert all(n == 0 for n in plan.fuse([]).values())  # idempotent: nothing left to fuse


def test_keras_fit_fused_equals_eager():
    """model.fit's captured train step (the trainer's loss and metric ops around the layers) fuses
    and trains as run_eagerly=True does."""
    from tensorlet import layers, models

    def fit(eager):
        tl.random.seed(0)
        m = models.Sequential([layers.Input((8,)), layers.Dense(16, activation="tanh"),
                               layers.Dense(16, activation="sigmoid"), layers.Dense(3, activation="softmax")])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], run_eagerly=eager)
        rng = np.random.default_rng(0)
        x, y = rng.random((96, 8), dtype=np.float32), rng.integers(0, 3, 96)
        hist = m.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        return m, hist.history

    m_c, h_c = fit(False)
    m_e, h_e = fit(True)
    fused = m_c.train_function.step.fused
    assert fused["gemm_epilogue"] == 2 and fused["activation_grad"] == 2
    np.testing.assert_allclose(h_c["loss"], h_e["loss"], rtol=1e-5)
    for a, b in zip(m_c.get_weights(), m_e.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("act", ["relu!", "tanh", "sigmoid"])
def test_fused_sweep_split_over_threads_gives_the_one_thread_bits(act):
    """A layer wide enough (16 x 2048) that the fused activation-gradient / bias sweep splits its
    columns over the pool: two threads give one thread's bits (each column sums its rows in
    order), and both equal eager."""
    sizes, acts = [12, 2048, 5], [act, "linear"]
    prev = tl.get_num_threads()
    got = {}
    try:
        for threads in (1, 2):
            tl.set_num_threads(threads)
            f, ws, losses = train("fused", sizes, acts, True, None, "sgd", np.float32)
            (plan,) = f.plans.values()
            assert any(op.startswith(("AddmmBackward0+relu", "TanhBackward0+", "SigmoidBackward0+")) for op in plan.ops)
            got[threads] = [np.asarray(w).copy() for w in ws] + [np.asarray(w.grad).copy() for w in ws] + losses
        _, ws_e, losses_e = train("eager", sizes, acts, True, None, "sgd", np.float32)
    finally:
        tl.set_num_threads(prev)
    for a, b in zip(got[1], got[2]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(got[2], [np.asarray(w) for w in ws_e] + [np.asarray(w.grad) for w in ws_e] + losses_e):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
