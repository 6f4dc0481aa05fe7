"""The Layer -> Model -> Sequential structure and the Trainer: subclassed models, Keras-style
overridden steps, step functions chosen once, sample weights, *_on_batch, metric state in
tensors (no Python reads inside a step), and the module graph (no import cycles)."""
import ast
import os
import subprocess
import sys

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import layers, metrics, models, optimizers, utils
from tensorlet._epoch_iterator import Batch
from tensorlet.trainer import StepFunction

PACKAGE_DIR = os.path.dirname(tl.__file__)


def blobs(n=240, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(classes, features))
    y = rng.integers(0, classes, size=n)
    x = (centers[y] + rng.normal(size=(n, features))).astype(np.float32)
    return x, y


class TwoLayer(models.Model):
    """A subclassed model: its layers are attributes, its forward pass is call()."""

    def __init__(self, hidden=16, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(hidden, activation="relu")
        self.out = layers.Dense(classes, activation="softmax")

    def call(self, x, training=False):
        return self.out(self.hidden(x) * 0.5, training=training)


# -- Model subclass with call() --------------------------------------------------------------------
def test_subclassed_model_trains_evaluates_and_predicts():
    x, y = blobs()
    utils.set_random_seed(0)
    model = TwoLayer()
    model.compile(optimizer=optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    assert [l.name for l in model.layers] == [model.hidden.name, model.out.name]
    assert len(model.trainable_weights) == 4 and model.count_params() == 6 * 16 + 16 + 16 * 3 + 3
    loss, acc = model.evaluate(x, y, verbose=0)
    probs = model.predict(x, verbose=0)
    # predict is the model's own forward pass, computed here by hand with NumPy
    w1, b1, w2, b2 = model.get_weights()
    z = (np.maximum(x @ w1 + b1, 0) * 0.5) @ w2 + b2
    expected = np.exp(z - z.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(probs, expected, rtol=1e-4, atol=1e-6)
    assert acc == pytest.approx((probs.argmax(1) == y).mean())
    assert loss == pytest.approx(float(np.mean(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1)))), rel=1e-4)
    # the generic step, not the Dense-stack one: the model computes more than a chain of layers
    assert isinstance(model.train_function, StepFunction)


def test_subclassed_model_weights_round_trip_and_summary(tmp_path):
    x, _ = blobs(n=8)
    model = TwoLayer()
    model.predict(x, verbose=0)  # builds
    path = tmp_path / "w.npz"
    model.save_weights(path)
    other = TwoLayer()
    other.build((None, 6))
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    lines = []
    model.summary(print_fn=lines.append)
    assert any("(Dense)" in line for line in lines) and " Total params: 163 (652.00 B)" in lines


def test_sublayers_in_lists_are_tracked():
    class Stack(models.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [layers.Dense(4, activation="tanh"), layers.Dense(2)]

        def call(self, x, training=False):
            for block in self.blocks:
                x = block(x)
            return x

    model = Stack()
    model.build((None, 3))
    assert len(model.weights) == 4 and model.layers == model.blocks
    model.blocks[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


# -- overridden steps, Keras-style -------------------------------------------------------------------
def test_overridden_train_step_keras_style():
    calls = []

    class Custom(models.Sequential):
        def train_step(self, data):
            calls.append(len(data))
            x, y = data
            for w in self.trainable_weights:
                w.grad = None
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            self.optimizer.apply(self.trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    x, y = blobs()
    utils.set_random_seed(1)
    model = Custom([layers.Dense(16, activation="relu"), layers.Dense(3, activation="softmax")])
    # run_eagerly: the step's Python runs on every batch (a captured step runs it only until it
    # is recorded, as Keras's traced steps do).
    model.compile(optimizer=optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=True)
    history = model.fit(x, y, epochs=5, batch_size=48, verbose=0)
    assert calls == [2] * 25  # (x, y) per batch, 5 batches x 5 epochs
    assert set(history.history) == {"loss", "accuracy"}  # the nested CompileMetrics dict is flattened
    assert history.history["accuracy"][-1] > 0.9


def test_overridden_test_and_predict_steps_are_used():
    class Custom(models.Sequential):
        def test_step(self, data):
            x, y, sample_weight = utils.unpack_x_y_sample_weight(data)
            assert sample_weight is None
            return {"rows": tl.asarray(float(x.shape[0]))}

        def predict_step(self, data):
            (x,) = data
            return super().predict_step(data) * 0 + 7

    x, y = blobs(n=50)
    model = Custom([layers.Dense(3, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy")
    assert model.evaluate(x, y, batch_size=16, verbose=0) == 2.0  # the last step's logs: 50 = 3 x 16 + 2
    np.testing.assert_array_equal(model.predict(x, batch_size=16, verbose=0), np.full((50, 3), 7, np.float32))


# -- the step functions are chosen once ----------------------------------------------------------------
@pytest.mark.parametrize("run_eagerly", [False, True])
def test_step_functions_are_chosen_once_per_compile(run_eagerly, monkeypatch):
    from tensorlet import trainer
    from tensorlet.capture import CapturedFunction

    asked = []
    monkeypatch.setattr(trainer, "CapturedFunction", lambda *a, **k: asked.append(1) or CapturedFunction(*a, **k))
    x, y = blobs()
    model = models.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=run_eagerly)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    first = model.train_function
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    model.train_on_batch(x[:10], y[:10])
    assert model.train_function is first
    assert isinstance(first, StepFunction) and isinstance(first.step, CapturedFunction) != run_eagerly
    assert len(asked) == (0 if run_eagerly else 1)  # made once, not per fit or per batch
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=run_eagerly)
    assert model.train_function is None
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert model.train_function is not first
    second = model.train_function
    assert model.make_train_function() is second
    assert model.make_train_function(force=True) is not second and model.train_function is not second


def test_function_is_chosen_again_when_the_trainable_weights_change():
    x, y = blobs()
    model = models.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    first = model.train_function
    model.layers[0].trainable = False
    frozen = model.get_weights()[:2]
    model.fit(x, y, epochs=1, verbose=0)
    assert model.train_function is not first
    for a, b in zip(frozen, model.get_weights()[:2]):
        np.testing.assert_array_equal(a, b)  # the frozen layer did not move


def test_a_copy_chooses_its_own_step_functions():
    import copy

    x, y = blobs(n=64)
    model = models.Sequential([layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    clone = copy.copy(model)
    assert model.train_function is not None and clone.train_function is None
    clone.fit(x, y, epochs=1, verbose=0)
    assert clone.train_function is not model.train_function


def test_a_model_trained_on_the_generic_path_pickles():
    import pickle

    x, y = blobs(n=64)
    model = models.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], run_eagerly=True)
    model.fit(x, y, epochs=1, verbose=0)  # the fused softmax cross-entropy is cached by then
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    assert clone.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


# -- InputSpec -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, shape, message", [
    (layers.InputSpec(ndim=3), (None, 4), r'Input 0 of layer "probe" is incompatible with the layer: expected '
                                          r'ndim=3, found ndim=2\. Full shape received: \(None, 4\)'),
    (layers.InputSpec(min_ndim=3), (None, 4), r"expected min_ndim=3, found ndim=2\. Full shape received: \(None, 4\)"),
    (layers.InputSpec(max_ndim=2), (None, 4, 5), r"expected max_ndim=2, found ndim=3$"),
    (layers.InputSpec(axes={-1: 7}), (None, 4), r"expected axis -1 of input shape to have value 7, but received "
                                                r"input with shape \(None, 4\)"),
    (layers.InputSpec(shape=(None, 2, 3)), (None, 2, 4), r"expected shape=\(None, 2, 3\), found shape=\(None, 2, 4\)"),
])
def test_input_spec_errors_follow_keras(spec, shape, message):
    class Probe(layers.Layer):
        def __init__(self):
            super().__init__(name="probe")
            self.input_spec = spec

        def call(self, x, training=False):
            return x

    probe = Probe()
    with pytest.raises(ValueError, match=message):
        probe(np.zeros((2,) + shape[1:], np.float32))
    ok = tuple(2 if d is None else d for d in (spec.shape or (None,) * (spec.ndim or spec.min_ndim or 2)))
    if spec.axes:
        ok = (2, 7)
    assert probe(np.zeros(ok, np.float32)).shape == ok


def test_input_spec_dtype_and_axis_bounds():
    with pytest.raises(ValueError, match=r"expected dtype=int64, found dtype=float32"):
        layers.layer.assert_input_compatibility(layers.InputSpec(dtype="int64"), (None, 3), "d", dtype="float32")
    with pytest.raises(ValueError, match="Axis 2 is greater than the maximum allowed value: 1"):
        layers.InputSpec(ndim=2, axes={2: 4})


def test_each_layer_checks_its_own_input():
    dense = layers.Dense(3, name="own_check")
    with pytest.raises(ValueError, match=r'layer "own_check".*expected min_ndim=2, found ndim=1'):
        dense(np.zeros(4, np.float32))
    assert not dense.built  # rejected before building
    dense(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r'layer "own_check".*axis -1 of input shape to have value 4'):
        dense(np.zeros((2, 5), np.float32))
    model = models.Sequential([layers.Dense(5, name="first_in"), layers.Dense(2)])
    model.build((None, 3))
    with pytest.raises(ValueError, match=r'layer "first_in".*\(None, 3\).*\(None, 6\)'):
        model.predict(np.zeros((4, 6), np.float32), verbose=0)


# -- sample weights and single batches ------------------------------------------------------------------
def test_sample_weight_follows_keras_formulas():
    x, y = blobs(n=64)
    w = np.random.default_rng(3).uniform(0.1, 2.0, size=64).astype(np.float32)
    model = models.Sequential([layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(0.0), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.build((None, 6))
    probs = model.predict(x, verbose=0)
    per_sample = -np.log(np.clip(probs[np.arange(64), y], 1e-7, 1 - 1e-7))
    hits = (probs.argmax(1) == y).astype(np.float64)
    loss, acc = model.evaluate(x, y, sample_weight=w, batch_size=64, verbose=0)
    # one batch: the batch's loss is mean(per_sample * w); the accuracy is weighted by w
    assert loss == pytest.approx(float(np.mean(per_sample * w)), rel=1e-5)
    assert acc == pytest.approx(float((hits * w).sum() / w.sum()), rel=1e-6)
    # several batches: the loss tracker weights each batch's loss by its number of samples
    loss16, _ = model.evaluate(x, y, sample_weight=w, batch_size=16, verbose=0)
    batch_losses = [np.mean(per_sample[i:i + 16] * w[i:i + 16]) for i in range(0, 64, 16)]
    assert loss16 == pytest.approx(float(np.mean(batch_losses)), rel=1e-5)
    history = model.fit(x, y, sample_weight=w, epochs=1, batch_size=64, verbose=0, shuffle=False,
                        validation_data=(x, y, w))
    assert history.history["val_loss"][0] == pytest.approx(loss, rel=1e-5)
    with pytest.raises(ValueError, match=r"one weight per sample, shape \(64,\); got shape \(63,\)"):
        model.fit(x, y, sample_weight=w[:63], verbose=0)


def test_on_batch_methods():
    x, y = blobs(n=32)
    utils.set_random_seed(2)
    model = models.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.predict_on_batch(x)
    np.testing.assert_array_equal(before, model.predict(x, verbose=0))
    loss, acc = model.test_on_batch(x, y)
    assert isinstance(loss, float) and 0 <= acc <= 1
    model.reset_metrics()
    first = model.train_on_batch(x, y, return_dict=True)
    assert set(first) == {"loss", "accuracy"}
    assert first["loss"] == pytest.approx(loss, rel=1e-5)  # the loss before the update
    assert not np.array_equal(model.predict_on_batch(x), before)


# -- metric state in tensors -------------------------------------------------------------------------------
def test_metric_state_is_tensors_and_matches_keras_mean():
    mean = metrics.Mean()
    assert all(isinstance(v, tl.Tensor) for v in mean.variables) and len(mean.variables) == 2
    values = np.array([[1.0, 3.0], [2.0, 2.0], [10.0, 0.0]], np.float32)
    weights = np.array([1.0, 0.5, 2.0], np.float32)
    mean.update_state(tl.asarray(values), sample_weight=tl.asarray(weights))
    per_sample = values.mean(axis=1)  # Keras reduces to one value per sample first
    assert float(mean.result()) == pytest.approx(float((per_sample * weights).sum() / weights.sum()))
    state = mean.variables
    mean.reset_state()
    assert float(mean.result()) == 0.0 and all(a is b for a, b in zip(state, mean.variables))


def test_a_generic_train_step_reads_nothing_into_python(monkeypatch):
    x, y = blobs(n=40)
    utils.set_random_seed(4)
    model = models.Sequential([layers.Dense(8, activation="tanh"), layers.Dropout(0.2),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=20, verbose=0)  # builds everything
    arrays = (tl.asarray(x), tl.asarray(y.astype(np.int64)))
    train = model.make_train_function()
    test = model.make_test_function()

    def refuse(*args):
        raise AssertionError("a tensor was read into Python inside a step")

    for name in ("__float__", "__int__", "__bool__", "__index__", "item", "tolist", "numpy"):
        monkeypatch.setattr(tl.Tensor, name, refuse)
    logs = train(Batch(arrays, None, 0, 20))
    test_logs = test(Batch(arrays, None, 20, 40))
    monkeypatch.undo()
    assert set(logs) == {"loss", "accuracy"} and all(isinstance(v, tl.Tensor) for v in logs.values())
    assert np.isfinite(float(logs["loss"])) and 0 <= float(test_logs["accuracy"]) <= 1


def test_generic_and_compiled_paths_keep_the_same_logs():
    """The loss tracker and accuracy, kept in float32 tensors, equal the per-batch values the
    compiled step reports (float rounding)."""
    x, y = blobs(n=300)
    results = []
    for eager in (True, False):
        utils.set_random_seed(5)
        model = models.Sequential([layers.Dense(16, activation="relu"), layers.Dense(3, activation="softmax")])
        model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      run_eagerly=eager)
        utils.set_random_seed(6)
        results.append(model.fit(x, y, epochs=2, batch_size=32, verbose=0, validation_split=0.2).history)
    for key in results[0]:
        np.testing.assert_allclose(results[1][key], results[0][key], rtol=1e-5, err_msg=key)


# -- module graph ----------------------------------------------------------------------------------------
def _modules():
    found = []
    for root, _, files in os.walk(PACKAGE_DIR):
        for f in files:
            if f.endswith(".py"):
                rel = os.path.relpath(os.path.join(root, f), PACKAGE_DIR)[:-3].replace(os.sep, ".")
                name = "tensorlet" if rel == "__init__" else "tensorlet." + rel.removesuffix(".__init__")
                found.append((name, os.path.join(root, f)))
    return sorted(found)


def _imports(name, path):
    """The tensorlet submodules ``name`` imports at module level (relative imports resolved)."""
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    out = set()
    for node in ast.parse(open(path).read()).body:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            # `from . import x` names a submodule (or an attribute) of the package, not the package
            targets = ([base] if node.module else []) + [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        out |= {t for t in targets if t.startswith("tensorlet.")}
    return out


def test_no_import_cycles_between_submodules():
    modules = dict(_modules())
    # A module's own packages are initialised before it: importing from them is no cycle.
    graph = {m: {t for t in _imports(m, p) if t in modules and t != m and not m.startswith(t + ".")}
             for m, p in modules.items()}
    state = {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                raise AssertionError("import cycle: " + " -> ".join(path + [m, t]))
            if t not in state:
                visit(t, path + [m])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [])


def test_every_module_imports_alone():
    names = [m for m, _ in _modules() if not m.endswith("__main__")]
    code = ("import importlib, sys\n"
            "for name in sys.argv[1:]:\n"
            "    for loaded in [k for k in sys.modules if k.startswith('tensorlet') and k != 'tensorlet._core']:\n"
            "        del sys.modules[loaded]\n"
            "    importlib.import_module(name)\n"
            "print('ok')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code] + names, capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
