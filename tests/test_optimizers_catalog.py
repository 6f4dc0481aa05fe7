"""AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion, amsgrad, weight decay and gradient clipping
against Keras 3's formulas written out in NumPy float64, over several steps; and the same
optimizers inside a captured train step equal to the eager one."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import optimizers
from tensorlet.optimizers import schedules

STEPS = 5


def _grads(shape=(4, 3), steps=STEPS, seed=2):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(steps)]


# -- NumPy float64 references (one variable; `pre` applies clipping to the gradient) ----------
def np_adam(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    s.setdefault("m", np.zeros_like(w)), s.setdefault("v", np.zeros_like(w)), s.setdefault("vh", np.zeros_like(w))
    alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    s["m"] += (g - s["m"]) * (1 - beta_1)
    s["v"] += (g * g - s["v"]) * (1 - beta_2)
    v = s["v"]
    if amsgrad:
        s["vh"] = np.maximum(s["vh"], v)
        v = s["vh"]
    return w - s["m"] * alpha / (np.sqrt(v) + epsilon)


def np_adagrad(w, g, s, t, lr, initial_accumulator_value=0.1, epsilon=1e-7):
    s.setdefault("a", np.full_like(w, initial_accumulator_value))
    s["a"] += g * g
    return w - lr * g / np.sqrt(s["a"] + epsilon)


def np_adadelta(w, g, s, t, lr, rho=0.95, epsilon=1e-7):
    s.setdefault("a", np.zeros_like(w)), s.setdefault("d", np.zeros_like(w))
    s["a"] = rho * s["a"] + (1 - rho) * g * g
    delta = -np.sqrt(s["d"] + epsilon) * g / np.sqrt(s["a"] + epsilon)
    s["d"] = rho * s["d"] + (1 - rho) * delta * delta
    return w + lr * delta


def np_adamax(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    s.setdefault("m", np.zeros_like(w)), s.setdefault("u", np.zeros_like(w))
    s["m"] += (g - s["m"]) * (1 - beta_1)
    s["u"] = np.maximum(beta_2 * s["u"], np.abs(g))
    return w - lr * s["m"] / ((1 - beta_1 ** t) * (s["u"] + epsilon))


def np_nadam(w, g, s, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    s.setdefault("m", np.zeros_like(w)), s.setdefault("v", np.zeros_like(w)), s.setdefault("up", 1.0)
    u_t = beta_1 * (1 - 0.5 * 0.96 ** t)
    u_t1 = beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
    s["up"] *= u_t
    s["m"] += (g - s["m"]) * (1 - beta_1)
    s["v"] += (g * g - s["v"]) * (1 - beta_2)
    m_hat = u_t1 * s["m"] / (1 - s["up"] * u_t1) + (1 - u_t) * g / (1 - s["up"])
    v_hat = s["v"] / (1 - beta_2 ** t)
    return w - m_hat * lr / (np.sqrt(v_hat) + epsilon)


def np_lion(w, g, s, t, lr, beta_1=0.9, beta_2=0.99):
    s.setdefault("m", np.zeros_like(w))
    w = w - lr * np.sign(s["m"] * beta_1 + g * (1 - beta_1))
    s["m"] = s["m"] * beta_2 + g * (1 - beta_2)
    return w


def np_sgd(w, g, s, t, lr, momentum=0.0):
    s.setdefault("m", np.zeros_like(w))
    if momentum:
        s["m"] = s["m"] * momentum - g * lr
        return w + s["m"]
    return w - g * lr


def run_reference(rule, ws, grad_lists, lr, weight_decay=None, clip=None, schedule=None, **kw):
    """Keras's apply: clip the gradients, decay the weights, update, count the step."""
    ws = [w.copy() for w in ws]
    states = [{} for _ in ws]
    shared = {}
    for step, grads in enumerate(grad_lists):
        rate = schedule(step) if schedule else lr
        if clip and clip[0] == "clipnorm":
            grads = [g * clip[1] / max(np.sqrt(np.sum(g * g)), clip[1]) for g in grads]
        elif clip and clip[0] == "global_clipnorm":
            norm = np.sqrt(sum(np.sum(g * g) for g in grads))
            grads = [g * clip[1] * min(1 / norm, 1 / clip[1]) for g in grads]
        elif clip and clip[0] == "clipvalue":
            grads = [np.clip(g, -clip[1], clip[1]) for g in grads]
        if weight_decay is not None:
            ws = [w - w * weight_decay * rate for w in ws]
        for i, g in enumerate(grads):
            if rule is np_nadam:  # Nadam's momentum product advances once per step, for all variables
                states[i]["up"] = shared.get("up", 1.0)
            ws[i] = rule(ws[i], g, states[i], step + 1, rate, **kw)
        if rule is np_nadam:
            shared["up"] = states[0]["up"]
    return ws


def run_tensorlet(opt, ws, grad_lists):
    vs = [tl.array(w.copy()) for w in ws]
    for grads in grad_lists:
        opt.apply(vs, [tl.array(g) for g in grads])
    assert opt.iterations == len(grad_lists)
    return [np.asarray(v) for v in vs]


