"""BatchNormalization, DepthwiseConv2D, SeparableConv2D, ZeroPadding2D and Conv2D(groups=...):
Keras's weights (names, shapes, order), parameter counts, shape inference for summary(), the
training flag in fit vs evaluate/predict, outputs against NumPy, and errors."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import keras, layers, models, utils
from conv_reference import depthwise_conv as np_depthwise, grouped_conv as np_grouped


def mixed_model():
    return models.Sequential([
        layers.ZeroPadding2D(((1, 2), (0, 1)), input_shape=(8, 8, 3)),
        layers.DepthwiseConv2D(3, depth_multiplier=2),
        layers.BatchNormalization(),
        layers.SeparableConv2D(6, 3, padding="same", activation="relu"),
        layers.Conv2D(4, 3, groups=2),
        layers.GlobalAveragePooling2D(),
        layers.Dense(2, activation="softmax"),
    ])


def test_shapes_parameter_counts_and_summary_as_keras():
    model = mixed_model()
    assert model.layer_output_shapes() == [(None, 11, 9, 3), (None, 9, 7, 6), (None, 9, 7, 6), (None, 9, 7, 6),
                                           (None, 7, 5, 4), (None, 4), (None, 2)]
    # 3*3*3*2 + 6; 4 * 6; 3*3*6 + 6*6 + 6; 3*3*3*4 + 4
    assert [layer.count_params() for layer in model.layers] == [0, 60, 24, 96, 112, 0, 10]
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 302" in text and "Trainable params: 290" in text and "Non-trainable params: 12" in text
    bn = model.layers[2]
    assert bn.weight_names == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.requires_grad for w in bn.weights] == [True, True, False, False]
    assert model.layers[1].weight_names == ["kernel", "bias"]
    assert [w.shape for w in model.layers[1].weights] == [(3, 3, 3, 2), (6,)]
    sep = model.layers[3]
    assert sep.weight_names == ["depthwise_kernel", "pointwise_kernel", "bias"]
    assert [w.shape for w in sep.weights] == [(3, 3, 6, 1), (1, 1, 6, 6), (6,)]
    assert model.layers[4].kernel.shape == (3, 3, 3, 4)


def test_keras_namespace_has_the_layers():
    for name in ("BatchNormalization", "DepthwiseConv2D", "SeparableConv2D", "ZeroPadding2D", "DepthwiseConv1D",
                 "SeparableConv1D", "ZeroPadding1D"):
        assert getattr(keras.layers, name) is getattr(layers, name)


def test_layer_outputs_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 5, 4)).astype(np.float32)
    x64 = x.astype(np.float64)
    dw = layers.DepthwiseConv2D((3, 2), strides=2, padding="same", depth_multiplier=2, bias_initializer="random_normal")
    y = np.asarray(dw(x))
    kernel, bias = (w.astype(np.float64) for w in dw.get_weights())
    np.testing.assert_allclose(y, np_depthwise(x64, kernel, (2, 2), "same", (1, 1)) + bias, rtol=1e-5, atol=1e-5)
    sep = layers.SeparableConv2D(3, 3, activation="relu", bias_initializer="random_normal")
    y = np.asarray(sep(x))
    d, p, b = (w.astype(np.float64) for w in sep.get_weights())
    want = np.maximum(np_depthwise(x64, d, (1, 1), "valid", (1, 1)) @ p[0, 0] + b, 0)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
    grouped = layers.Conv2D(6, 3, groups=2, padding="same")
    y = np.asarray(grouped(x))
    k, b = (w.astype(np.float64) for w in grouped.get_weights())
    np.testing.assert_allclose(y, np_grouped(x64, k, (1, 1), "same", (1, 1)) + b, rtol=1e-5, atol=1e-5)
    pad = layers.ZeroPadding2D((1, 2))
    np.testing.assert_array_equal(np.asarray(pad(x)), np.pad(x, ((0, 0), (1, 1), (2, 2), (0, 0))))


@pytest.mark.parametrize("padding,pairs", [(2, ((2, 2), (2, 2))), ((1, 3), ((1, 1), (3, 3))),
                                           (((0, 1), (2, 3)), ((0, 1), (2, 3)))])
def test_zero_padding_forms_and_channels_first(padding, pairs):
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5)).astype(np.float32)
    last = layers.ZeroPadding2D(padding)
    np.testing.assert_array_equal(np.asarray(last(x)), np.pad(x, ((0, 0),) + pairs + ((0, 0),)))
    first = layers.ZeroPadding2D(padding, data_format="channels_first")
    np.testing.assert_array_equal(np.asarray(first(x)), np.pad(x, ((0, 0), (0, 0)) + pairs))
    assert first.compute_output_shape((None, 3, 4, 5)) == (None, 3, 4 + sum(pairs[0]), 5 + sum(pairs[1]))
    xt = tl.array(x, requires_grad=True)
    tl.sum(last(xt) * 2).backward()  # the gradient is the padded region cut away
    np.testing.assert_array_equal(np.asarray(xt.grad), np.full(x.shape, 2, np.float32))


def test_depthwise_and_separable_channels_first_equal_channels_last():
    x = np.random.default_rng(2).standard_normal((2, 7, 6, 3)).astype(np.float32)
    for make in (lambda f: layers.DepthwiseConv2D(3, depth_multiplier=2, data_format=f, padding="same"),
                 lambda f: layers.SeparableConv2D(4, 3, data_format=f, bias_initializer="ones")):
        last, first = make("channels_last"), make("channels_first")
        last.build((None, 7, 6, 3))
        first.build((None, 3, 7, 6))
        first.set_weights(last.get_weights())
        np.testing.assert_allclose(np.asarray(first(np.moveaxis(x, -1, 1))), np.moveaxis(np.asarray(last(x)), -1, 1),
                                   rtol=1e-5, atol=1e-6)


def test_batch_normalization_training_flag_and_moving_statistics():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((32, 4)) * 3 + 2).astype(np.float32)
    bn = layers.BatchNormalization(momentum=0.8)
    inference = np.asarray(bn(x))  # training=False: moving statistics 0 and 1
    np.testing.assert_allclose(inference, x / np.sqrt(1 + 1e-3), rtol=1e-6)
    assert np.all(bn.get_weights()[2] == 0)  # inference leaves them alone
    y = np.asarray(bn(x, training=True))
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(y, (x64 - x64.mean(0)) / np.sqrt(x64.var(0) + 1e-3), rtol=1e-4, atol=1e-5)
    gamma, beta, mm, mv = bn.get_weights()
    np.testing.assert_allclose(mm, 0.2 * x64.mean(0), rtol=1e-5)
    np.testing.assert_allclose(mv, 0.8 + 0.2 * x64.var(0), rtol=1e-5)
    bn.trainable = False  # Keras: a frozen BatchNormalization runs in inference mode
    np.testing.assert_allclose(np.asarray(bn(x, training=True)), (x64 - mm) / np.sqrt(mv + 1e-3), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(bn.get_weights()[2], mm)


def test_batch_normalization_channels_first_axis_and_options():
    x = np.random.default_rng(4).standard_normal((4, 3, 5, 5)).astype(np.float32)
    bn = layers.BatchNormalization(axis=1, center=False, scale=False, epsilon=0.01)
    y = np.asarray(bn(x, training=True))
    assert bn.weight_names == ["moving_mean", "moving_variance"] and bn.count_params() == 6
    x64 = x.astype(np.float64)
    m, v = x64.mean((0, 2, 3), keepdims=True), x64.var((0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x64 - m) / np.sqrt(v + 0.01), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="expected axis 1 of input shape to have value 3"):
        bn(np.zeros((4, 2, 5, 5), np.float32))


def test_fit_uses_batch_statistics_and_evaluate_predict_use_moving_ones():
    utils.set_random_seed(0)
    x = (np.random.default_rng(5).standard_normal((40, 3)) * 2 + 5).astype(np.float32)
    y = (x[:, 0] > 5).astype(np.int64)
    model = models.Sequential([layers.BatchNormalization(input_shape=(3,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=40, epochs=3, verbose=0, shuffle=False)
    _, _, mm, mv = model.layers[0].get_weights()
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(mm, (1 - 0.99 ** 3) * x64.mean(0), rtol=1e-4)  # three steps of the same batch
    np.testing.assert_allclose(mv, 0.99 ** 3 + (1 - 0.99 ** 3) * x64.var(0), rtol=1e-4)
    before = [w.copy() for w in model.get_weights()]
    predictions = model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    for a, b in zip(model.get_weights(), before):  # inference does not touch the moving statistics
        np.testing.assert_array_equal(a, b)
    gamma, beta = before[0], before[1]
    normed = (x64 - mm) / np.sqrt(mv + 1e-3) * gamma + beta
    logits = normed @ before[4] + before[5]
    want = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(predictions, want / want.sum(1, keepdims=True), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make,shape", [
    (lambda: layers.DepthwiseConv2D(3), (4, 8, 8)),
    (lambda: layers.SeparableConv2D(2, 3), (4, 8, 8, 1, 1)),
    (lambda: layers.ZeroPadding2D(1), (4, 8, 8)),
    (lambda: layers.DepthwiseConv1D(3), (4, 8, 8, 2)),
])
def test_a_batch_of_the_wrong_rank_is_a_clear_error(make, shape):
    with pytest.raises(ValueError, match=r"expects inputs of rank \d .*got shape"):
        make()(np.zeros(shape, np.float32))


def test_argument_errors():
    with pytest.raises(ValueError, match="depth_multiplier must be a positive integer"):
        layers.DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match="filters must be a positive integer"):
        layers.SeparableConv2D(0, 3)
    with pytest.raises(ValueError, match="groups=3 must divide filters=4"):
        layers.Conv2D(4, 3, groups=3)
    with pytest.raises(ValueError, match="not divisible by groups=2"):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="padding must be"):
        layers.ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match="padding must be"):
        layers.ZeroPadding2D(-1)
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        layers.BatchNormalization(axis=3)(np.zeros((2, 3), np.float32))
    dw = layers.DepthwiseConv2D(3)
    dw(np.zeros((1, 5, 5, 2), np.float32))
    with pytest.raises(ValueError, match="expected 2 channels"):
        dw(np.zeros((1, 5, 5, 3), np.float32))
