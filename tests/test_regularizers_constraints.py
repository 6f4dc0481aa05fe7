"""Regularizers and constraints: Keras 3's formulas against NumPy float64, gradients by finite
differences, and their place in training (penalties in the loss, constraints after each step),
captured as well as eager."""
import warnings

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import constraints, keras, layers, models, optimizers, regularizers, utils
from tensorlet.capture import CapturedFunction

from gradcheck import gradcheck

W = np.array([[0.5, -1.5, 2.0], [-0.25, 0.0, 1.0]])


@pytest.mark.parametrize("reg,expected", [
    (regularizers.L1(0.1), 0.1 * np.abs(W).sum()),
    (regularizers.L2(0.2), 0.2 * np.square(W).sum()),
    (regularizers.L1L2(0.1, 0.2), 0.1 * np.abs(W).sum() + 0.2 * np.square(W).sum()),
    (regularizers.get("l2"), 0.01 * np.square(W).sum()),
    (regularizers.l1_l2(l1=0.3), 0.3 * np.abs(W).sum()),
])
def test_penalties(reg, expected):
    assert float(reg(tl.array(W))) == pytest.approx(expected, rel=1e-14)


def test_orthogonal_regularizer():
    rows = W / np.linalg.norm(W, axis=1, keepdims=True)
    product = rows @ rows.T
    expected = 0.5 * np.abs(product - np.diag(np.diag(product))).sum() / 2.0  # 2 rows: 1 pair, factor 0.5
    assert float(regularizers.OrthogonalRegularizer(0.5)(tl.array(W))) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("reg", [regularizers.L1(0.1), regularizers.L2(0.2), regularizers.L1L2(0.1, 0.2),
                                 regularizers.OrthogonalRegularizer(0.3, mode="columns")])
def test_penalty_gradients(reg):
    gradcheck(lambda w: reg(w), W + 0.01)  # away from |x|'s kink at 0


@pytest.mark.parametrize("con,expected", [
    (constraints.MaxNorm(1.0), W * (np.minimum(np.linalg.norm(W, axis=0), 1.0) / (1e-7 + np.linalg.norm(W, axis=0)))),
    (constraints.NonNeg(), np.where(W >= 0, W, 0.0)),
    (constraints.UnitNorm(axis=1), W / (1e-7 + np.linalg.norm(W, axis=1, keepdims=True))),
    (constraints.MinMaxNorm(0.5, 1.0, rate=0.5),
     W * ((0.5 * np.clip(np.linalg.norm(W, axis=0), 0.5, 1.0) + 0.5 * np.linalg.norm(W, axis=0))
          / (1e-7 + np.linalg.norm(W, axis=0)))),
])
def test_constraints(con, expected):
    np.testing.assert_allclose(np.asarray(con(tl.array(W))), expected, rtol=1e-14)


@pytest.mark.parametrize("module,obj", [(regularizers, regularizers.L1L2(0.1, 0.2)),
                                        (constraints, constraints.MinMaxNorm(0.1, 2.0, 0.5, axis=1))])
def test_serialize_round_trip(module, obj):
    clone = module.get(module.serialize(obj))
    assert type(clone) is type(obj) and clone.get_config() == obj.get_config()


@pytest.mark.parametrize("bad", [lambda: regularizers.L2(-1.0), lambda: regularizers.get("l3"),
                                 lambda: constraints.MaxNorm(float("inf")), lambda: constraints.get("positive"),
                                 lambda: regularizers.OrthogonalRegularizer(mode="diag"),
                                 lambda: regularizers.OrthogonalRegularizer()(tl.ones((2, 2, 2)))])
def test_bad_arguments_are_value_errors(bad):
    with pytest.raises(ValueError):
        bad()