RULES = [
    ("adamw", lambda **k: optimizers.AdamW(0.01, **k), np_adam, {"weight_decay": 0.004}),
    ("adam_amsgrad", lambda **k: optimizers.Adam(0.01, amsgrad=True, **k), np_adam, {"amsgrad": True}),
    ("adamw_amsgrad", lambda **k: optimizers.AdamW(0.01, weight_decay=0.1, amsgrad=True, **k), np_adam,
     {"weight_decay": 0.1, "amsgrad": True}),
    ("adagrad", lambda **k: optimizers.Adagrad(0.05, **k), np_adagrad, {}),
    ("adadelta", lambda **k: optimizers.Adadelta(0.5, **k), np_adadelta, {}),
    ("adamax", lambda **k: optimizers.Adamax(0.01, **k), np_adamax, {}),
    ("nadam", lambda **k: optimizers.Nadam(0.01, **k), np_nadam, {}),
    ("lion", lambda **k: optimizers.Lion(0.01, **k), np_lion, {}),
    ("adam_fused", lambda **k: optimizers.Adam(0.01, **k), np_adam, {}),
    ("sgd_fused", lambda **k: optimizers.SGD(0.1, momentum=0.9, **k), np_sgd, {"momentum": 0.9}),
]
CLIPS = [None, ("clipnorm", 1.5), ("global_clipnorm", 2.0), ("clipvalue", 0.5)]


def _reference_args(extra):
    extra = dict(extra)
    return extra.pop("weight_decay", None), extra


@pytest.mark.parametrize("clip", CLIPS, ids=["noclip", "clipnorm", "global_clipnorm", "clipvalue"])
@pytest.mark.parametrize("name,make,rule,extra", RULES, ids=[r[0] for r in RULES])
def test_steps_equal_the_keras_formula_in_float64(name, make, rule, extra, clip):
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=(4, 3)), rng.normal(size=(3,))]
    grad_lists = list(zip(_grads((4, 3), seed=1), _grads((3,), seed=2)))
    kwargs = {clip[0]: clip[1]} if clip else {}
    opt = make(**kwargs)
    weight_decay, ref_kw = _reference_args(extra)
    expected = run_reference(rule, ws, grad_lists, opt.learning_rate, weight_decay, clip, **ref_kw)
    got = run_tensorlet(opt, ws, grad_lists)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make,rule", [(lambda s: optimizers.Nadam(s), np_nadam),
                                       (lambda s: optimizers.SGD(s), np_sgd),
                                       (lambda s: optimizers.AdamW(s, weight_decay=0.5), np_adam)])
def test_a_schedule_gives_each_step_its_rate(make, rule):
    schedule = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    ws = [np.linspace(-1, 1, 6)]
    grad_lists = [[g] for g in _grads((6,), seed=4)]
    opt = make(schedule)
    wd = 0.5 if isinstance(opt, optimizers.AdamW) else None
    expected = run_reference(rule, ws, grad_lists, None, wd, None, schedule=schedule)
    np.testing.assert_allclose(run_tensorlet(opt, ws, grad_lists)[0], expected[0], rtol=1e-12)


@pytest.mark.parametrize("make", [lambda: optimizers.SGD(0.1, weight_decay=0.5),  # decay by tensor ops
                                  lambda: optimizers.AdamW(0.1, weight_decay=0.5)])  # decay in the kernel
def test_weight_decay_skips_excluded_variables_and_variables_without_gradient(make):
    opt = make()  # zero gradients: SGD and Adam leave the weights alone, only the decay acts
    a, b, c = tl.ones((2,), dtype="float64"), tl.ones((2,), dtype="float64"), tl.ones((2,), dtype="float64")
    opt.exclude_from_weight_decay(var_list=[b])
    opt.apply([a, b, c], [tl.zeros((2,), dtype="float64"), tl.zeros((2,), dtype="float64"), None])
    np.testing.assert_array_equal(np.asarray(a), [0.95, 0.95])
    np.testing.assert_array_equal(np.asarray(b), [1.0, 1.0])
    np.testing.assert_array_equal(np.asarray(c), [1.0, 1.0])


def test_float32_variables_step_in_float32():
    opt = optimizers.Lion(0.25)
    w = tl.zeros((3,), dtype="float32")
    opt.apply([w], [tl.array(np.array([1.0, -2.0, 0.0], np.float32))])
    assert w.dtype == tl.float32
    np.testing.assert_array_equal(np.asarray(w), [-0.25, 0.25, 0.0])


@pytest.mark.parametrize("bad", [
    lambda: optimizers.Adam(clipnorm=1.0, global_clipnorm=1.0),
    lambda: optimizers.AdamW(weight_decay=None),
    lambda: optimizers.Lion(beta_1=0.0),
    lambda: optimizers.Adagrad(epsilon=-1.0),
    lambda: optimizers.Nadam(beta_2=1.0),
    lambda: optimizers.SGD(clipvalue=float("nan")),
])
def test_bad_hyperparameters_are_refused(bad):
    with pytest.raises(ValueError):
        bad()


