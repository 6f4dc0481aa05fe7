"""Layers, activations and initializers against NumPy."""
import re

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import activations, initializers, layers


def _np(t):
    return np.asarray(t)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


NUMPY_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "softmax": _softmax,
}


@pytest.mark.parametrize("name", sorted(NUMPY_ACTIVATIONS))
def test_dense_forward_matches_numpy(name):
    x = np.random.normal(size=(6, 5)).astype(np.float32)
    layer = layers.Dense(4, activation=name)
    y = layer(x)
    w, b = layer.get_weights()
    assert w.shape == (5, 4) and b.shape == (4,)
    np.testing.assert_allclose(_np(y), NUMPY_ACTIVATIONS[name](x @ w + b), rtol=1e-5, atol=1e-6)
    assert y.dtype == np.float32


def test_dense_builds_lazily_with_keras_shapes_and_counts():
    layer = layers.Dense(512, activation="relu")
    assert not layer.built and layer.weights == []
    layer(tl.array(np.zeros((2, 784), np.float32)))
    assert layer.built
    assert layer.kernel.shape == (784, 512) and layer.bias.shape == (512,)
    assert layer.count_params() == 401920
    assert layer.compute_output_shape((None, 784)) == (None, 512)
    assert all(w.requires_grad for w in layer.trainable_weights)


def test_dense_without_bias_and_with_initializers():
    layer = layers.Dense(3, use_bias=False, kernel_initializer="ones")
    y = layer(np.ones((2, 4), np.float32))
    np.testing.assert_array_equal(_np(y), np.full((2, 3), 4.0, np.float32))
    assert len(layer.weights) == 1 and layer.bias is None


def test_layer_names_are_unique_like_keras():
    a, b = layers.Dense(1), layers.Dense(1)
    assert re.fullmatch(r"dense(_\d+)?", a.name) and re.fullmatch(r"dense_\d+", b.name) and a.name != b.name
    assert layers.Dense(1, name="out").name == "out"


def test_dense_rejects_a_wrong_input_width_naming_layer_and_shapes():
    layer = layers.Dense(2, name="d_width")
    layer(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match=r'layer "d_width".*value 3.*\(None, 5\)'):
        layer(np.ones((1, 5), np.float32))


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3"])
def test_dense_rejects_bad_units(bad):
    with pytest.raises(ValueError, match="units"):
        layers.Dense(bad)


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match="'relu', 'sigmoid', 'tanh', 'softmax', 'linear'"):
        layers.Dense(2, activation="swishy")
    with pytest.raises(ValueError):
        activations.get(42)


def test_activation_functions_and_layer():
    z = np.random.normal(size=(3, 4)).astype(np.float32)
    for name, ref in NUMPY_ACTIVATIONS.items():
        np.testing.assert_allclose(_np(activations.get(name)(tl.array(z))), ref(z), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(_np(layers.Activation(name)(z)), ref(z), rtol=1e-5, atol=1e-7)
    assert activations.get(None) is activations.linear
    custom = lambda x: x * 2.0  # noqa: E731
    assert activations.get(custom) is custom


def test_get_and_set_weights_round_trip_and_check_shapes():
    layer = layers.Dense(3)
    layer(np.ones((1, 2), np.float32))
    new = [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(3, np.float32)]
    layer.set_weights(new)
    for got, want in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match=r"'kernel' has shape \(2, 3\).*\(3, 2\)"):
        layer.set_weights([np.ones((3, 2)), np.ones(3)])
    np.testing.assert_array_equal(layer.get_weights()[0], new[0])  # unchanged after the failed call
    with pytest.raises(ValueError, match="expects 2 weights"):
        layer.set_weights([np.ones((2, 3))])


def test_flatten():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    y = layers.Flatten()(x)
    np.testing.assert_array_equal(_np(y), x.reshape(2, 12))
    assert layers.Flatten().compute_output_shape((None, 3, 4)) == (None, 12)


def test_dropout_only_in_training_and_scales_the_rest():
    tl.random.seed(0)
    x = np.ones((200, 100), np.float32)
    layer = layers.Dropout(0.25)
    np.testing.assert_array_equal(_np(layer(x)), x)
    y = _np(layer(x, training=True))
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.0)