def test_layer_losses_and_the_reported_loss_include_the_penalties():
    dense = layers.Dense(3, kernel_regularizer="l2", bias_regularizer=regularizers.L1(0.5),
                         activity_regularizer=regularizers.L1(0.25), bias_initializer="ones")
    model = models.Sequential([dense])
    x = np.linspace(-1, 1, 8).reshape(4, 2)
    y = np.zeros((4, 3))
    out = np.asarray(model(x))
    kernel = dense.get_weights()[0].astype(np.float64)
    penalties = [float(p) for p in model.losses]
    assert penalties == pytest.approx([0.01 * np.square(kernel).sum(), 0.5 * 3.0, 0.25 * np.abs(out).sum() / 4],
                                      rel=1e-6)
    model.compile(optimizer="sgd", loss="mse")
    loss = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(np.mean(np.square(out)) + sum(penalties), rel=1e-6)


def test_keras_config_lists_them():
    config = layers.Dense(2, kernel_regularizer=regularizers.L2(0.5), kernel_constraint="non_neg").get_config()
    assert config["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 0.5}}
    assert config["kernel_constraint"] == {"class_name": "NonNeg", "config": {}}
    assert config["bias_regularizer"] is None
    assert keras.regularizers.l2 is regularizers.L2 and keras.constraints.max_norm is constraints.MaxNorm


def test_constraint_applies_after_each_step():
    w = tl.array(np.array([3.0, 4.0]))
    w.constraint = constraints.MaxNorm(1.0)
    optimizers.SGD(0.1).apply([w], [tl.array(np.array([1.0, 1.0]))])
    step = np.array([2.9, 3.9])
    np.testing.assert_allclose(np.asarray(w), step / (1e-7 + np.linalg.norm(step)), rtol=1e-14)


def _blobs(n=96, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    x = rng.normal(size=(n, 6)).astype(np.float32) + y[:, None].astype(np.float32)
    return x, y


def _train(run_eagerly, make_opt):
    x, y = _blobs()
    utils.set_random_seed(5)
    model = models.Sequential([
        layers.Dense(8, activation="tanh", kernel_regularizer=regularizers.L2(0.01),
                     activity_regularizer=regularizers.L1(0.001), kernel_constraint=constraints.MaxNorm(1.5)),
        layers.Dense(3, activation="softmax", bias_regularizer="l1")])
    model.compile(optimizer=make_opt(), loss="sparse_categorical_crossentropy", run_eagerly=run_eagerly)
    history = model.fit(x, y, epochs=3, batch_size=40, verbose=0)
    return model, history.history["loss"]


@pytest.mark.parametrize("make_opt", [lambda: optimizers.AdamW(0.01, clipnorm=0.5),
                                      lambda: optimizers.Nadam(0.01, global_clipnorm=1.0, weight_decay=0.01),
                                      lambda: optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5),
                                                             momentum=0.5, clipvalue=0.1)],
                         ids=["adamw-clipnorm", "nadam-global-wd", "sgd-schedule-clipvalue"])
def test_captured_train_step_equals_eager(make_opt):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a replay that fell back to eager warns
        captured, captured_loss = _train(False, make_opt)
    eager, eager_loss = _train(True, make_opt)
    step = captured.train_function.step
    assert isinstance(step, CapturedFunction) and step.stats()["replays"] > 0
    np.testing.assert_allclose(captured_loss, eager_loss, rtol=1e-5)
    for a, b in zip(captured.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert captured.optimizer.iterations == eager.optimizer.iterations == 9
    assert np.linalg.norm(captured.layers[0].get_weights()[0], axis=0).max() <= 1.5 + 1e-5


def test_copies_and_pickles_keep_the_penalties_and_drop_the_last_activity():
    import copy
    import pickle

    model = models.Sequential([layers.Dense(3, kernel_regularizer="l2", kernel_constraint="non_neg",
                                            activity_regularizer="l1", input_shape=(2,))])
    model(np.ones((2, 2), np.float32))
    assert len(model.losses) == 2
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        kernel = clone.layers[0].kernel
        assert isinstance(kernel.regularizer, regularizers.L2) and isinstance(kernel.constraint, constraints.NonNeg)
        assert len(clone.losses) == 1  # the activity penalty comes back with the next call
        clone(np.ones((2, 2), np.float32))
        assert len(clone.losses) == 2
