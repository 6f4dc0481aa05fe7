"""Captured steps (tensorlet.capture): N replayed steps equal N eager steps (weights, .grad, losses),
on several models built from ops; RNG and optimizer state advance per replay; re-capture on a new
signature; fallbacks."""

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import optimizers
from tensorlet.capture import CapturedFunction, captured
from tensorlet.layers import Dropout

STEPS = 6
ACTS = {"relu": tl.relu, "tanh": tl.tanh, "sigmoid": tl.sigmoid, "linear": lambda h: h}


def init_weights(sizes, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    out = []
    for k, n in zip(sizes[:-1], sizes[1:]):
        out.append(rng.normal(scale=0.3, size=(k, n)).astype(dtype))
        out.append(rng.normal(scale=0.1, size=n).astype(dtype))
    return out


def batches(n_in, n_out, batch, loss, steps=STEPS, seed=1, dtype=np.float32):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        x = rng.normal(size=(batch, n_in)).astype(dtype)
        if loss == "sparse":
            y = rng.integers(0, n_out, size=batch)
        elif loss == "onehot":
            y = np.eye(n_out, dtype=dtype)[rng.integers(0, n_out, size=batch)]
        else:
            y = rng.normal(size=(batch, n_out)).astype(dtype)
        out.append((x, y))
    return out


def make_step(ws, acts, loss, opt, dropout=None):
    """A hand-written train step: forward with tl.linear + activations (+ Dropout), the loss, a
    fresh backward, one optimizer step; returns the loss tensor."""
    def step(x, y):
        for w in ws:
            w.grad = None
        h = x
        for i, act in enumerate(acts):
            h = ACTS[act](tl.linear(h, ws[2 * i], ws[2 * i + 1]))
            if dropout is not None and i < len(acts) - 1:
                h = dropout(h, training=True)
        if loss == "sparse":
            per = tl.sparse_softmax_cross_entropy(h, y)
        elif loss == "onehot":
            per = tl.softmax_cross_entropy(h, y)
        else:
            per = tl.mean_squared_error(h, y)
        value = tl.mean(per)
        value.backward()
        opt.apply(ws)
        return value
    return step


def train(capture, sizes, acts, loss, make_opt, dropout_rate=None, batch=16, steps=STEPS):
    tl.random.seed(1234)
    ws = [tl.array(w, requires_grad=True) for w in init_weights(sizes)]
    opt = make_opt()
    drop = Dropout(dropout_rate) if dropout_rate else None
    f = CapturedFunction(make_step(ws, acts, loss, opt, drop), enabled=capture)
    losses = []
    for x, y in batches(sizes[0], sizes[-1], batch, loss, steps):
        losses.append(np.asarray(f(x, y)).copy())
    return f, ws, opt, losses


MODELS = [
    ("relu-sparse-rmsprop", [12, 16, 5], ["relu", "linear"], "sparse", lambda: optimizers.RMSprop(0.01), None),
    ("tanh-onehot-adam", [12, 16, 5], ["tanh", "linear"], "onehot", lambda: optimizers.Adam(0.01), None),
    ("sigmoid-relu-4-sgd-momentum", [12, 16, 16, 16, 5], ["sigmoid", "relu", "sigmoid", "linear"], "sparse",
     lambda: optimizers.SGD(0.1, momentum=0.9), None),
    ("relu-mse-sgd", [12, 8, 3], ["relu", "linear"], "mse", lambda: optimizers.SGD(0.05), None),
    ("dropout-rmsprop", [12, 32, 5], ["relu", "linear"], "sparse", lambda: optimizers.RMSprop(0.01), 0.3),
    ("dropout-tanh-adam", [12, 32, 16, 5], ["tanh", "tanh", "linear"], "onehot", lambda: optimizers.Adam(0.01), 0.3),
]


@pytest.mark.parametrize("name,sizes,acts,loss,make_opt,rate", MODELS, ids=[m[0] for m in MODELS])
def test_replayed_steps_equal_eager_steps(name, sizes, acts, loss, make_opt, rate):
    f_e, ws_e, opt_e, losses_e = train(False, sizes, acts, loss, make_opt, rate)
    f_c, ws_c, opt_c, losses_c = train(True, sizes, acts, loss, make_opt, rate)
    assert f_c.stats()["replays"] == STEPS - 2 and f_c.stats()["plans"] == 1
    assert f_e.stats()["plans"] == 0
    np.testing.assert_allclose(np.array(losses_c), np.array(losses_e), rtol=1e-6, atol=0)
    for a, b in zip(ws_c, ws_e):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(np.asarray(a.grad), np.asarray(b.grad), rtol=1e-6, atol=1e-7)
    assert opt_c.iterations == opt_e.iterations == STEPS
    assert len(set(float(v) for v in losses_c)) == STEPS  # the steps really ran on new data


def test_dropout_masks_differ_per_replay_and_follow_the_seed():
    drop = Dropout(0.5)

    def step(x):
        return drop(x, training=True) * 1.0

    def masks(capture):
        tl.random.seed(7)
        f = CapturedFunction(step, enabled=capture)
        x = np.ones((4, 64), np.float32)
        return [np.asarray(f(x)).copy() for _ in range(5)], f

    eager, _ = masks(False)
    replayed, f = masks(True)
    assert f.stats()["replays"] == 3
    for a, b in zip(eager, replayed):
        np.testing.assert_array_equal(a, b)
    assert all(not np.array_equal(replayed[i], replayed[i + 1]) for i in range(4))


def test_seeded_generator_advances_per_replay():
    gen = tl.random.Generator(3)
    f = CapturedFunction(lambda x: x + gen.uniform(size=(3,), dtype="float32"))
    outs = [np.asarray(f(np.zeros(3, np.float32))).copy() for _ in range(4)]
    ref = tl.random.Generator(3)
    for o in outs:
        np.testing.assert_array_equal(o, np.asarray(ref.uniform(size=(3,), dtype="float32")))


def test_learning_rate_changes_and_schedules_are_honoured():
    def run(capture, lr):
        ws = [tl.array(w, requires_grad=True) for w in init_weights([6, 4, 3])]
        opt = optimizers.SGD(lr)
        f = CapturedFunction(make_step(ws, ["relu", "linear"], "sparse", opt), enabled=capture)
        for i, (x, y) in enumerate(batches(6, 3, 8, "sparse", steps=5)):
            if not callable(lr):
                opt.learning_rate = 0.1 / (i + 1)  # a callback changing it between steps
            f(x, y)
        return [np.asarray(w) for w in ws], opt

    for lr in (0.1, lambda step: 0.2 * 0.5 ** step):
        (we, oe), (wc, oc) = run(False, lr), run(True, lr)
        assert oc.iterations == 5
        for a, b in zip(wc, we):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_new_signature_captures_again_and_partial_batches_match():
    def run(capture):
        ws = [tl.array(w, requires_grad=True) for w in init_weights([6, 8, 3])]
        opt = optimizers.Adam(0.01)
        f = CapturedFunction(make_step(ws, ["tanh", "linear"], "sparse", opt), enabled=capture)
        data = batches(6, 3, 8, "sparse", steps=12, seed=5)
        losses = []
        for epoch in range(4):  # 3 full batches and a partial one per epoch
            for x, y in data[epoch * 3:epoch * 3 + 3]:
                losses.append(float(f(x, y)))
            x, y = data[epoch]
            losses.append(float(f(x[:5], y[:5])))
        return f, losses, ws

    (fe, le, we), (fc, lc, wc) = run(False), run(True)
    assert fc.stats()["signatures"] == 2 and fc.stats()["plans"] == 2
    np.testing.assert_allclose(lc, le, rtol=1e-6)
    for a, b in zip(wc, we):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


def test_non_tensor_arguments_are_part_of_the_signature():
    calls = []

    def step(x, training):
        calls.append(training)
        return x * (2.0 if training else 3.0)

    f = CapturedFunction(step)
    x = np.ones(3, np.float32)
    for _ in range(3):
        np.testing.assert_array_equal(np.asarray(f(x, training=True)), [2, 2, 2])
        np.testing.assert_array_equal(np.asarray(f(x, training=False)), [3, 3, 3])
    assert calls == [True, False, True, False]  # eager, capture; then replays without Python
    assert f.stats()["plans"] == 2


def test_predict_step_under_no_grad_replays_new_inputs():
    ws = [tl.array(w) for w in init_weights([5, 7, 4])]

    @captured
    def predict(x):
        with tl.no_grad():
            return tl.softmax(tl.linear(tl.relu(tl.linear(x, ws[0], ws[1])), ws[2], ws[3]))

    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.normal(size=(3, 5)).astype(np.float32)
        h = np.maximum(x @ np.asarray(ws[0]) + np.asarray(ws[1]), 0) @ np.asarray(ws[2]) + np.asarray(ws[3])
        want = np.exp(h - h.max(1, keepdims=True))
        want /= want.sum(1, keepdims=True)
        np.testing.assert_allclose(np.asarray(predict(x)), want, rtol=1e-5)
    assert predict.stats()["replays"] == 2


def test_outputs_are_the_same_objects_with_new_data():
    f = CapturedFunction(lambda x: (tl.exp(x), {"s": tl.sum(x)}))
    outs = [f(np.full(2, v, np.float64)) for v in (0.0, 1.0, 2.0, 3.0)]
    assert outs[2][0] is outs[3][0] and outs[2][1]["s"] is outs[3][1]["s"]
    np.testing.assert_allclose(np.asarray(outs[3][0]), np.exp([3.0, 3.0]))
    assert float(outs[3][1]["s"]) == 6.0


def test_in_place_state_updates_replay():
    total = tl.zeros((), dtype="float64")
    count = tl.zeros((), dtype="int64")

    def update(x):
        total.__iadd__(tl.sum(x))
        count.__iadd__(1)
        return total

    f = CapturedFunction(update)
    for v in range(1, 6):
        f(np.full(3, float(v)))
    assert float(total) == 3 * (1 + 2 + 3 + 4 + 5) and int(count) == 5
    total.fill(0.0)  # a reset between epochs, outside the step
    f(np.ones(3))
    assert float(total) == 3.0


def test_error_in_the_step_propagates_and_capture_retries():
    fail = {"now": False}

    def step(x):
        y = tl.exp(x)
        if fail["now"]:
            raise KeyError("boom")
        return y

    f = CapturedFunction(step)
    x = np.zeros(2)
    f(x)
    fail["now"] = True
    with pytest.raises(KeyError):
        f(x)  # the capture call raises: nothing recorded
    assert f.stats()["plans"] == 0
    fail["now"] = False
    f(x)  # captures now
    np.testing.assert_allclose(np.asarray(f(np.ones(2))), np.exp([1, 1]))
    assert f.stats()["replays"] == 1


def test_op_errors_at_replay_propagate():
    f = CapturedFunction(lambda z, y: tl.sparse_softmax_cross_entropy(z, y))
    z = np.zeros((2, 3), np.float32)
    for _ in range(2):
        f(z, np.array([0, 1]))
    with pytest.raises(IndexError, match="label 7"):
        f(z, np.array([0, 7]))
    np.testing.assert_allclose(np.asarray(f(z, np.array([2, 2]))), np.log([3, 3]), rtol=1e-6)


def test_backward_into_an_existing_grad_is_refused_at_capture():
    w = tl.array(np.ones(3), requires_grad=True)

    def step(x):  # forgets to reset .grad: eager accumulates, a replay could not
        loss = tl.sum(w * x)
        loss.backward()
        return loss

    f = CapturedFunction(step)
    f(np.ones(3))
    with pytest.raises(RuntimeError, match="fresh gradients"):
        f(np.ones(3))


def test_data_dependent_shapes_fall_back_to_eager():
    f = CapturedFunction(lambda x: tl.sum(x[x > 0]))
    vals = [[1.0, -1.0, 2.0], [3.0, -1.0, 2.0], [1.0, 1.0, 1.0], [-1.0, -1.0, 5.0], [1.0, 2.0, 3.0], [4.0, 4.0, -4.0]]
    with pytest.warns(RuntimeWarning, match="eagerly"):
        for v in vals:
            assert float(f(np.array(v))) == sum(t for t in v if t > 0)


def test_weight_used_twice_gets_the_sum_of_both_gradients():
    def run(capture):
        w = tl.array(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True)

        def step(x):
            w.grad = None
            loss = tl.sum(tl.tanh(tl.matmul(tl.matmul(x, w), w)))
            loss.backward()
            return loss

        f = CapturedFunction(step, enabled=capture)
        rng = np.random.default_rng(2)
        for _ in range(4):
            f(rng.normal(size=(3, 2)))
        return np.asarray(w.grad)

    np.testing.assert_allclose(run(True), run(False), rtol=1e-12)


def test_disabled_runs_python_every_call():
    calls = []
    f = CapturedFunction(lambda x: calls.append(1) or x + 1, enabled=False)
    for _ in range(4):
        f(np.zeros(2))
    assert len(calls) == 4 and f.stats()["plans"] == 0


def test_non_tensor_results_run_eagerly_with_a_warning():
    f = CapturedFunction(lambda x: float(tl.sum(x)))
    f(np.ones(2))
    with pytest.warns(RuntimeWarning, match="not tensors"):
        assert f(np.ones(2)) == 2.0
    assert f(np.full(2, 3.0)) == 6.0


def test_plan_is_inspectable():
    ws = [tl.array(w, requires_grad=True) for w in init_weights([4, 3, 2])]
    opt = optimizers.RMSprop()
    f = CapturedFunction(make_step(ws, ["relu", "linear"], "sparse", opt))
    for x, y in batches(4, 2, 5, "sparse", steps=2):
        f(x, y)
    (plan,) = f.plans.values()
    assert plan.ops[:2] == ["linear", "relu"] and plan.ops[-1] == "rmsprop_step"
    assert plan.ops.count("leaf_grad") + plan.ops.count("leaf_grad_copy") == 4
    assert sum("Backward" in op for op in plan.ops) >= 4  # the nodes: mean, loss, two linear
    assert plan.arena_bytes > 0 and len(plan) == len(plan.ops)


def test_entries_replay_as_their_kernel_calls_where_those_rebuild_them():
    ws = [tl.array(w, requires_grad=True) for w in init_weights([4, 3, 2])]
    f = CapturedFunction(make_step(ws, ["relu", "linear"], "sparse", optimizers.RMSprop()))
    for x, y in batches(4, 2, 5, "sparse", steps=3):
        f(x, y)
    (plan,) = f.plans.values()
    lowered = set(plan.lowered_ops)
    assert {"linear", "relu", "sparse_softmax_cross_entropy", "mean", "AddmmBackward0", "leaf_grad",
            "rmsprop_step"} <= lowered
    assert plan.lowered == len(plan.lowered_ops) <= len(plan)


def test_in_place_ops_replay_as_ops_random_ops_draw_anew_and_match_eager():
    def run(capture):
        tl.random.seed(5)
        drop = Dropout(0.5)
        total = tl.zeros(3, dtype="float32")

        def step(x):
            total.__iadd__(x)  # writes a buffer from before the step: the op re-runs on replay
            return tl.sum(drop(x, training=True)) + tl.sum(total)

        f = CapturedFunction(step, enabled=capture)
        out = [float(f(np.full(3, i + 1, np.float32))) for i in range(5)]
        return f, out, np.asarray(total)

    f, captured_out, captured_total = run(True)
    _, eager_out, eager_total = run(False)
    assert captured_out == eager_out
    np.testing.assert_array_equal(captured_total, eager_total)
    (plan,) = f.plans.values()
    assert plan.ops[0] == "binary_inplace" and "binary_inplace" not in plan.lowered_ops
    # uniform replays as a fresh draw from its generator (new numbers each replay: the outputs
    # above), fused with the rest of Dropout's elementwise chain
    assert "uniform+binary_op+binary_op+full+where" in plan.lowered_ops
    assert "sum" in plan.lowered_ops


def test_a_bad_label_is_caught_before_the_lowered_kernel_reads_it():
    f = CapturedFunction(lambda z, y: tl.mean(tl.sparse_softmax_cross_entropy(z, y)))
    z = np.zeros((2, 3), np.float32)
    for _ in range(3):
        f(z, np.array([0, 1]))
    (plan,) = f.plans.values()
    assert "sparse_softmax_cross_entropy" in plan.lowered_ops
    for bad in (3, -1, 2**40):
        with pytest.raises(IndexError, match=f"label {bad} "):
            f(z, np.array([0, bad]))
    assert float(f(z, np.array([2, 2]))) == pytest.approx(np.log(3), rel=1e-6)


def test_data_checks_outside_kernels_still_run_on_replay():
    # int ** negative int is refused after reading the exponents (kernels::any_negative): the
    # entry must not replay as its power kernel alone.
    f = CapturedFunction(lambda a, b: a ** b)
    a = np.array([2, 3], np.int64)
    for _ in range(3):
        f(a, np.array([1, 2], np.int64))
    with pytest.raises(ValueError, match="negative"):
        f(a, np.array([1, -2], np.int64))
