"""fit / evaluate / predict through the captured step (tensorlet.capture) equal the eager path
(run_eagerly=True) to float rounding, for several models, optimizers and data shapes."""

import warnings

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import layers, losses, models, optimizers, utils
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


# -- moved from the Dense-stack step's tests (its behaviour is now the captured step's) ------------------
def models_pair(hidden=("relu",), last="softmax", loss="categorical_crossentropy", optimizer="sgd", bias=True,
                metrics=("accuracy",)):
    """The same Dense stack twice: run_eagerly=True, then captured."""
    made = []
    for eager in (True, False):
        utils.set_random_seed(3)
        stack = [layers.Dense(16, activation=a, use_bias=bias) for a in hidden]
        model = models.Sequential(stack + [layers.Dense(10, activation=last, use_bias=bias)])
        opt = optimizers.get(optimizer) if isinstance(optimizer, str) else optimizer()
        model.compile(optimizer=opt, loss=loss, metrics=list(metrics), run_eagerly=eager)
        made.append(model)
    return made


def data(n=300, sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 20)).astype(np.float32)
    y = rng.integers(0, 10, size=n)
    return x, (y if sparse else utils.to_categorical(y, 10))


def captured(function) -> bool:
    return function is not None and isinstance(function.step, CapturedFunction)


@pytest.mark.parametrize("config", [
    dict(),
    dict(loss="sparse_categorical_crossentropy"),
    dict(hidden=("relu", "linear", "relu")),
    dict(hidden=(), bias=False),
    dict(last="linear", loss=losses.CategoricalCrossentropy(from_logits=True)),
    dict(optimizer=lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True)),
    dict(optimizer="rmsprop", metrics=()),
])
def test_relu_stacks_fit_as_eager_with_validation_and_a_partial_last_batch(config):
    eager, model = models_pair(**config)
    sparse = "sparse" in str(config.get("loss", ""))
    x, y = data(sparse=sparse)  # 300 = 9 x 32 + 12
    xv, yv = data(n=70, sparse=sparse, seed=1)
    utils.set_random_seed(7)  # the same shuffles for both
    h1 = eager.fit(x, y, epochs=2, batch_size=32, verbose=0, validation_data=(xv, yv)).history
    utils.set_random_seed(7)
    h2 = model.fit(x, y, epochs=2, batch_size=32, verbose=0, validation_data=(xv, yv)).history
    assert captured(model.train_function) and captured(model.test_function)
    assert model.train_function.step.stats()["replays"] > 0
    assert h1.keys() == h2.keys()
    for key in h1:
        np.testing.assert_allclose(h2[key], h1[key], rtol=1e-4, atol=1e-6, err_msg=key)
    for a, b in zip(eager.get_weights(), model.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.evaluate(xv, yv, verbose=0), eager.evaluate(xv, yv, verbose=0), rtol=1e-5)


def test_the_step_is_captured_unless_compile_or_the_optimizer_asks_for_eager():
    x, y = data()

    def fit(model):
        model.fit(x, y, epochs=1, batch_size=100, verbose=0)
        return captured(model.train_function)

    assert fit(models_pair()[1])
    assert not fit(models_pair()[0])  # run_eagerly=True
    for hidden in (("sigmoid",), ("tanh",)):  # any activation
        assert fit(models_pair(hidden=hidden)[1])
    assert fit(models_pair(last="sigmoid", loss="binary_crossentropy")[1])
    assert fit(models_pair(loss="mean_squared_error")[1])
    jit_off = models_pair()[1]
    jit_off.compile(optimizer="sgd", loss="categorical_crossentropy", jit_compile=False)
    assert not fit(jit_off)

    class CustomStep(models.Sequential):
        def train_step(self, data):
            return super().train_step(data)

    custom = CustomStep([layers.Dense(10, activation="softmax")])
    custom.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert fit(custom)  # an overridden step is captured too: it is built from ops


