"""Sequential end to end: summary, fit/evaluate/predict, History, seeding, saving, progress
output, callbacks, and every error of issue 5."""
import io
import math
import os
import re
import subprocess
import sys
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import callbacks, layers, losses, models, optimizers, utils
from tensorlet.datasets import mnist


@pytest.fixture(scope="module")
def digits():
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = x_train[:3000].reshape(-1, 784).astype("float32") / 255
    x_test = x_test[:1000].reshape(-1, 784).astype("float32") / 255
    return x_train, y_train[:3000], x_test, y_test[:1000]


def chapter_model(seed=0, loss="sparse_categorical_crossentropy", optimizer="rmsprop", metrics=("accuracy",),
                  hidden=64, run_eagerly=False):
    utils.set_random_seed(seed)
    model = models.Sequential([layers.Dense(hidden, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics), run_eagerly=run_eagerly)
    return model


def small_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 784)).astype(np.float32), rng.integers(0, 10, size=n)


# -- structure ------------------------------------------------------------------------------------
def test_summary_counts_like_keras():
    model = models.Sequential([layers.Input(shape=(784,)), layers.Dense(512, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert re.search(r"dense(_\d+)? \(Dense\)\s+│ \(None, 512\)\s+│\s+401,920 │", text), text
    assert re.search(r"\(None, 10\)\s+│\s+5,130 │", text), text
    assert " Total params: 407,050 (1.55 MB)" in text
    assert " Trainable params: 407,050 (1.55 MB)" in text
    assert " Non-trainable params: 0 (0.00 B)" in text
    assert lines[0] == f'Model: "{model.name}"'
    assert len({len(line) for line in lines[1:-3]}) == 1  # a rectangular table


def test_unbuilt_summary_says_so():
    model = models.Sequential([layers.Dense(4)])
    lines = []
    model.summary(print_fn=lines.append)
    assert any("0 (unbuilt)" in line and "?" in line for line in lines)


def test_input_shape_via_layer_argument_builds():
    model = models.Sequential([layers.Dense(8, input_shape=(784,)), layers.Dense(10)])
    model.build()
    assert model.built and model.count_params() == 784 * 8 + 8 + 8 * 10 + 10
    assert model.output_shape == (None, 10)


def test_add_rejects_non_layers_and_duplicate_names():
    model = models.Sequential()
    with pytest.raises(ValueError, match="Only instances of tensorlet.layers.Layer"):
        model.add("dense")
    model.add(layers.Dense(2, name="same"))
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(2, name="same"))


# -- training -------------------------------------------------------------------------------------
def test_short_fit_on_mnist_learns(digits):
    x, y, xt, yt = digits
    model = chapter_model()
    history = model.fit(x, y, epochs=3, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(xt, yt, verbose=0)
    assert acc > 0.8, acc  # chance is 0.1
    assert loss < 0.7


def test_history_keys_and_validation_split(digits):
    x, y, _, _ = digits
    model = chapter_model()
    history = model.fit(x[:600], y[:600], epochs=2, batch_size=100, validation_split=0.25, verbose=0)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 2 for v in history.history.values())
    assert history.epoch == [0, 1]
    assert model.history is history


def test_validation_data_equals_evaluate(digits):
    x, y, xt, yt = digits
    model = chapter_model()
    history = model.fit(x[:500], y[:500], epochs=1, batch_size=100, validation_data=(xt[:200], yt[:200]), verbose=0)
    loss, acc = model.evaluate(xt[:200], yt[:200], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(loss, rel=1e-6)
    assert history.history["val_accuracy"][0] == pytest.approx(acc)


def test_evaluate_return_shapes(digits):
    x, y, _, _ = digits
    model = chapter_model()
    result = model.evaluate(x[:100], y[:100], verbose=0)
    assert isinstance(result, list) and len(result) == 2 and all(isinstance(v, float) for v in result)
    as_dict = model.evaluate(x[:100], y[:100], verbose=0, return_dict=True)
    assert set(as_dict) == {"loss", "accuracy"} and as_dict["loss"] == pytest.approx(result[0])
    bare = chapter_model(metrics=())
    assert isinstance(bare.evaluate(x[:100], y[:100], verbose=0), float)


def test_predict_returns_probabilities_and_loss_matches_them(digits):
    x, y, _, _ = digits
    model = chapter_model()
    model.fit(x[:300], y[:300], epochs=1, batch_size=50, verbose=0)
    probs = model.predict(x[:130], batch_size=32, verbose=0)
    assert isinstance(probs, np.ndarray) and probs.shape == (130, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # evaluate (fused logits path) equals the Keras loss computed on the predicted probabilities
    expected = float(np.mean(np.asarray(losses.sparse_categorical_crossentropy(tl.array(y[:130]), tl.array(probs)))))
    assert model.evaluate(x[:130], y[:130], verbose=0)[0] == pytest.approx(expected, rel=1e-4)
    np.testing.assert_allclose(np.asarray(model(x[:5])), probs[:5], rtol=1e-5, atol=1e-7)


def test_softmax_with_cross_entropy_trains_through_the_fused_kernel(digits, monkeypatch):
    # The generic (eager) path; the compiled Dense-stack step has its own fused loss.
    x, y, _, _ = digits
    calls = []
    real = tl.softmax_cross_entropy
    monkeypatch.setattr(tl, "softmax_cross_entropy", lambda *a, **k: calls.append(1) or real(*a, **k))
    model = chapter_model(loss="categorical_crossentropy", run_eagerly=True)
    model.fit(x[:256], utils.to_categorical(y[:256], 10), epochs=1, batch_size=128, verbose=0)
    assert len(calls) == 2


@pytest.mark.parametrize("optimizer", [optimizers.SGD(0.1, momentum=0.9), optimizers.Adam(), "rmsprop"])
def test_each_optimizer_trains_one_hot_labels(digits, optimizer):
    x, y, _, _ = digits
    model = chapter_model(loss="categorical_crossentropy", optimizer=optimizer)
    history = model.fit(x[:1000], utils.to_categorical(y[:1000]), epochs=2, batch_size=50, verbose=0)
    assert history.history["accuracy"][-1] > 0.7


def test_binary_classification_through_the_fused_sigmoid_path():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0]) > 0).astype(np.float32)
    utils.set_random_seed(0)
    model = models.Sequential([layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    assert model.loss.fused_with("sigmoid") is not None
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
    loss, acc = model.evaluate(x, y, verbose=0)
    probs = model.predict(x, verbose=0)
    assert probs.shape == (512, 1) and probs.min() >= 0 and probs.max() <= 1
    assert acc == pytest.approx(((probs[:, 0] > 0.5) == y).mean())


def test_regression_with_mean_squared_error():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-1.0], [2.0]], np.float32) + 0.5
    utils.set_random_seed(0)
    model = models.Sequential([layers.Input(shape=(3,)), layers.Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 1e-3
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_images_through_flatten_and_dropout(digits):
    x, y, xt, yt = digits
    utils.set_random_seed(0)
    model = models.Sequential([layers.Input(shape=(28, 28)), layers.Flatten(), layers.Dense(64, activation="relu"),
                               layers.Dropout(0.2), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model.output_shape == (None, 10) and model.count_params() == 784 * 64 + 64 + 64 * 10 + 10
    model.fit(x.reshape(-1, 28, 28), y, epochs=2, batch_size=64, verbose=0)
    _, acc = model.evaluate(xt.reshape(-1, 28, 28), yt, verbose=0)
    assert acc > 0.8
    first = model.predict(xt[:50].reshape(-1, 28, 28), verbose=0)
    np.testing.assert_array_equal(first, model.predict(xt[:50].reshape(-1, 28, 28), verbose=0))  # no dropout


def test_keras_namespace_runs_the_chapter_with_imports_changed():
    from tensorlet import keras
    from tensorlet.keras import layers as klayers
    from tensorlet.keras.datasets import mnist as kmnist

    assert kmnist is mnist and klayers is layers and keras.Sequential is models.Sequential
    model = keras.Sequential([klayers.Dense(512, activation="relu"), klayers.Dense(10, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert tl.keras is keras and tl.layers is layers and tl.utils.to_categorical is utils.to_categorical


def test_keras_modules_load_lazily_as_package_attributes():
    code = ("import sys, tensorlet as tl; assert 'tensorlet.models' not in sys.modules; "
            "print(tl.keras.Sequential.__name__, tl.layers.Dense.__name__)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["Sequential", "Dense"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tl.nope  # noqa: B018


def test_seeded_runs_are_identical(digits):
    x, y, _, _ = digits
    runs = []
    for _ in range(2):
        model = chapter_model(seed=123)
        history = model.fit(x[:400], y[:400], epochs=2, batch_size=64, verbose=0)
        runs.append((history.history, model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    other = chapter_model(seed=124)
    other.build((None, 784))
    assert not np.array_equal(other.get_weights()[0], runs[0][1][0])


def test_tensors_are_accepted_as_data(digits):
    x, y, _, _ = digits
    model = chapter_model()
    model.fit(tl.array(x[:200]), tl.array(y[:200].astype(np.int64)), epochs=1, batch_size=100, verbose=0)
    assert model.predict(tl.array(x[:10]), verbose=0).shape == (10, 10)


def test_save_and_load_weights_round_trip(digits, tmp_path):
    x, y, _, _ = digits
    model = chapter_model()
    model.fit(x[:200], y[:200], epochs=1, batch_size=100, verbose=0)
    path = tmp_path / "weights.npz"
    model.save_weights(path)
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["0/bias", "0/kernel", "1/bias", "1/kernel"]
    clone = chapter_model(seed=5)
    clone.build((None, 784))
    clone.load_weights(path)
    np.testing.assert_array_equal(clone.predict(x[:20], verbose=0), model.predict(x[:20], verbose=0))


def test_load_weights_checks_shapes_before_assigning(tmp_path, digits):
    x, _, _, _ = digits
    small = chapter_model(hidden=32)
    small.build((None, 784))
    path = tmp_path / "small.npz"
    small.save_weights(path)
    model = chapter_model(hidden=64)
    model.build((None, 784))
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"'kernel' of layer .* has shape \(784, 64\).*\(784, 32\)"):
        model.load_weights(path)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"\.npz"):
        model.save_weights(tmp_path / "weights.h5")


# -- progress output ------------------------------------------------------------------------------
def _capture(fn):
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        result = fn()
    return buffer.getvalue(), result


def test_progress_line_once_per_epoch_when_not_a_terminal(digits):
    x, y, _, _ = digits
    model = chapter_model()
    out, _ = _capture(lambda: model.fit(x[:256], y[:256], epochs=2, batch_size=128))
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4, out
    pattern = r"2/2 ━{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}"
    assert re.fullmatch(pattern, lines[1]) and re.fullmatch(pattern, lines[3]), out
    assert "\x1b" not in out and "\r" not in out


def test_validation_metrics_end_the_epoch_line(digits):
    x, y, _, _ = digits
    model = chapter_model()
    out, _ = _capture(lambda: model.fit(x[:320], y[:320], epochs=1, batch_size=128, validation_split=0.2))
    assert re.fullmatch(r"2/2 ━{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - "
                        r"val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}\n", out), out


def test_verbose_two_and_zero(digits):
    x, y, _, _ = digits
    model = chapter_model()
    out, _ = _capture(lambda: model.fit(x[:256], y[:256], epochs=1, batch_size=128, verbose=2))
    assert re.fullmatch(r"2/2 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}\n", out), out
    out, _ = _capture(lambda: model.fit(x[:256], y[:256], epochs=1, batch_size=128, verbose=0))
    assert out == ""
    out, _ = _capture(lambda: model.evaluate(x[:256], y[:256], batch_size=128))
    assert re.fullmatch(r"2/2 ━{20} \d+s \d+(us|ms|s)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}\n", out), out


def test_progress_bar_redraws_in_place_on_a_terminal():
    from tensorlet._progbar import Progbar

    stream = io.StringIO()
    bar = Progbar(4, stream=stream, dynamic=True, interval=0.0)
    for step in range(1, 5):
        bar.update(step, [("accuracy", 0.5), ("loss", 0.00012)])
    out = stream.getvalue()
    frames = out.split("\r")[1:]
    assert len(frames) == 4 and out.endswith("\n") and out.count("\n") == 1
    assert "\x1b[32m" in frames[-1] and "━" * 20 in re.sub(r"\x1b\[[0-9;]*m", "", frames[-1])
    assert re.search(r"accuracy: 0\.5000 - loss: 1\.2000e-04", frames[-1])
    assert frames[0].startswith("\x1b[1m1/4\x1b[0m ")


# -- callbacks ------------------------------------------------------------------------------------
def test_callback_hooks_in_order(digits):
    x, y, _, _ = digits
    events = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None): events.append("train_begin")
        def on_epoch_begin(self, epoch, logs=None): events.append(f"epoch_begin {epoch}")
        def on_train_batch_end(self, batch, logs=None): events.append(f"batch_end {batch} {sorted(logs)}")
        def on_epoch_end(self, epoch, logs=None): events.append(f"epoch_end {epoch} {sorted(logs)}")
        def on_train_end(self, logs=None): events.append("train_end")

    chapter_model().fit(x[:100], y[:100], epochs=1, batch_size=50, callbacks=[Recorder()], verbose=0)
    assert events == ["train_begin", "epoch_begin 0", "batch_end 0 ['accuracy', 'loss']",
                      "batch_end 1 ['accuracy', 'loss']", "epoch_end 0 ['accuracy', 'loss']", "train_end"]


def test_early_stopping_stops(digits):
    x, y, _, _ = digits
    model = chapter_model(optimizer=optimizers.SGD(learning_rate=0.0))  # no progress at all
    stopper = callbacks.EarlyStopping(monitor="loss", patience=1)
    history = model.fit(x[:100], y[:100], epochs=10, batch_size=50, callbacks=[stopper], verbose=0, shuffle=False)
    assert len(history.history["loss"]) == 2 and stopper.stopped_epoch == 1


def test_terminate_on_nan_stops_with_a_message():
    x, y = small_data()
    model = chapter_model(optimizer=optimizers.SGD(learning_rate=1e30))
    out, history = _capture(lambda: model.fit(x * 1e6, y, epochs=3, batch_size=8, verbose=0,
                                              callbacks=[callbacks.TerminateOnNaN()]))
    assert re.search(r"Batch \d+: Invalid loss", out), out
    assert len(history.history["loss"]) == 1 and not math.isfinite(history.history["loss"][0])


# -- errors ---------------------------------------------------------------------------------------
def test_x_and_y_lengths_differ():
    x, y = small_data()
    with pytest.raises(ValueError, match=r"x has 64 samples .* y has 63"):
        chapter_model().fit(x, y[:63], verbose=0)


def test_x_width_does_not_match_the_first_layer():
    x, y = small_data()
    model = models.Sequential([layers.Input(shape=(784,)), layers.Dense(10, activation="softmax", name="d_in")])
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r'layer "d_in".*\(None, 784\).*\(None, 100\)'):
        model.fit(x[:, :100], y, verbose=0)
    trained = chapter_model()
    trained.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=r'layer "dense\w*".*784.*\(None, 100\)'):
        trained.evaluate(x[:, :100], y, verbose=0)


def test_integer_labels_with_categorical_crossentropy_suggest_the_fixes():
    x, y = small_data()
    model = chapter_model(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"shape \(None, 10\).*\(None,\).*to_categorical\(y, 10\).*sparse_categorical"):
        model.fit(x, y, verbose=0)


def test_one_hot_labels_with_sparse_loss():
    x, y = small_data()
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        chapter_model().fit(x, utils.to_categorical(y, 10), verbose=0)


def test_labels_out_of_range_for_sparse_loss():
    x, y = small_data()
    y = y.copy()
    y[7] = 10
    with pytest.raises(ValueError, match=r"\[0, 9\].*found label 10 \(sample 7\)"):
        chapter_model().fit(x, y, verbose=0)


def test_wrong_number_of_classes():
    x, y = small_data()
    with pytest.raises(ValueError, match=r"must have shape \(None, 10\).*\(None, 3\)"):
        chapter_model(loss="categorical_crossentropy").fit(x, np.eye(3)[y % 3], verbose=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"optimizer": "adamq"}, r"'sgd', 'rmsprop', 'adam'"),
    ({"loss": "hingy"}, r"'categorical_crossentropy'"),
    ({"metrics": ["f1x"]}, r"'accuracy'"),
])
def test_unknown_names_list_the_valid_ones(kwargs, match):
    model = models.Sequential([layers.Dense(2)])
    args = {"optimizer": "rmsprop", "loss": "mse", **kwargs}
    with pytest.raises(ValueError, match=match):
        model.compile(**args)


def test_non_finite_inputs_warn():
    x, y = small_data()
    x[3, 5] = np.nan
    with pytest.warns(RuntimeWarning, match=r"NaN or infinite.*\(3, 5\)"):
        chapter_model().evaluate(x, y, verbose=0)


def test_fit_before_compile():
    model = models.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="compile"):
        model.fit(*small_data(), verbose=0)


def test_failed_fit_leaves_the_model_usable():
    x, y = small_data()
    model = chapter_model()
    with pytest.raises(ValueError):
        model.fit(x, y[:10], verbose=0)
    with pytest.raises(ValueError):
        model.fit(x, np.full_like(y, 42), verbose=0)
    assert not model.built
    history = model.fit(x, y, epochs=1, verbose=0)
    assert math.isfinite(history.history["loss"][0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.evaluate(x, y, verbose=0)


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"epochs": -1}, {"validation_split": 1.0},
                                    {"verbose": 3}])
def test_bad_fit_arguments(kwargs):
    with pytest.raises(ValueError):
        chapter_model().fit(*small_data(), **{"verbose": 0, **kwargs})