def test_mismatched_gradient_is_refused_before_any_write():
    opt = optimizers.Adagrad(0.1)
    a, b = tl.ones((2,), dtype="float64"), tl.ones((3,), dtype="float64")
    with pytest.raises(ValueError, match=r"Adagrad.apply: .*grad 1 has shape \(2,\) but param 1 has shape \(3,\)"):
        opt.apply([a, b], [tl.ones((2,), dtype="float64"), tl.ones((2,), dtype="float64")])
    np.testing.assert_array_equal(np.asarray(a), [1.0, 1.0])
    assert opt.iterations == 0


@pytest.mark.parametrize("name", ["adamw", "adagrad", "adadelta", "adamax", "nadam", "lion"])
def test_by_name_and_config_round_trip(name):
    opt = optimizers.get(name)
    clone = type(opt).from_config(opt.get_config())
    assert clone.get_config() == opt.get_config()


def test_schedule_config_round_trip():
    opt = optimizers.Adam(schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=3))
    clone = optimizers.Adam.from_config(opt.get_config())
    assert [clone.learning_rate] == [opt.learning_rate] and isinstance(clone._learning_rate, schedules.CosineDecay)


@pytest.mark.parametrize("name,make,rule,extra", RULES, ids=[r[0] for r in RULES])
def test_a_captured_step_replays_the_same_updates(name, make, rule, extra):
    from tensorlet.capture import CapturedFunction

    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(4, 3))
    grad_lists = [[g] for g in _grads((4, 3), seed=5)]
    opt = make(clipnorm=1.0)
    w = tl.array(w0.copy())

    def step(g):
        opt.apply([w], [g])
        return g

    captured = CapturedFunction(step)
    for (g,) in grad_lists:
        captured(g)
    assert captured.stats()["replays"] == len(grad_lists) - 2  # eager, recorded, then replays
    weight_decay, ref_kw = _reference_args(extra)
    expected = run_reference(rule, [w0], grad_lists, opt.learning_rate, weight_decay, ("clipnorm", 1.0), **ref_kw)
    np.testing.assert_allclose(np.asarray(w), expected[0], rtol=1e-12, atol=1e-14)
    assert opt.iterations == len(grad_lists)


def test_nadam_momentum_product_follows_iterations_and_pickle():
    import pickle

    opt = optimizers.Nadam(0.01)
    w = tl.array(np.ones(3))
    for _ in range(3):
        opt.apply([w], [tl.array(np.full(3, 0.5))])
    product = np.prod([0.9 * (1 - 0.5 * 0.96 ** t) for t in (1, 2, 3)])
    assert opt._state.u_product == pytest.approx(product, rel=1e-15)
    assert pickle.loads(pickle.dumps(opt))._state.u_product == opt._state.u_product
    fresh = optimizers.Nadam(0.01)
    fresh.iterations = 3
    assert fresh._state.u_product == pytest.approx(product, rel=1e-15)


def test_an_overridden_update_of_a_fused_catalog_optimizer_must_be_its_own():
    class Custom(optimizers.Adagrad):
        def _update(self, var, grad, slots, lr):
            super()._update(var, grad, slots, lr)

    with pytest.raises(NotImplementedError, match="one fused call"):
        Custom(0.1).apply([tl.array(np.ones(2))], [tl.array(np.ones(2))])


def test_a_schedule_cannot_be_replaced_by_a_number():
    opt = optimizers.SGD(schedules.ExponentialDecay(0.1, 2, 0.5))
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.5
    opt.learning_rate = schedules.InverseTimeDecay(0.1, 2, 0.5)  # another schedule is fine
    assert opt.learning_rate == pytest.approx(0.1)


@pytest.mark.parametrize("clip", [{"clipnorm": 0.1}, {"global_clipnorm": 0.1}, {"clipvalue": 0.1}])
def test_clipping_in_the_kernel_leaves_the_gradients_alone(clip):
    w = tl.array(np.zeros(2))
    g = tl.array(np.array([3.0, -4.0]))
    optimizers.Adagrad(1.0, initial_accumulator_value=0.0, epsilon=0.0, **clip).apply([w], [g])
    np.testing.assert_array_equal(np.asarray(g), [3.0, -4.0])
    # Adagrad with a zero start and epsilon: each element moves by -lr * sign(clipped g)
    np.testing.assert_allclose(np.asarray(w), [-1.0, 1.0])


def test_global_norm_of_nan_gives_nan_as_keras():
    w = tl.array(np.ones(2))
    optimizers.SGD(0.1, global_clipnorm=1.0).apply([w], [tl.array(np.array([np.nan, 1.0]))])
    assert np.isnan(np.asarray(w)).all()
    w = tl.array(np.ones(2))
    optimizers.Lion(0.1, global_clipnorm=1.0).apply([w], [tl.array(np.array([np.inf, 1.0]))])
    assert np.isnan(np.asarray(w)).all()
