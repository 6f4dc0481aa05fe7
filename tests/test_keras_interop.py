"""The .keras round trip with Keras 3 itself, both ways, and the same training in both
frameworks from the same weights. Needs Keras 3 (with a backend) importable in this Python: skipped
otherwise. Also runnable as a script (``python test_keras_interop.py``) in an environment that has
Keras but not pytest."""
import os
import tempfile

import numpy as np

try:
    import pytest
    keras3 = pytest.importorskip("keras", reason="Keras 3 is not installed in this Python")
except ImportError:  # run as a script
    import keras as keras3

from tensorlet import keras as tkeras

X = np.random.RandomState(0).rand(16, 6).astype(np.float32)
Y = np.random.RandomState(1).randint(0, 3, 16)


def _build(k):
    """The same functional model in either framework (k is keras or tensorlet.keras)."""
    layers = k.layers
    inp = k.Input((6,), name="x")
    a = layers.Dense(5, activation="relu")(inp)
    b = layers.Dense(5)(inp)
    h = layers.Concatenate()([layers.Add()([a, b]), layers.Multiply()([a, b]), layers.Maximum()([a, b])])
    h = layers.LeakyReLU(negative_slope=0.1)(layers.ELU()(h))
    h = layers.Reshape((3, 5))(h)
    h = layers.Permute((2, 1))(h)
    h = layers.Flatten()(h)
    norm = layers.Normalization()
    norm.adapt(np.random.RandomState(3).rand(20, 15).astype(np.float32))
    h = layers.UnitNormalization()(norm(h))
    h = layers.Dropout(0.3)(layers.GaussianNoise(0.1)(h))
    out = layers.Dense(3, activation="softmax")(layers.ReLU(max_value=4.0)(h))
    return k.Model(inp, out)


def _build_more(k):
    """The other layers: Subtract, Average, Minimum, RepeatVector, SpatialDropout1D, Conv1D,
    pooling, Softmax."""
    layers = k.layers
    inp = k.Input((6,), name="x")
    a, b = layers.Dense(4)(inp), layers.Dense(4, activation="tanh")(inp)
    h = layers.Concatenate()([layers.Subtract()([a, b]), layers.Average()([a, b]), layers.Minimum()([a, b])])
    h = layers.SpatialDropout1D(0.2)(layers.RepeatVector(3)(h))
    h = layers.Conv1D(4, 2, activation="relu")(h)
    h = layers.GlobalAveragePooling1D()(layers.MaxPooling1D(1)(h))
    return k.Model(inp, layers.Softmax()(layers.Dense(3)(h)))


def _build_conv(k):
    """Conv layers, including the BatchNormalization and depthwise / separable ones."""
    layers = k.layers
    inp = k.Input((8, 8, 2), name="img")
    h = layers.ZeroPadding2D(1)(inp)
    h = layers.Conv2D(4, 3, activation="relu")(h)
    h = layers.BatchNormalization()(h)
    h = layers.DepthwiseConv2D(3, padding="same")(h)
    h = layers.SeparableConv2D(3, 3)(h)
    h = layers.MaxPooling2D()(h)
    return k.Model(inp, layers.Dense(2)(layers.Flatten()(h)))


def _save_load(save_with, load_with, build=_build, perturb=False):
    src = build(save_with)
    if perturb:  # every weight away from its initial value (moving variances stay positive)
        rng = np.random.RandomState(7)
        src.set_weights([np.abs(np.asarray(w)) + 0.1 + rng.rand(*np.shape(w)).astype(np.float32) * 0.5
                         for w in src.get_weights()])
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.keras")
        src.save(path)
        dst = load_with.models.load_model(path)
        return np.asarray(src.predict(X, verbose=0)), np.asarray(dst.predict(X, verbose=0))


def test_tensorlet_file_loads_in_keras():
    a, b = _save_load(tkeras, keras3)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_keras_file_loads_in_tensorlet():
    a, b = _save_load(keras3, tkeras)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_more_layers_both_ways():
    for save_with, load_with in ((tkeras, keras3), (keras3, tkeras)):
        a, b = _save_load(save_with, load_with, _build_more)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_conv_layers_both_ways():
    global X
    flat, X = X, np.random.RandomState(5).rand(3, 8, 8, 2).astype(np.float32)
    try:
        for save_with, load_with in ((tkeras, keras3), (keras3, tkeras)):
            a, b = _save_load(save_with, load_with, _build_conv, perturb=True)
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    finally:
        X = flat


def test_keras_lambda_is_refused_in_safe_mode():
    inp = keras3.Input((6,))
    model = keras3.Model(inp, keras3.layers.Lambda(lambda t: t * 2.0)(inp))
    with tempfile.TemporaryDirectory() as d:
        model.save(os.path.join(d, "l.keras"))
        try:
            tkeras.models.load_model(os.path.join(d, "l.keras"))
        except ValueError as e:
            assert "safe_mode=False" in str(e)
        else:
            raise AssertionError("a Lambda was loaded in safe mode")
        loaded = tkeras.models.load_model(os.path.join(d, "l.keras"), safe_mode=False)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), X * 2.0, rtol=1e-6)


