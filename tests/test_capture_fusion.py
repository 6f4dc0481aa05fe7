"""Fusions as rewrites of a captured plan (csrc/capture/rewrite.h, Plan.fuse): a fused replay equals
the unfused replay and the eager steps on several models, and each rewrite fires where it should
(entry counts before / after), so a rewrite that silently stops firing fails here."""

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
#  dtype, rewrites expected to fire)
MODELS = [
    ("tanh-adam", [12, 16, 5], ["tanh", "linear"], True, None, "adam", np.float32,
     {"gemm_epilogue": 1, "activation_grad": 1, "mean_xent_grad": 1}),
    ("sigmoid-relu-sgd", [12, 16, 16, 16, 5], ["sigmoid", "relu!", "sigmoid", "linear"], True, None, "sgd",
     np.float32, {"gemm_epilogue": 2, "activation_grad": 3, "mean_xent_grad": 1}),
    ("relu-rmsprop", [12, 16, 5], ["relu!", "linear"], True, None, "rmsprop", np.float32,
     {"gemm_epilogue": 0, "activation_grad": 1, "mean_xent_grad": 1}),
    ("tanh-nobias-rmsprop", [12, 16, 5], ["tanh", "linear"], False, None, "rmsprop", np.float32,
     {"gemm_epilogue": 1, "activation_grad": 1, "mean_xent_grad": 1}),
    ("sigmoid-float64-adam", [12, 16, 5], ["sigmoid", "linear"], True, None, "adam", np.float64,
     {"gemm_epilogue": 1, "activation_grad": 1, "mean_xent_grad": 1}),
    ("dropout-relu-rmsprop", [12, 32, 5], ["relu!", "linear"], True, 0.3, "rmsprop", np.float32, None),
    ("dropout-tanh-adam", [12, 32, 16, 5], ["tanh", "tanh", "linear"], True, 0.3, "adam", np.float32, None),
]
ACTS = {"tanh": tl.tanh, "sigmoid": tl.sigmoid, "relu": tl.relu, "linear": lambda h: h}


def train(mode, sizes, acts, bias, rate, opt, dtype):
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
        loss = tl.mean(tl.sparse_softmax_cross_entropy(h, y))
        loss.backward()
        optimizer.apply(ws)
        return loss

    f = CapturedFunction(step, enabled=mode != "eager", fuse=mode == "fused")
    losses = [np.asarray(f(x, y)).copy() for x, y in batches(sizes[0], sizes[-1], 16, "sparse", dtype=dtype)]
    return f, ws, losses


@pytest.mark.parametrize("name,sizes,acts,bias,rate,opt,dtype,fired", MODELS, ids=[m[0] for m in MODELS])
def test_fused_replay_equals_unfused_replay_and_eager(name, sizes, acts, bias, rate, opt, dtype, fired):
    runs = {mode: train(mode, sizes, acts, bias, rate, opt, dtype) for mode in ("eager", "unfused", "fused")}
    f, ws_f, losses_f = runs["fused"]
    assert f.stats()["replays"] == STEPS - 2
    assert len(set(float(v) for v in losses_f)) == STEPS  # the steps really ran on new data
    for other in ("unfused", "eager"):
        _, ws_o, losses_o = runs[other]
        np.testing.assert_allclose(np.array(losses_f), np.array(losses_o), rtol=1e-6, atol=0)
        for a, b in zip(ws_f, ws_o):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(np.asarray(a.grad), np.asarray(b.grad), rtol=1e-6, atol=1e-7)
    if fired is not None:
        (fused_plan,), (plain,) = f.plans.values(), runs["unfused"][0].plans.values()
        assert f.fused == fired
        # each rewrite of two entries removes one; the relu mask rewrite replaces its entry in place
        removed = fired["gemm_epilogue"] + fired["mean_xent_grad"] + sum(a in ("tanh", "sigmoid") for a in acts)
        assert len(fused_plan) == len(plain) - removed
        assert fused_plan.lowered == len(fused_plan)  # MeanBackward0 no longer re-runs as its op


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
    assert set(plan.fuse([])) == {"gemm_epilogue", "activation_grad", "mean_xent_grad"}  # idempotent: nothing left
    assert all(n == 0 for n in plan.fuse([]).values())