def test_captured_fit_same_with_one_and_two_threads():
    x, y = data(n=600)
    weights = []
    for threads in (1, 2):
        old = tl.get_num_threads()
        tl.set_num_threads(threads)
        try:
            utils.set_random_seed(5)
            model = models.Sequential([layers.Dense(256, activation="relu"), layers.Dense(10, activation="softmax")])
            model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
            model.fit(np.tile(x, (1, 40)), y, epochs=1, batch_size=128, verbose=0)
            weights.append(model.get_weights())
        finally:
            tl.set_num_threads(old)
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("last, batch", [("softmax", 32), ("linear", 7), ("softmax", 1000)])
def test_predict_and_evaluate_match_eager(last, batch):
    x, y = data(n=150)
    eager, model = models_pair(hidden=("relu", "linear"), last=last,
                               loss=losses.CategoricalCrossentropy(from_logits=last == "linear"))
    for m in (eager, model):
        utils.set_random_seed(1)
        m.fit(x, y, epochs=1, batch_size=50, verbose=0)
    p1, p2 = eager.predict(x, batch_size=batch, verbose=0), model.predict(x, batch_size=batch, verbose=0)
    assert not captured(eager.predict_function) and captured(model.predict_function)
    assert p2.dtype == np.float32 and p2.shape == (150, 10)
    np.testing.assert_allclose(p2, p1, rtol=1e-5, atol=1e-7)
    if last == "softmax":
        np.testing.assert_allclose(p2.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=batch, verbose=0),
                               eager.evaluate(x, y, batch_size=batch, verbose=0), rtol=1e-5)


def test_evaluate_progress_bar_reaches_the_last_step(capsys):
    x, y = data(n=1000)
    model = models_pair()[1]
    model.evaluate(x, y, batch_size=32, verbose=2)
    model.predict(x, batch_size=32, verbose=2)
    assert capsys.readouterr().out.count("32/32") == 2


def test_evaluate_and_predict_reuse_their_function_and_see_new_weights():
    x, y = data(n=200)
    eager, model = models_pair()
    for m in (eager, model):
        utils.set_random_seed(4)
        m.build((None, 20))
    model.evaluate(x, y, verbose=0)
    model.evaluate(x, y, verbose=0)  # captured and replayed
    first = model.test_function
    assert captured(first)
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert model.test_function is first  # chosen once: no new function (or plan) per call
    rng = np.random.default_rng(9)
    new = [rng.normal(size=w.shape).astype(np.float32) for w in eager.get_weights()]
    eager.set_weights(new)
    model.set_weights(new)  # the replayed plans read the new values
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), eager.evaluate(x, y, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(model.predict(x, verbose=0), eager.predict(x, verbose=0), rtol=1e-5, atol=1e-7)
    model.pop()
    model.add(layers.Dense(10, activation="softmax"))
    model.build((None, 20))
    model.evaluate(x, y, verbose=0)
    assert model.test_function is not first and captured(model.test_function)  # new layers: chosen again


def test_nan_inputs_give_nan_loss_and_gradients_through_the_relu_mask_on_replay():
    eager, model = models_pair(metrics=())
    x, y = data(n=4)
    for _ in range(3):  # eager, capture, replay
        model.train_on_batch(x, y)
    before = model.get_weights()
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.warns(RuntimeWarning, match="NaN"):
        assert np.isnan(model.train_on_batch(bad, y))
    assert captured(model.train_function) and model.train_function.step.stats()["replays"] >= 2
    after = model.get_weights()
    assert np.isnan(after[0]).any() and not np.isnan(before[0]).any()


def test_an_out_of_range_label_in_a_replayed_step_raises_and_training_goes_on():
    x, y = data(n=40, sparse=True)
    model = models_pair(loss="sparse_categorical_crossentropy")[1]
    for _ in range(3):  # eager, capture, replay
        model.train_on_batch(x[:8], y[:8])
    bad = y[:8].copy()
    bad[3] = 10
    with pytest.raises((ValueError, IndexError), match="10"):
        model.train_on_batch(x[:8], bad)
    assert np.all(np.isfinite(model.train_on_batch(x[:8], y[:8])))


def test_embedding_model_with_sample_weights_captured_equals_eager():
    # Issue 14's speed item: Embedding (a gather, replayed as its op) and sample weights inside
    # the captured step give the eager step's numbers.
    from tensorlet import keras

    rng = np.random.default_rng(11)
    tokens = rng.integers(0, 20, size=(48, 6))
    labels = rng.integers(0, 2, size=48).astype(np.float32)
    weights = rng.random(48).astype(np.float32)

    def train(run_eagerly):
        tl.random.seed(4)
        model = keras.Sequential([keras.layers.Input((6,), dtype="int64"), keras.layers.Embedding(20, 5),
                                  keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], run_eagerly=run_eagerly)
        history = model.fit(tokens, labels, sample_weight=weights, batch_size=16, epochs=3, shuffle=False, verbose=0)
        return model, history.history

    captured, eager = train(False), train(True)
    assert captured[0].train_function.step.stats()["replays"] > 0
    np.testing.assert_allclose(captured[1]["loss"], eager[1]["loss"], rtol=1e-5)
    for a, b in zip(captured[0].get_weights(), eager[0].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
