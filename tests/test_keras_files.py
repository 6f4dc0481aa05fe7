""".keras files (zip of config.json, metadata.json, model.weights.h5 in Keras 3's layout),
.weights.h5 files, get_config/from_config and clone_model."""
import json
import sys
import zipfile

import numpy as np
import pytest

from tensorlet import keras
from tensorlet.keras import layers

h5py = pytest.importorskip("h5py", reason="h5py (the optional 'keras' extra) is needed for .keras files")

X = np.random.RandomState(1).rand(6, 4).astype(np.float32)


def _every_layer_model():
    inp = keras.Input((4,), name="x")
    a = layers.Dense(6, activation="relu")(inp)
    b = layers.Dense(6)(inp)
    merged = [layers.Add()([a, b]), layers.Subtract()([a, b]), layers.Multiply()([a, b]),
              layers.Average()([a, b]), layers.Maximum()([a, b]), layers.Minimum()([a, b])]
    h = layers.Concatenate()(merged)
    h = layers.ReLU(max_value=6.0)(layers.LeakyReLU(0.2)(layers.ELU()(h)))
    h = layers.Reshape((6, 6))(h)
    h = layers.Permute((2, 1))(h)
    h = layers.Flatten()(h)
    h = layers.UnitNormalization()(layers.GaussianNoise(0.1)(layers.Dropout(0.2)(h)))
    norm = layers.Normalization()
    norm.adapt(np.random.RandomState(2).rand(10, 36))
    h = norm(h)
    h = layers.RepeatVector(2)(layers.Dense(3)(h))
    h = layers.SpatialDropout1D(0.1)(h)
    h = layers.Conv1D(2, 2)(h)
    h = layers.Softmax()(layers.Flatten()(h))
    return keras.Model(inp, h, name="every")


def test_keras_file_round_trip_keeps_architecture_and_predictions(tmp_path):
    model = _every_layer_model()
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(zf.read("config.json"))
        assert json.loads(zf.read("metadata.json"))["keras_version"].startswith("3.")
    assert config["class_name"] == "Functional" and config["module"] == "keras.src.models.functional"
    entry = config["config"]["layers"][1]
    assert entry["class_name"] == "Dense" and entry["module"] == "keras.layers"
    assert entry["config"]["dtype"]["class_name"] == "DTypePolicy"
    assert entry["inbound_nodes"][0]["args"][0]["config"]["keras_history"] == ["x", 0, 0]
    assert config["config"]["input_layers"] == ["x", 0, 0]
    loaded = keras.models.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_h5_layout_is_keras_3s(tmp_path):
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="first"), layers.Dense(2, name="second")])
    seq.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5") as h5:
        found = []
        h5.visit(found.append)
        np.testing.assert_array_equal(h5["layers/dense/vars/0"][()], seq.layers[0].get_weights()[0])
        np.testing.assert_array_equal(h5["layers/dense_1/vars/1"][()], seq.layers[1].get_weights()[1])
        assert h5["layers/dense/vars"].attrs["name"] == "first"
    assert sorted(found) == ["layers", "layers/dense", "layers/dense/vars", "layers/dense/vars/0",
                             "layers/dense/vars/1", "layers/dense_1", "layers/dense_1/vars", "layers/dense_1/vars/0",
                             "layers/dense_1/vars/1", "vars"]
    other = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
    other.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(other.predict(X, verbose=0), seq.predict(X, verbose=0))


def test_damaged_or_mismatched_files_leave_the_model_unchanged(tmp_path):
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
    before = seq.get_weights()
    bad = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(5)])
    bad.save_weights(tmp_path / "bad.weights.h5")
    with pytest.raises(ValueError, match=r"shape \(3, 2\).*\(3, 5\)"):
        seq.load_weights(tmp_path / "bad.weights.h5")
    (tmp_path / "junk.weights.h5").write_bytes(b"not an h5 file")
    with pytest.raises(ValueError, match="not a readable"):
        seq.load_weights(tmp_path / "junk.weights.h5")
    with h5py.File(tmp_path / "nan.weights.h5", "w") as h5:
        h5["layers/dense/vars/0"] = np.full((4, 3), np.nan, np.float32)
        h5["layers/dense/vars/1"] = np.zeros(3, np.float32)
        h5["layers/dense_1/vars/0"] = np.zeros((3, 2), np.float32)
        h5["layers/dense_1/vars/1"] = np.zeros(2, np.float32)
    with pytest.raises(ValueError, match="NaN"):
        seq.load_weights(tmp_path / "nan.weights.h5")
    (tmp_path / "junk.keras").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(ValueError, match="not a readable"):
        keras.models.load_model(tmp_path / "junk.keras")
    for a, b in zip(before, seq.get_weights()):
        np.testing.assert_array_equal(a, b)