def test_autocast_of_a_tensor_input_keeps_its_gradient():
    """A float64 tensor into a float32 layer is cast as Keras's autocast does, differentiably: the
    gradient reaches it (the cast used to go through asarray, which detached it)."""
    x = tl.array(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    dense = layers.Dense(2)
    y = dense(x * 2.0)
    assert y.dtype == tl.float32 and y.requires_grad
    tl.sum(y).backward()
    assert x.grad.dtype == tl.float64
    np.testing.assert_allclose(_np(x.grad), np.tile(2 * _np(dense.kernel).sum(1), (3, 1)), rtol=1e-6)


def test_input_layer_declares_the_sample_shape():
    inp = layers.Input(shape=(784,))
    assert inp.shape == (None, 784)
    with pytest.raises(ValueError, match="positive integers"):
        layers.Input(shape=(0,))


# -- initializers --------------------------------------------------------------------------------
def _draw(name, shape=(400, 300)):
    tl.random.seed(1)
    w = initializers.get(name)(shape, dtype="float32")
    assert isinstance(w, tl.Tensor) and w.shape == shape and w.dtype == np.float32
    return _np(w)


def test_glorot_uniform_limit_and_variance():
    w = _draw("glorot_uniform")
    limit = np.sqrt(6 / (400 + 300))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert w.var() == pytest.approx(limit**2 / 3, rel=0.03)


def test_he_uniform_limit():
    w = _draw("he_uniform")
    assert np.abs(w).max() <= np.sqrt(6 / 400)
    assert w.var() == pytest.approx(2 / 400, rel=0.03)


@pytest.mark.parametrize("name,variance", [("glorot_normal", 2 / 700), ("he_normal", 2 / 400)])
def test_truncated_normals_have_keras_variance_and_bounds(name, variance):
    w = _draw(name)
    stddev = np.sqrt(variance) / 0.87962566103423978
    assert np.abs(w).max() <= 2 * stddev * (1 + 1e-6)
    assert w.var() == pytest.approx(variance, rel=0.03)
    assert abs(w.mean()) < 0.01 * stddev


def test_constant_and_random_initializers():
    np.testing.assert_array_equal(_draw("zeros", (3,)), np.zeros(3, np.float32))
    np.testing.assert_array_equal(_draw("ones", (2, 2)), np.ones((2, 2), np.float32))
    w = _draw("random_normal")
    assert w.std() == pytest.approx(0.05, rel=0.03) and abs(w.mean()) < 1e-3
    w = _draw("random_uniform")
    assert w.min() >= -0.05 and w.max() <= 0.05 and w.var() == pytest.approx(0.1**2 / 12, rel=0.03)


def test_initializers_are_reproducible_under_a_seed():
    np.testing.assert_array_equal(_draw("glorot_uniform"), _draw("glorot_uniform"))


@pytest.mark.parametrize("cls", [initializers.GlorotUniform, initializers.HeNormal, initializers.RandomNormal,
                                 initializers.RandomUniform, initializers.TruncatedNormal])
def test_seeded_initializers_repeat_like_keras(cls):
    a, b = _np(cls(seed=3)((20, 10))), _np(cls(seed=3)((20, 10)))
    np.testing.assert_array_equal(a, b)
    init = cls(seed=3)
    np.testing.assert_array_equal(_np(init((20, 10))), _np(init((20, 10))))  # an int seed: same every call
    assert not np.array_equal(a, _np(cls(seed=4)((20, 10))))
    unseeded = cls()
    assert not np.array_equal(_np(unseeded((20, 10))), _np(unseeded((20, 10))))
    with pytest.raises(ValueError, match="seed"):
        cls(seed=-1)


def test_seeded_dropout_is_reproducible():
    x = np.ones((50, 40), np.float32)
    first, second = layers.Dropout(0.5, seed=7), layers.Dropout(0.5, seed=7)
    masks = [_np(first(x, training=True)), _np(second(x, training=True))]
    np.testing.assert_array_equal(masks[0], masks[1])
    assert not np.array_equal(masks[0], _np(first(x, training=True)))  # a new mask each call


def test_unknown_initializer_lists_the_valid_names():
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("xavier")


def test_compute_fans():
    assert initializers.compute_fans((784, 512)) == (784, 512)
    assert initializers.compute_fans((10,)) == (10, 10)
    assert initializers.compute_fans((3, 3, 8, 16)) == (72, 144)