def test_nested_model_round_trip():
    def build(k):
        inner_in = k.Input((6,))
        inner = k.Model(inner_in, k.layers.Dense(3, activation="relu")(inner_in), name="inner")
        a, b = k.Input((6,)), k.Input((6,))
        return k.Model([a, b], k.layers.Dense(2)(k.layers.Concatenate()([inner(a), inner(b)])))

    x = [X, X[::-1].copy()]
    for save_with, load_with in ((tkeras, keras3), (keras3, tkeras)):
        model = build(save_with)
        with tempfile.TemporaryDirectory() as d:
            model.save(os.path.join(d, "n.keras"))
            other = load_with.models.load_model(os.path.join(d, "n.keras"))
        np.testing.assert_allclose(np.asarray(other.predict(x, verbose=0)), np.asarray(model.predict(x, verbose=0)),
                                   rtol=1e-5, atol=1e-6)


def test_masked_embedding_average_matches_keras():
    def build(k):
        ids = k.Input((5,), dtype="int32")
        h = k.layers.Dense(4, activation="relu")(k.layers.Embedding(12, 3, mask_zero=True)(ids))
        return k.Model(ids, k.layers.Dense(2)(k.layers.GlobalAveragePooling1D()(h)))

    idx = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 7], [9, 0, 0, 0, 0]])
    for save_with, load_with in ((tkeras, keras3), (keras3, tkeras)):
        model = build(save_with)
        with tempfile.TemporaryDirectory() as d:
            model.save(os.path.join(d, "m.keras"))
            other = load_with.models.load_model(os.path.join(d, "m.keras"))
        np.testing.assert_allclose(np.asarray(other.predict(idx, verbose=0)),
                                   np.asarray(model.predict(idx, verbose=0)), rtol=1e-5, atol=1e-6)


def test_embedding_and_sequential_round_trip():
    for save_with, load_with in ((tkeras, keras3), (keras3, tkeras)):
        model = save_with.Sequential([save_with.Input((4,), dtype="int32"), save_with.layers.Embedding(10, 3),
                                      save_with.layers.Flatten(), save_with.layers.Dense(2)])
        idx = np.random.RandomState(2).randint(0, 10, (5, 4))
        with tempfile.TemporaryDirectory() as d:
            model.save(os.path.join(d, "e.keras"))
            other = load_with.models.load_model(os.path.join(d, "e.keras"))
        np.testing.assert_allclose(np.asarray(other.predict(idx, verbose=0)), np.asarray(model.predict(idx, verbose=0)),
                                   rtol=1e-5, atol=1e-6)


def test_same_training_in_both_frameworks():
    """Functional model, same initial weights, shuffle off, no dropout / noise: the same history."""
    def net(k):
        inp = k.Input((6,))
        a = k.layers.Dense(4, activation="relu")(inp)
        b = k.layers.Dense(4, activation="tanh")(inp)
        out = k.layers.Dense(3, activation="softmax")(k.layers.Concatenate()([a, b]))
        return k.Model(inp, out)

    kt, kk = net(tkeras), net(keras3)
    kk.set_weights(kt.get_weights())
    histories = []
    for m, k in ((kt, tkeras), (kk, keras3)):
        m.compile(k.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
        histories.append(m.fit(X, Y, epochs=3, batch_size=4, shuffle=False, verbose=0, validation_data=(X, Y)).history)
    for key in histories[1]:
        np.testing.assert_allclose(histories[0][key], histories[1][key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_training_resumes_after_a_round_trip_with_the_optimizer_state():
    """Train in one framework, save, load in the other, train one more epoch in both: the
    same weights (the Adam / RMSprop slots and step count travel in the file)."""
    def net(k):
        inp = k.Input((6,))
        return k.Model(inp, k.layers.Dense(3, activation="softmax")(k.layers.Dense(4, activation="relu")(inp)))

    for opt in ("adam", "rmsprop"):
        for first, second in ((tkeras, keras3), (keras3, tkeras)):
            model = net(first)
            model.compile(first.optimizers.get(opt) if hasattr(first.optimizers, "get") else opt,
                          "sparse_categorical_crossentropy")
            model.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0)
            with tempfile.TemporaryDirectory() as d:
                model.save(os.path.join(d, "r.keras"))
                other = second.models.load_model(os.path.join(d, "r.keras"))
            assert int(np.asarray(other.optimizer.iterations)) == 8
            model.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
            other.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
            for a, b in zip(model.get_weights(), other.get_weights()):
                np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6, err_msg=opt)


def test_compile_settings_travel_both_ways():
    """Several outputs, a loss object with from_logits, loss weights and per-output metrics: the
    loaded model is compiled alike and evaluates to the same logs."""
    x = [X[:, :4], X[:, 4:]]
    y = {"cls": Y, "reg": X[:, :1]}
    for save_with, load_with in ((keras3, tkeras), (tkeras, keras3)):
        a, b = save_with.Input((4,), name="a"), save_with.Input((2,), name="b")
        h = save_with.layers.Concatenate()([a, b])
        model = save_with.Model([a, b], {"cls": save_with.layers.Dense(3, name="cls")(h),
                                         "reg": save_with.layers.Dense(1, name="reg")(h)})
        model.compile("sgd", loss={"cls": save_with.losses.SparseCategoricalCrossentropy(from_logits=True),
                                   "reg": "mse"}, loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
        model.fit(x, y, verbose=0)
        with tempfile.TemporaryDirectory() as d:
            model.save(os.path.join(d, "c.keras"))
            other = load_with.models.load_model(os.path.join(d, "c.keras"))
        want = model.evaluate(x, y, verbose=0, return_dict=True)
        got = other.evaluate(x, y, verbose=0, return_dict=True)
        assert set(want) == set(got)
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-5, err_msg=key)


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_"):
            fn()
            print("passed", name)
