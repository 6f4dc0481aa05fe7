"""The functional API (keras.Input, layers on KerasTensors, keras.Model(inputs, outputs)),
subclassed models, several inputs/outputs in compile/fit, and fit's class_weight,
steps_per_epoch and validation_freq."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import keras
from tensorlet.keras import layers

RNG = np.random.RandomState(0)
X = RNG.rand(24, 5).astype(np.float32)
Y = RNG.randint(0, 3, 24)


def _pair():
    """The same network as a Sequential model and as a functional one, with equal weights."""
    seq = keras.Sequential([keras.Input((5,)), layers.Dense(4, activation="relu"),
                            layers.Dense(3, activation="softmax")])
    inp = keras.Input((5,))
    out = layers.Dense(3, activation="softmax")(layers.Dense(4, activation="relu")(inp))
    fun = keras.Model(inp, out)
    fun.set_weights(seq.get_weights())
    return seq, fun


def test_keras_tensor_shapes_and_graph():
    inp = keras.Input((5,), name="features")
    assert isinstance(inp, layers.KerasTensor) and inp.shape == (None, 5) and inp.dtype == np.float32
    hidden = layers.Dense(4)(inp)
    assert hidden.shape == (None, 4)
    seq_in = keras.Input((None, 3), dtype="int64")
    assert layers.Embedding(10, 2)(seq_in).shape == (None, None, 3, 2)
    lam = layers.Lambda(lambda t: t[:, :2] * 2)(inp)  # shape found by running the function
    assert lam.shape == (None, 2)
    model = keras.Model(inputs=inp, outputs=[hidden, lam])
    assert [layer.name for layer in model.layers][0] == "features"
    assert model.get_layer("features") is model.layers[0] and model.get_layer(index=1) is model.layers[1]
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("nope")
    with pytest.raises(TypeError, match="no values"):
        np.asarray(inp)


def test_functional_trains_exactly_as_the_same_sequential_model():
    seq, fun = _pair()
    for m in (seq, fun):
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h1 = seq.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0, validation_data=(X, Y)).history
    h2 = fun.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0, validation_data=(X, Y)).history
    assert h1.keys() == h2.keys()
    for k in h1:
        np.testing.assert_allclose(h1[k], h2[k], rtol=1e-5)
    for a, b in zip(seq.get_weights(), fun.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(fun.predict(X, verbose=0), seq.predict(X, verbose=0), rtol=1e-5)


def test_shared_layer_has_one_set_of_weights():
    a, b = keras.Input((5,)), keras.Input((5,))
    shared = layers.Dense(2)
    model = keras.Model([a, b], layers.Subtract()([shared(a), shared(b)]))
    assert len(model.weights) == 2 and len(shared._inbound_nodes) == 2
    x2 = RNG.rand(24, 5).astype(np.float32)
    k, bias = shared.get_weights()
    np.testing.assert_allclose(model.predict([X, x2], verbose=0), (X - x2) @ k, rtol=1e-5, atol=1e-6)
    lines = []
    model.summary(print_fn=lines.append, line_length=100)
    text = "\n".join(lines)
    assert "Connected to" in text and f"{shared.name}[0][0]" in text and f"{shared.name}[1][0]" in text
    seq_like = []
    _pair()[1].summary(print_fn=seq_like.append)
    assert "Connected to" not in "\n".join(seq_like)


def test_several_inputs_and_outputs_with_lists_and_dicts():
    a, b = keras.Input((5,), name="a"), keras.Input((2,), name="b")
    h = layers.Concatenate()([a, b])
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    reg = layers.Dense(1, name="reg")(h)
    model = keras.Model({"a": a, "b": b}, {"cls": cls, "reg": reg})
    xb = RNG.rand(24, 2).astype(np.float32)
    yr = RNG.rand(24, 1).astype(np.float32)
    model.compile("sgd", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    before = model.get_weights()
    logs = model.evaluate({"a": X, "b": xb}, {"cls": Y, "reg": yr}, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-5)
    # The per-output losses against NumPy.
    out = model.predict({"a": X, "b": xb}, verbose=0)
    ce = -np.log(out["cls"][np.arange(24), Y]).mean()
    assert logs["cls_loss"] == pytest.approx(ce, rel=1e-5)
    assert logs["reg_loss"] == pytest.approx(((out["reg"] - yr) ** 2).mean(), rel=1e-5)
    hist = model.fit([X, xb], [Y, yr], epochs=2, batch_size=6, verbose=0).history
    assert set(hist) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    assert hist["loss"][1] < hist["loss"][0]
    assert any(not np.array_equal(p, q) for p, q in zip(before, model.get_weights()))
    assert model.evaluate([X, xb], [Y, yr], verbose=0)[0] == pytest.approx(
        model.evaluate({"a": X, "b": xb}, {"cls": Y, "reg": yr}, verbose=0, return_dict=True)["loss"])
    with pytest.raises(ValueError, match="expects inputs named"):
        model.predict({"a": X}, verbose=0)
    with pytest.raises(ValueError, match=r"2 outputs"):
        model.fit([X, xb], Y, verbose=0)
    with pytest.raises(ValueError, match="not outputs of the model"):
        model.compile("sgd", loss={"nope": "mse"})


def test_disconnected_graph_and_bad_arguments():
    a, b = keras.Input((3,)), keras.Input((3,))
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, layers.Add()([a, b]))
    with pytest.raises(ValueError, match="symbolic tensor"):
        keras.Model(a, np.zeros(3))
    with pytest.raises(ValueError, match="mix of symbolic"):
        layers.Add()([a, np.zeros((1, 3), np.float32)])
    model = keras.Model(a, layers.Dense(2)(a))
    with pytest.raises(ValueError, match="incompatible"):
        model.compile("sgd", "mse") or model.fit(np.zeros((4, 4)), np.zeros((4, 2)), verbose=0)


class _Block(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = layers.Dense(units)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(self.units,), initializer="ones")

    def call(self, x):
        return self.dense(x) * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape[:-1] + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class _Net(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = _Block(4)
        self.drop = layers.Dropout(0.5)
        self.head = layers.Dense(3, activation="softmax")

    def call(self, x, training=None):
        return self.head(self.drop(self.block(x), training=training))


def test_subclassed_model_with_custom_layer_trains_and_tracks_weights():
    net = _Net()
    net.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    net.build((None, 5))
    before = net.evaluate(X, Y, verbose=0)[0]
    hist = net.fit(X, Y, epochs=10, verbose=0).history
    assert len(net.weights) == 5 and len(net.trainable_weights) == 5 and len(hist["loss"]) == 10
    assert net.evaluate(X, Y, verbose=0)[0] < before
    p1, p2 = net.predict(X, verbose=0), net.predict(X, verbose=0)
    np.testing.assert_array_equal(p1, p2)  # dropout off at inference
    assert net.evaluate(X, Y, verbose=0)[0] > 0
    lines = []
    net.summary(print_fn=lines.append)
    block_row = next(line for line in lines if "(_Block)" in line)
    assert "(None, 4)" in block_row and "?" not in "".join(lines)  # shapes from the layers' last calls
    inp = keras.Input((5,))
    assert _Block(7)(inp).shape == (None, 7)


def test_layer_losses_join_the_training_loss():
    class Penalised(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 3), initializer="ones",
                                     regularizer=lambda w: 0.01 * tl.sum(w * w))

        def call(self, x):
            return tl.matmul(x, self.w)

    inp = keras.Input((5,))
    model = keras.Model(inp, layers.Activation("softmax")(Penalised()(inp)))
    model.compile("sgd", "sparse_categorical_crossentropy")
    plain = -np.log(model.predict(X, verbose=0)[np.arange(24), Y]).mean()
    assert model.evaluate(X, Y, verbose=0) == pytest.approx(plain + 0.01 * 15, rel=1e-5)


def test_class_weight_equals_the_sample_weights_it_stands_for():
    weights = {0: 1.0, 1: 2.0, 2: 0.5}
    seq_a, seq_b = _pair()[0], _pair()[0]
    seq_b.set_weights(seq_a.get_weights())
    for m in (seq_a, seq_b):
        m.compile("sgd", "sparse_categorical_crossentropy")
    h1 = seq_a.fit(X, Y, class_weight=weights, shuffle=False, batch_size=8, verbose=0, epochs=2).history
    h2 = seq_b.fit(X, Y, sample_weight=np.array([weights[c] for c in Y]), shuffle=False, batch_size=8,
                   verbose=0, epochs=2).history
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-6)
    with pytest.raises(ValueError, match="class_weight"):
        seq_a.fit(X, Y, class_weight=[1, 2], verbose=0)


def test_steps_per_epoch_and_validation_freq():
    seq = _pair()[0]
    seq.compile("sgd", "sparse_categorical_crossentropy")
    seen = []
    cb = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch)) \
        if hasattr(keras.callbacks, "LambdaCallback") else None
    if cb is None:
        class Count(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                seen.append(batch)
        cb = Count()
    hist = seq.fit(X, Y, batch_size=4, epochs=4, steps_per_epoch=2, validation_data=(X, Y), validation_freq=2,
                   verbose=0, callbacks=[cb]).history
    assert seen == [0, 1] * 4
    assert len(hist["loss"]) == 4 and len(hist["val_loss"]) == 2
    with pytest.raises(ValueError, match="steps_per_epoch"):
        seq.fit(X, Y, steps_per_epoch=0, verbose=0)


def test_pickle_and_deepcopy_of_a_functional_model():
    import copy
    import pickle
    a, b = keras.Input((5,)), keras.Input((5,))
    shared = layers.Dense(3)
    model = keras.Model([a, b], layers.Concatenate()([shared(a), shared(b)]))
    model.compile("adam", "mse")
    x = [X, X[::-1].copy()]
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))
        twin.fit(x, np.zeros((24, 6)), verbose=0)
        assert not np.array_equal(twin.get_weights()[0], model.get_weights()[0])  # separate weights


def test_subclassed_model_with_its_own_build_builds_once():
    class Linear(keras.Model):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2))
            self.b = self.add_weight(shape=(2,), initializer="zeros")

        def call(self, x):
            return tl.matmul(x, self.w) + self.b

    model = Linear()
    model.compile("sgd", "mse")
    for _ in range(2):
        model.fit(X, np.zeros((24, 2)), verbose=0)
    assert len(model.weights) == 2


def test_layer_outputs_of_a_sequential_model_feed_a_feature_extractor():
    """Keras's pattern: keras.Model(model.inputs, [layer.output for layer in model.layers])."""
    seq = _pair()[0]
    extractor = keras.Model(inputs=seq.inputs, outputs=[layer.output for layer in seq.layers])
    hidden, probs = extractor.predict(X, verbose=0)
    k, b = seq.layers[0].get_weights()
    np.testing.assert_allclose(hidden, np.maximum(X @ k + b, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs, seq.predict(X, verbose=0), rtol=1e-6)
    assert seq.layers[0].input is seq.inputs[0] and seq.output is seq.outputs[0]
    assert len(seq.layers[0]._inbound_nodes) == 1  # the graph is made once
    with pytest.raises(AttributeError, match="never been called"):
        layers.Dense(2).output
    with pytest.raises(AttributeError, match="no Input"):
        keras.Sequential([layers.Dense(2)]).outputs