def _rewrite_config(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            zout.writestr(name, data)


def test_hostile_configs_are_refused(tmp_path):
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    seq.save(tmp_path / "ok.keras")

    def unknown_class(config):
        config["config"]["layers"][1]["class_name"] = "os.system"

    def unsupported_setting(config):
        config["config"]["layers"][1]["config"]["lora_rank"] = 4

    def wrong_shape(config):
        config["config"]["layers"][1]["config"]["units"] = 7

    def huge(config):
        config["config"]["layers"][0]["config"]["batch_shape"] = [None, 2 ** 40]
        config["config"]["layers"][1]["build_config"]["input_shape"] = [None, 2 ** 40]

    for edit, message in ((unknown_class, "unknown class"), (unsupported_setting, "not supported"),
                          (wrong_shape, r"shape \(4, 7\)"), (huge, "too large to build")):
        _rewrite_config(tmp_path / "ok.keras", tmp_path / "bad.keras", edit)
        with pytest.raises(ValueError, match=message):
            keras.models.load_model(tmp_path / "bad.keras")
    # JSON nested deeper than Python's recursion limit
    with zipfile.ZipFile(tmp_path / "deep.keras", "w") as zf:
        zf.writestr("config.json", "[" * 200000 + "]" * 200000)
        zf.writestr("model.weights.h5", b"")
    with pytest.raises(ValueError, match="not a readable"):
        keras.models.load_model(tmp_path / "deep.keras")


def test_lambda_is_refused_unless_safe_mode_is_off(tmp_path):
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Lambda(lambda t: t * 2.0 + 1.0)(inp))
    model.save(tmp_path / "lam.keras")
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.load_model(tmp_path / "lam.keras")
    loaded = keras.models.load_model(tmp_path / "lam.keras", safe_mode=False)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), X * 2 + 1, rtol=1e-6)


def test_get_config_from_config_and_clone_model():
    model = _every_layer_model()
    for layer in model.layers[1:]:
        config = layer.get_config()
        json.dumps(config)  # plain JSON values
        clone = type(layer).from_config(config)
        assert type(clone) is type(layer) and clone.get_config() == config
    clone = keras.models.clone_model(model)
    assert clone is not model and [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    again = keras.Model.from_config(model.get_config())
    assert [type(layer) for layer in again.layers] == [type(layer) for layer in model.layers]
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    rebuilt = keras.Sequential.from_config(seq.get_config())
    assert rebuilt.input_shape == (None, 4) and rebuilt.built


def test_custom_objects_and_subclassed_weights(tmp_path):
    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    inp = keras.Input((4,))
    model = keras.Model(inp, Scale(3.0)(layers.Dense(2)(inp)))
    model.save(tmp_path / "c.keras")
    with pytest.raises(ValueError, match="custom_objects"):
        keras.models.load_model(tmp_path / "c.keras")
    loaded = keras.models.load_model(tmp_path / "c.keras", custom_objects={"Scale": Scale})
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_missing_h5py_is_a_clear_import_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    with pytest.raises(ImportError, match=r"tensorlet\[keras\]"):
        seq.save(tmp_path / "m.keras")


def test_compiled_model_reloads_compiled(tmp_path):
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    seq.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    seq.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.compiled and isinstance(loaded.optimizer, keras.optimizers.Adam)
    assert loaded.optimizer.learning_rate == pytest.approx(0.01)
    assert keras.models.load_model(tmp_path / "m.keras", compile=False).compiled is False


def test_optimizer_state_travels_so_training_resumes_identically(tmp_path):
    for optimizer in (lambda: keras.optimizers.Adam(0.01), lambda: keras.optimizers.RMSprop(0.01, momentum=0.5),
                      lambda: keras.optimizers.SGD(0.1, momentum=0.9)):
        inp = keras.Input((4,))
        model = keras.Model(inp, layers.Dense(4, activation="softmax")(layers.Dense(5, activation="tanh")(inp)))
        model.compile(optimizer(), "categorical_crossentropy")
        y = np.eye(4, dtype=np.float32)[np.arange(6) % 4]
        model.fit(X, y, epochs=2, batch_size=3, shuffle=False, verbose=0)
        model.save(tmp_path / "r.keras")
        with h5py.File(zipfile.ZipFile(tmp_path / "r.keras").open("model.weights.h5"), "r") as h5:
            assert int(h5["optimizer/vars/0"][()]) == 4
        loaded = keras.models.load_model(tmp_path / "r.keras")
        assert loaded.optimizer.iterations == 4
        fresh = keras.models.clone_model(model)
        fresh.set_weights(model.get_weights())
        fresh.compile(optimizer(), "categorical_crossentropy")  # same weights, no optimizer state
        for m in (model, loaded, fresh):
            m.fit(X, y, epochs=1, batch_size=3, shuffle=False, verbose=0)
        for a, b in zip(model.get_weights(), loaded.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
        assert loaded.optimizer.iterations == 6
        assert any(np.abs(a - b).max() > 1e-5 for a, b in zip(model.get_weights(), fresh.get_weights()))


def test_nested_functional_model_round_trip(tmp_path):
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, layers.Dense(3, activation="relu")(inner_in), name="inner")
    a, b = keras.Input((4,)), keras.Input((4,))
    model = keras.Model([a, b], layers.Dense(1)(layers.Concatenate()([inner(a), inner(b)])))
    x = [X, X[::-1].copy()]
    model.save(tmp_path / "n.keras")
    with h5py.File(zipfile.ZipFile(tmp_path / "n.keras").open("model.weights.h5"), "r") as h5:
        assert h5["layers/functional/layers/dense/vars/0"].shape == (4, 3)  # Keras's path for a nested model
    loaded = keras.models.load_model(tmp_path / "n.keras")
    assert len(loaded.weights) == 4
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_explicit_mask_node_round_trip(tmp_path):
    """The graph Keras writes for a masked Embedding: a NotEqual node whose output is passed as
    `mask=` to the pooling layer."""
    ids = keras.Input((4,), dtype="int64")
    mask = layers.NotEqual()(ids, 0)
    pooled = layers.GlobalAveragePooling1D()(layers.Embedding(6, 3)(ids), mask=mask)
    model = keras.Model(ids, pooled)
    idx = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    table = model.layers[1].get_weights()[0] if model.layers[1].weights else model.layers[2].get_weights()[0]
    keep = (idx != 0)[..., None]
    np.testing.assert_allclose(model.predict(idx, verbose=0), (table[idx] * keep).sum(1) / keep.sum(1), rtol=1e-6)
    model.save(tmp_path / "m.keras")
    config = json.loads(zipfile.ZipFile(tmp_path / "m.keras").read("config.json"))
    entry = next(e for e in config["config"]["layers"] if e["class_name"] == "NotEqual")
    assert entry["module"] == "keras.src.ops.numpy" and entry["inbound_nodes"][0]["args"][1] == 0
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(idx, verbose=0), model.predict(idx, verbose=0), rtol=1e-6)


