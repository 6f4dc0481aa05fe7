"""Each optimizer's fused update against Keras 3's update rule written out in NumPy."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import optimizers

STEPS = 4
SHAPE = (5, 3)


def _grads(dtype, steps=STEPS, shape=SHAPE, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(dtype) for _ in range(steps)]


def _run(opt, w0, grads):
    w = tl.array(w0.copy())
    for g in grads:
        opt.apply([w], [tl.array(g)])
    return np.asarray(w)


# -- the Keras formulas, in the variable's precision -----------------------------------------
def keras_sgd(w, grads, lr, momentum=0.0, nesterov=False):
    dt = w.dtype.type
    w = w.copy()
    m = np.zeros_like(w)
    lr, mom = dt(lr), dt(momentum)
    for g in grads:
        if momentum != 0:
            m = m * mom - g * lr
            w = w + (m * mom - g * lr if nesterov else m)
        else:
            w = w - g * lr
    return w


def keras_rmsprop(w, grads, lr=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    dt = w.dtype.type
    w = w.copy()
    v, m, a = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        v = dt(rho) * v + dt(1 - rho) * np.square(g)
        if centered:
            a = dt(rho) * a + dt(1 - rho) * g
            denom = v - np.square(a) + dt(epsilon)
        else:
            denom = v + dt(epsilon)
        inc = (dt(lr) * g) / np.sqrt(denom)
        if momentum > 0:
            m = dt(momentum) * m + inc
            w = w - m
        else:
            w = w - inc
    return w


def keras_adam(w, grads, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    dt = w.dtype.type
    w = w.copy()
    m, v = np.zeros_like(w), np.zeros_like(w)
    for i, g in enumerate(grads):
        t = dt(i + 1)
        b1p, b2p = np.power(dt(beta_1), t), np.power(dt(beta_2), t)
        alpha = dt(lr) * np.sqrt(dt(1) - b2p) / (dt(1) - b1p)
        m = m + (g - m) * dt(1 - beta_1)
        v = v + (np.square(g) - v) * dt(1 - beta_2)
        w = w - (m * alpha) / (np.sqrt(v) + dt(epsilon))
    return w


CASES = [
    (lambda: optimizers.SGD(), lambda w, g: keras_sgd(w, g, 0.01)),
    (lambda: optimizers.SGD(0.1, momentum=0.9), lambda w, g: keras_sgd(w, g, 0.1, 0.9)),
    (lambda: optimizers.SGD(0.1, momentum=0.5, nesterov=True), lambda w, g: keras_sgd(w, g, 0.1, 0.5, True)),
    (lambda: optimizers.RMSprop(), lambda w, g: keras_rmsprop(w, g)),
    (lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.9), lambda w, g: keras_rmsprop(w, g, 0.01, 0.8, 0.9)),
    (lambda: optimizers.RMSprop(0.01, centered=True), lambda w, g: keras_rmsprop(w, g, 0.01, centered=True)),
    (lambda: optimizers.RMSprop(0.01, momentum=0.5, epsilon=1e-3, centered=True),
     lambda w, g: keras_rmsprop(w, g, 0.01, momentum=0.5, epsilon=1e-3, centered=True)),
    (lambda: optimizers.Adam(), lambda w, g: keras_adam(w, g)),
    (lambda: optimizers.Adam(0.05, beta_1=0.5, beta_2=0.9, epsilon=1e-4),
     lambda w, g: keras_adam(w, g, 0.05, 0.5, 0.9, 1e-4)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make,reference", CASES)
def test_update_matches_keras_formula(make, reference, dtype):
    w0 = np.random.default_rng(0).normal(size=SHAPE).astype(dtype)
    grads = _grads(dtype)
    got = _run(make(), w0, grads)
    want = reference(w0, grads)
    assert got.dtype == dtype
    rtol = 2e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-2)
    assert not np.allclose(got, w0)  # the update did something


def test_keras_docstring_example_rmsprop():
    # keras.optimizers.RMSprop(learning_rate=0.1) on loss = var**2 / 2 from 10.0 gives 9.683772
    var = tl.array(np.array([10.0], dtype=np.float32))
    opt = optimizers.RMSprop(learning_rate=0.1)
    opt.apply([var], [tl.array(np.asarray(var).copy())])
    np.testing.assert_allclose(np.asarray(var), [9.683772], rtol=1e-6)


def test_large_parameter_takes_the_parallel_path():
    w0 = np.random.default_rng(0).normal(size=(300, 400)).astype(np.float32)
    grads = _grads(np.float32, steps=2, shape=w0.shape)
    np.testing.assert_allclose(_run(optimizers.Adam(0.01), w0, grads), keras_adam(w0, grads, 0.01), rtol=2e-6,
                               atol=1e-8)


def test_uses_grad_attribute_and_skips_missing_gradients():
    w = tl.array(np.ones(3, np.float32), requires_grad=True)
    frozen = tl.array(np.ones(3, np.float32), requires_grad=True)
    loss = tl.sum(w * w)
    loss.backward()
    opt = optimizers.SGD(0.5)
    opt.apply([w, frozen])
    np.testing.assert_allclose(np.asarray(w), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(np.asarray(frozen), [1.0, 1.0, 1.0])
    assert opt.iterations == 1


def test_apply_gradients_keras_api_and_slots():
    w = tl.array(np.ones((2, 2), np.float32))
    opt = optimizers.Adam()
    opt.apply_gradients([(tl.array(np.ones((2, 2), np.float32)), w)])
    assert len(opt.variables) == 2 and opt.iterations == 1
    assert all(s.shape == (2, 2) for s in opt.variables)


def test_mismatched_gradient_is_a_value_error_naming_the_shapes():
    w = tl.array(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(3,2\).*\(2,3\)"):
        optimizers.RMSprop().apply([w], [tl.array(np.ones((3, 2), np.float32))])
    with pytest.raises(ValueError, match="float64.*float32"):
        optimizers.SGD().apply([w], [tl.array(np.ones((2, 3), np.float64))])


@pytest.mark.parametrize("name,cls", [("sgd", optimizers.SGD), ("RMSprop", optimizers.RMSprop),
                                      ("adam", optimizers.Adam)])
def test_get_by_name(name, cls):
    assert type(optimizers.get(name)) is cls


_NO_CLIP = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None}


def test_keras_defaults():
    assert optimizers.RMSprop().get_config() == {"name": "rmsprop", "learning_rate": 0.001, "rho": 0.9,
                                                 "momentum": 0.0, "epsilon": 1e-7, "centered": False, **_NO_CLIP}
    assert optimizers.Adam().get_config() == {"name": "adam", "learning_rate": 0.001, "beta_1": 0.9,
                                              "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False, **_NO_CLIP}
    assert optimizers.SGD().get_config() == {"name": "SGD", "learning_rate": 0.01, "momentum": 0.0,
                                             "nesterov": False, **_NO_CLIP}


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'sgd', 'rmsprop', 'adam'"):
        optimizers.get("adagrd")


@pytest.mark.parametrize("make", [lambda: optimizers.SGD(momentum=1.5), lambda: optimizers.RMSprop(rho=-0.1),
                                  lambda: optimizers.Adam(beta_1=1.0), lambda: optimizers.SGD(learning_rate="x"),
                                  lambda: optimizers.Adam(learning_rate=float("nan"))])
def test_bad_hyperparameters_are_value_errors(make):
    with pytest.raises(ValueError):
        make()


def test_learning_rate_schedule_callable():
    w = tl.array(np.zeros(1, np.float64))
    opt = optimizers.SGD(learning_rate=lambda step: 1.0 / (step + 1))
    for _ in range(3):
        opt.apply([w], [tl.array(np.ones(1, np.float64))])
    np.testing.assert_allclose(np.asarray(w), [-(1 + 1 / 2 + 1 / 3)])


def test_learning_rate_assign_as_keras():
    from tensorlet import optimizers
    opt = optimizers.Adam(1e-3)
    lr = opt.learning_rate
    assert isinstance(lr, float) and float(lr) == 1e-3 and lr.numpy() == np.float32(1e-3)
    lr.assign(1e-4)
    assert float(opt.learning_rate) == 1e-4
    w = tl.ones((3,))
    w.requires_grad = True
    opt.build([w])
    (w * 2.0).sum().backward()
    opt.apply([w])
    # Adam's first step moves each weight by the rate (m/sqrt(v) = 1), so the assigned rate is used.
    np.testing.assert_allclose(np.asarray(w), 1 - 1e-4, rtol=1e-5)
    with pytest.raises(ValueError):
        opt.learning_rate.assign(-1.0)
    sched = optimizers.Adam(optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(TypeError):
        sched.learning_rate.assign(0.2)
