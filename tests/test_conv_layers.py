"""Conv1D/Conv2D and the pooling layers: Keras's shapes, parameter counts, configs and errors,
their outputs against the ops, and a tiny convnet that learns through Sequential.fit."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import keras, layers, models
from conv_reference import conv as np_conv


def chapter5_model():
    model = models.Sequential()
    model.add(layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D((2, 2)))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    return model


def test_chapter5_summary_matches_keras():
    model = chapter5_model()
    assert model.layer_output_shapes() == [(None, 26, 26, 32), (None, 13, 13, 32), (None, 11, 11, 64),
                                           (None, 5, 5, 64), (None, 3, 3, 64)]
    assert [layer.count_params() for layer in model.layers] == [320, 0, 18496, 0, 36928]
    model.add(layers.Flatten())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    assert model.count_params() == 93322
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for expected in ("(None, 26, 26, 32)", "(None, 13, 13, 32)", "(None, 3, 3, 64)", "(None, 576)", "18,496",
                     "36,928", "93,322"):
        assert expected in text
    assert model(np.zeros((2, 28, 28, 1), np.float32)).shape == (2, 10)


def test_keras_namespace_has_the_layers():
    for name in ("Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
                 "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D"):
        assert getattr(keras.layers, name) is getattr(layers, name)


@pytest.mark.parametrize("activation,fn", [("relu", lambda v: np.maximum(v, 0)), (None, lambda v: v),
                                           ("tanh", np.tanh)])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_output_is_conv_plus_bias_then_activation(padding, activation, fn):
    layer = layers.Conv2D(4, (3, 2), strides=(2, 1), padding=padding, activation=activation,
                          bias_initializer="random_normal")
    x = np.random.default_rng(0).standard_normal((2, 7, 6, 3)).astype(np.float32)
    y = np.asarray(layer(x))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 3, 4) and bias.shape == (4,)
    want = fn(np_conv(x.astype(np.float64), kernel.astype(np.float64), (2, 1), padding, (1, 1)) + bias)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape((None, 7, 6, 3)) == (None,) + y.shape[1:]


def test_conv1d_and_channels_first():
    c1 = layers.Conv1D(5, 3, strides=2, padding="same", use_bias=False)
    assert c1(np.ones((2, 9, 4), np.float32)).shape == (2, 5, 5)
    assert c1.compute_output_shape((None, 9, 4)) == (None, 5, 5)
    assert c1.count_params() == 3 * 4 * 5
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 7)).astype(np.float32)  # NCHW
    cf = layers.Conv2D(6, 3, data_format="channels_first", bias_initializer="ones")
    y = cf(x)
    assert y.shape == (2, 6, 6, 5) == (2,) + cf.compute_output_shape((None, 3, 8, 7))[1:]
    cl = layers.Conv2D(6, 3, bias_initializer="ones")
    cl.build((None, 8, 7, 3))
    cl.set_weights(cf.get_weights())
    np.testing.assert_allclose(np.asarray(y), np.moveaxis(np.asarray(cl(np.moveaxis(x, 1, -1))), -1, 1), rtol=1e-5,
                               atol=1e-6)


def test_pooling_layer_shapes():
    assert layers.MaxPooling2D().compute_output_shape((None, 13, 13, 32)) == (None, 6, 6, 32)
    assert layers.MaxPooling2D(3, strides=2, padding="same").compute_output_shape((None, 13, 13, 8)) == \
        (None, 7, 7, 8)
    assert layers.AveragePooling1D(pool_size=4, strides=1).compute_output_shape((None, 10, 3)) == (None, 7, 3)
    assert layers.AveragePooling2D(data_format="channels_first").compute_output_shape((None, 3, 9, 8)) == \
        (None, 3, 4, 4)
    x = np.random.default_rng(2).standard_normal((2, 5, 6, 3)).astype(np.float32)
    assert layers.MaxPooling2D(padding="same")(x).shape == (2, 3, 3, 3)
    np.testing.assert_allclose(np.asarray(layers.GlobalAveragePooling2D()(x)), x.mean(axis=(1, 2)), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(layers.GlobalMaxPooling2D(keepdims=True)(x)),
                                  x.max(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(np.asarray(layers.GlobalAveragePooling1D()(x[:, 0])), x[:, 0].mean(axis=1), rtol=1e-6)
    assert layers.GlobalMaxPooling1D().compute_output_shape((None, 7, 3)) == (None, 3)
    assert layers.GlobalAveragePooling2D(data_format="channels_first").compute_output_shape((None, 3, 5, 5)) == \
        (None, 3)


def test_configs():
    cfg = layers.Conv2D(8, 3, padding="same", activation="relu", name="c").get_config()
    assert cfg["filters"] == 8 and cfg["kernel_size"] == (3, 3) and cfg["strides"] == (1, 1)
    assert cfg["padding"] == "same" and cfg["dilation_rate"] == (1, 1) and cfg["activation"] == "relu"
    assert cfg["data_format"] == "channels_last" and cfg["use_bias"] is True
    pcfg = layers.MaxPooling2D().get_config()
    assert pcfg["pool_size"] == (2, 2) and pcfg["strides"] == (2, 2) and pcfg["padding"] == "valid"
    assert layers.GlobalAveragePooling2D(keepdims=True).get_config()["keepdims"] is True


@pytest.mark.parametrize("make", [lambda: layers.Conv2D(4, 3), lambda: layers.MaxPooling2D(),
                                  lambda: layers.AveragePooling2D(), lambda: layers.GlobalMaxPooling2D()])
def test_a_batch_of_the_wrong_rank_is_a_clear_error(make):
    layer = make()
    with pytest.raises(ValueError, match="rank 4"):
        layer(np.ones((28, 28, 1), np.float32))  # one image without its batch axis
    layer(np.ones((2, 8, 8, 1), np.float32))
    with pytest.raises(ValueError, match="rank 4"):
        layer(np.ones((8, 8, 1), np.float32))


def test_conv_layer_errors():
    with pytest.raises(ValueError, match="filters"):
        layers.Conv2D(0, 3)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(4, (3, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv2D(4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="pool_size"):
        layers.MaxPooling2D(0)
    layer = layers.Conv2D(4, 3)
    layer(np.ones((1, 5, 5, 2), np.float32))
    with pytest.raises(ValueError, match="expected 2 channels"):
        layer(np.ones((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        layers.Conv2D(4, 5).compute_output_shape((None, 4, 9, 1))
    model = models.Sequential([layers.Conv2D(4, 3), layers.MaxPooling2D(4)])
    with pytest.raises(ValueError, match="does not fit"):
        model.build((None, 5, 5, 1))


def test_tiny_convnet_learns():
    # Which quadrant of an 8x8 image holds a bright 2x2 square: needs spatial features.
    rng = np.random.default_rng(0)
    n = 512
    labels = rng.integers(0, 4, n)
    x = rng.uniform(0, 0.3, (n, 8, 8, 1)).astype(np.float32)
    for i, q in enumerate(labels):
        r, c = 4 * (q // 2) + rng.integers(0, 3), 4 * (q % 2) + rng.integers(0, 3)
        x[i, r:r + 2, c:c + 2, 0] = 1.0
    tl.random.seed(0)
    model = models.Sequential([layers.Conv2D(8, 3, activation="relu", input_shape=(8, 8, 1)),
                               layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(4, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.evaluate(x, labels, verbose=0)
    history = model.fit(x, labels, epochs=15, batch_size=32, verbose=0)
    loss, acc = model.evaluate(x, labels, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert loss < before[0] / 4 and acc > 0.95