def test_compile_settings_of_several_outputs_round_trip(tmp_path):
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    h = layers.Concatenate()([a, b])
    model = keras.Model([a, b], {"cls": layers.Dense(3, name="cls")(h), "reg": layers.Dense(1, name="reg")(h)})
    model.compile("sgd", loss={"cls": keras.losses.SparseCategoricalCrossentropy(from_logits=True), "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.25}, metrics={"cls": ["accuracy"]})
    x, y = [X[:, :2], X[:, 2:]], {"cls": np.arange(6) % 3, "reg": X[:, :1]}
    model.save(tmp_path / "c.keras")
    loaded = keras.models.load_model(tmp_path / "c.keras")
    assert loaded.loss[0].get_config() == model.loss[0].get_config()
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(
        model.evaluate(x, y, verbose=0, return_dict=True), rel=1e-6)


class _Net(keras.Model):
    """A subclassed model whose call takes no `training` argument."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(units, activation="relu")
        self.head = layers.Dense(2)

    def call(self, x):
        return self.head(self.hidden(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_subclassed_model_round_trip_with_custom_objects(tmp_path):
    model = _Net(5)
    expected = model.predict(X, verbose=0)  # builds through a call without `training`
    model.save(tmp_path / "s.keras")
    with h5py.File(zipfile.ZipFile(tmp_path / "s.keras").open("model.weights.h5"), "r") as h5:
        assert h5["hidden/vars/0"].shape == (4, 5)  # sublayers under their attribute names, as Keras
    with pytest.raises(ValueError, match="custom_objects"):
        keras.models.load_model(tmp_path / "s.keras")
    loaded = keras.models.load_model(tmp_path / "s.keras", custom_objects={"_Net": _Net})
    assert isinstance(loaded, _Net) and loaded.units == 5
    np.testing.assert_allclose(loaded.predict(X, verbose=0), expected, rtol=1e-6)


def test_model_checkpoint_writes_keras_and_weights_h5_files(tmp_path):
    from tensorlet import keras
    model = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.random((32, 4), dtype=np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 32)]
    model.fit(x, y, epochs=2, verbose=0, callbacks=[
        keras.callbacks.ModelCheckpoint(str(tmp_path / "ck_{epoch}.keras")),
        keras.callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=True)])
    first = keras.models.load_model(str(tmp_path / "ck_1.keras"))
    last = keras.models.load_model(str(tmp_path / "ck_2.keras"))
    np.testing.assert_array_equal(last.predict(x, verbose=0), model.predict(x, verbose=0))
    assert not np.array_equal(first.get_weights()[0], last.get_weights()[0])
    fresh = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    fresh.load_weights(str(tmp_path / "w.weights.h5"))
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_regularizers_and_constraints_round_trip(tmp_path):
    from tensorlet import keras
    model = keras.Sequential([keras.layers.Input((4,)), keras.layers.Dense(
        3, kernel_regularizer=keras.regularizers.L2(0.01), bias_regularizer=keras.regularizers.L1(0.02),
        kernel_constraint=keras.constraints.MaxNorm(2.0))])
    model.save(str(tmp_path / "r.keras"))
    loaded = keras.models.load_model(str(tmp_path / "r.keras"))
    dense = loaded.layers[0]
    assert dense.kernel.regularizer.get_config() == {"l2": 0.01}
    assert dense.bias.regularizer.get_config() == {"l1": 0.02}
    assert dense.kernel.constraint.get_config()["max_value"] == 2.0
    np.testing.assert_allclose([float(np.asarray(p)) for p in loaded.losses],
                               [float(np.asarray(p)) for p in model.losses], rtol=1e-6)
