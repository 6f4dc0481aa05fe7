"""fit / evaluate / predict through the captured step (tensorlet.capture) equal the eager path
(run_eagerly=True) to float rounding, for models the Dense-stack step does not take."""

import warnings

import numpy as np
import pytest

from tensorlet import layers, models, optimizers, utils
from tensorlet.capture import CapturedFunction

from test_trainer import blobs as _blobs


def blobs():
    return _blobs(n=192, features=12)


def images(n=64, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.normal(scale=0.3, size=(n, 8, 8, 1)).astype(np.float32)
    x[y == 1, :4, :4, 0] += 1.0  # class 1: a bright top-left quadrant
    return x, y


def dense_tanh_dropout():
    return models.Sequential([layers.Dense(16, activation="tanh"), layers.Dropout(0.3),
                              layers.Dense(3, activation="softmax")])


def dense_sigmoid_relu():
    return models.Sequential([layers.Dense(16, activation="sigmoid"), layers.Dense(16, activation="relu"),
                              layers.Dense(8, activation="sigmoid"), layers.Dense(3, activation="softmax")])


def convnet():
    return models.Sequential([layers.Conv2D(4, (3, 3), activation="relu", input_shape=(8, 8, 1)),
                              layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(2, activation="softmax")])


def batchnorm_depthwise():
    # BatchNormalization updates its moving statistics inside its op, so replays update them too;
    # the weights compared below include them.
    return models.Sequential([layers.DepthwiseConv2D((3, 3), depth_multiplier=2, input_shape=(8, 8, 1)),
                              layers.BatchNormalization(momentum=0.9), layers.Activation("relu"),
                              layers.Conv2D(4, (3, 3), groups=2, activation="relu"),
                              layers.GlobalAveragePooling2D(), layers.Dense(2, activation="softmax")])


CASES = [
    (dense_tanh_dropout, lambda: optimizers.Adam(0.01), blobs),
    (dense_sigmoid_relu, lambda: optimizers.SGD(0.05, momentum=0.9), blobs),
    (convnet, lambda: optimizers.RMSprop(0.005), images),
    (batchnorm_depthwise, lambda: optimizers.Adam(0.01), images),
]


def train(make_model, make_opt, data, run_eagerly):
    x, y = data()
    utils.set_random_seed(3)
    model = make_model()
    model.compile(optimizer=make_opt(), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=run_eagerly)
    # 40 samples per batch: each epoch ends in a partial batch (another signature, captured apart).
    history = model.fit(x, y, epochs=3, batch_size=40, verbose=0, validation_data=(x[:50], y[:50]))
    evaluation = model.evaluate(x, y, batch_size=40, verbose=0)
    predictions = model.predict(x, batch_size=40, verbose=0)
    return model, history.history, evaluation, predictions


@pytest.mark.parametrize("make_model,make_opt,data", CASES, ids=["tanh-dropout-adam", "sigmoid-relu-sgd", "convnet", "batchnorm-depthwise"])
def test_captured_fit_equals_eager(make_model, make_opt, data):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a replay that fell back to eager warns
        captured = train(make_model, make_opt, data, run_eagerly=False)
    eager = train(make_model, make_opt, data, run_eagerly=True)
    model = captured[0]
    step = model.train_function.step
    assert isinstance(step, CapturedFunction)
    assert step.stats()["replays"] > 0  # most batches ran as replays, not as Python
    assert isinstance(model.test_function.step, CapturedFunction)
    for key in eager[1]:
        np.testing.assert_allclose(captured[1][key], eager[1][key], rtol=1e-5, atol=1e-6, err_msg=key)
    np.testing.assert_allclose(captured[2], eager[2], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(captured[3], eager[3], rtol=1e-5, atol=1e-6)
    for a, b in zip(model.get_weights(), eager[0].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert model.optimizer.iterations == eager[0].optimizer.iterations


def test_an_overridden_optimizer_update_keeps_the_train_step_eager():
    x, y = blobs()
    model = dense_tanh_dropout()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=40, verbose=0)
    assert isinstance(model.train_function.step, CapturedFunction)
    calls = []
    real = model.optimizer._update

    def counting(var, grad, slots, lr):
        calls.append(1)
        real(var, grad, slots, lr)

    model.optimizer._update = counting
    model.fit(x, y, epochs=1, batch_size=40, verbose=0)
    assert not isinstance(model.train_function.step, CapturedFunction)
    assert len(calls) == 5 * len(model.trainable_weights)  # every batch ran the Python update


def test_a_frozen_layer_gets_no_gradient_and_does_not_move():
    x, y = blobs()
    model = dense_sigmoid_relu()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=40, verbose=0)
    model.layers[0].trainable = False
    frozen = [w.copy() for w in model.layers[0].get_weights()]
    model.fit(x, y, epochs=2, batch_size=40, verbose=0)
    for a, b in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_callback_keeping_predict_outputs_sees_each_batch_not_the_last_replay():
    from tensorlet import callbacks

    x, y = blobs()
    model = dense_tanh_dropout()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    kept = []

    class Keep(callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            kept.append(logs["outputs"])

    predictions = model.predict(x, batch_size=40, verbose=0, callbacks=[Keep()])
    assert isinstance(model.predict_function.step, CapturedFunction)
    np.testing.assert_array_equal(np.concatenate([np.asarray(t) for t in kept]), predictions)
