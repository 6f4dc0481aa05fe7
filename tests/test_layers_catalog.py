"""The layers of issue 14 (merging, reshaping, activation layers, Embedding, Lambda,
Normalization, UnitNormalization, noise), against NumPy and Keras 3's formulas."""
import numpy as np
import pytest

import tensorlet as tl
from gradcheck import gradcheck
from tensorlet.keras import layers

RNG = np.random.RandomState(3)
A = RNG.randn(4, 3).astype(np.float32)
B = RNG.randn(4, 3).astype(np.float32)
C = RNG.randn(1, 3).astype(np.float32)


@pytest.mark.parametrize("layer, expected", [
    (layers.Add, lambda a, b, c: a + b + c),
    (layers.Multiply, lambda a, b, c: a * b * c),
    (layers.Average, lambda a, b, c: (a + b + c) / 3),
    (layers.Maximum, lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    (layers.Minimum, lambda a, b, c: np.minimum(np.minimum(a, b), c)),
])
def test_elementwise_merges_broadcast_like_numpy(layer, expected):
    out = layer()([A, B, C])
    np.testing.assert_allclose(np.asarray(out), expected(A, B, C), rtol=1e-6)


def test_subtract_takes_exactly_two_and_concatenate_checks_shapes():
    np.testing.assert_allclose(np.asarray(layers.Subtract()([A, B])), A - B)
    with pytest.raises(ValueError, match="2 inputs"):
        layers.Subtract()([A, B, C])
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(A)
    np.testing.assert_array_equal(np.asarray(layers.Concatenate()([A, B])), np.concatenate([A, B], -1))
    np.testing.assert_array_equal(np.asarray(layers.Concatenate(axis=1)([A, C[:, :2].repeat(4, 0)])),
                                  np.concatenate([A, C[:, :2].repeat(4, 0)], 1))
    with pytest.raises(ValueError, match="matching shapes"):
        layers.Concatenate(axis=-1)([A, np.zeros((4, 2, 2), np.float32)])
    with pytest.raises(ValueError, match="cannot be merged"):
        layers.Add()([A, np.zeros((4, 2), np.float32)])


def test_merge_gradients():
    for layer in (layers.Add(dtype="float64"), layers.Multiply(dtype="float64"), layers.Maximum(dtype="float64"),
                  layers.Concatenate(dtype="float64"), layers.Average(dtype="float64")):
        gradcheck(lambda a, b, layer=layer: layer([a, b]), RNG.randn(2, 3), RNG.randn(2, 3))


def test_reshape_permute_repeat_vector():
    x = RNG.randn(2, 3, 4).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(layers.Reshape((4, 3))(x)), x.reshape(2, 4, 3))
    np.testing.assert_array_equal(np.asarray(layers.Reshape((-1, 2))(x)), x.reshape(2, 6, 2))
    assert layers.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    with pytest.raises(ValueError, match="does not match"):
        layers.Reshape((5,)).compute_output_shape((None, 3, 4))
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))
    np.testing.assert_array_equal(np.asarray(layers.Permute((2, 1))(x)), x.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="start from 1"):
        layers.Permute((0, 1))
    np.testing.assert_array_equal(np.asarray(layers.RepeatVector(3)(A)), np.repeat(A[:, None, :], 3, axis=1))
    gradcheck(lambda a: layers.RepeatVector(2, dtype="float64")(a), RNG.randn(2, 3))
    gradcheck(lambda a: layers.Permute((2, 1), dtype="float64")(a), RNG.randn(2, 3, 2))


def _keras_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras 3's ReLU.static_call, written out in NumPy."""
    if negative_slope and max_value is None and threshold == 0:
        return np.where(x >= 0, x, negative_slope * x)
    negative = np.maximum(threshold - x, 0) if negative_slope else 0
    x = x * (x > threshold) if threshold else np.maximum(x, 0)
    if max_value is not None:
        x = np.clip(x, 0, max_value)
    return x - negative_slope * negative


@pytest.mark.parametrize("kwargs", [{}, {"max_value": 1.0}, {"negative_slope": 0.1},
                                    {"negative_slope": 0.2, "threshold": 0.5, "max_value": 1.5},
                                    {"threshold": -0.3}])
def test_relu_layer_matches_keras_formula(kwargs):
    x = np.linspace(-3, 3, 25).astype(np.float32)[None]
    np.testing.assert_allclose(np.asarray(layers.ReLU(**kwargs)(x)), _keras_relu(x, **kwargs), rtol=1e-6,
                               atol=1e-7)


def test_leaky_relu_elu_softmax():
    x = np.linspace(-3, 3, 13).astype(np.float32)[None]
    np.testing.assert_allclose(np.asarray(layers.LeakyReLU()(x)), np.where(x >= 0, x, 0.3 * x), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(layers.LeakyReLU(negative_slope=0.01)(x)), np.where(x >= 0, x, 0.01 * x))
    np.testing.assert_allclose(np.asarray(layers.ELU(alpha=0.5)(x)), np.where(x > 0, x, 0.5 * (np.exp(x) - 1)),
                               rtol=1e-6, atol=1e-7)
    e = np.exp(A - A.max(axis=0))
    np.testing.assert_allclose(np.asarray(layers.Softmax(axis=0)(A)), e / e.sum(axis=0), rtol=1e-6)
    gradcheck(lambda a: layers.ELU(dtype="float64")(a), RNG.randn(2, 3))
    masked = np.asarray(layers.Softmax()(A, mask=np.array([[1.0, 0.3, 0.7]] * 4, np.float32)))
    e = np.exp(A[:, [0, 2]] - A[:, [0, 2]].max(-1, keepdims=True))
    np.testing.assert_allclose(masked[:, [0, 2]], e / e.sum(-1, keepdims=True), rtol=1e-6)
    assert np.all(masked[:, 1] == 0)  # 0.3 is not above 0.5: masked, as in Keras
    with pytest.raises(ValueError, match="negative_slope"):
        layers.ReLU(negative_slope=-1)


def test_embedding_lookup_gradient_and_mask():
    emb = layers.Embedding(5, 3, mask_zero=True)
    idx = np.array([[0, 2, 2], [4, 1, 0]])
    out = emb(idx)
    table = emb.get_weights()[0]
    np.testing.assert_array_equal(np.asarray(out), table[idx])
    assert np.all(np.abs(table) <= 0.05)  # Keras's "uniform": RandomUniform(-0.05, 0.05)
    tl.sum(emb(idx)).backward()
    expected = np.zeros((5, 3), np.float32)
    np.add.at(expected, idx.reshape(-1), 1.0)
    np.testing.assert_array_equal(np.asarray(emb.embeddings.grad), expected)
    np.testing.assert_array_equal(np.asarray(emb.compute_mask(idx)), idx != 0)
    assert layers.Embedding(5, 3).compute_mask(idx) is None
    with pytest.raises((IndexError, ValueError)):
        emb(np.array([[5]]))


def test_normalization_adapt_and_invert():
    data = RNG.randn(50, 3).astype(np.float32) * [1, 2, 3] + [0, 1, -2]
    norm = layers.Normalization()
    norm.adapt(data)
    mean, var = data.astype(np.float64).mean(0), data.astype(np.float64).var(0)
    np.testing.assert_allclose(norm.get_weights()[0], mean, rtol=1e-5)
    np.testing.assert_allclose(norm.get_weights()[1], var, rtol=1e-5)
    assert int(norm.get_weights()[2]) == 50
    np.testing.assert_allclose(np.asarray(norm(data)), (data - mean) / np.sqrt(var), rtol=1e-4, atol=1e-5)
    fixed = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 0.0], invert=True)
    x = np.ones((2, 2), np.float32)
    np.testing.assert_allclose(np.asarray(fixed(x)), [[3.0, 2.0 + 1e-7]] * 2, rtol=1e-6)
    with pytest.raises(ValueError, match="both"):
        layers.Normalization(mean=[1.0])


def test_unit_normalization():
    out = np.asarray(layers.UnitNormalization()(A))
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(layers.UnitNormalization()(np.zeros((1, 3), np.float32))), 0.0)
    gradcheck(lambda a: layers.UnitNormalization(dtype="float64")(a), RNG.randn(2, 3))


def test_noise_layers_only_in_training():
    x = np.ones((4, 5, 6), np.float32)
    noise = layers.GaussianNoise(0.5, seed=1)
    np.testing.assert_array_equal(np.asarray(noise(x)), x)
    noisy = np.asarray(noise(np.zeros((200, 50), np.float32), training=True))
    assert abs(noisy.std() - 0.5) < 0.02 and abs(noisy.mean()) < 0.02
    drop = layers.SpatialDropout1D(0.5, seed=2)
    np.testing.assert_array_equal(np.asarray(drop(x)), x)
    out = np.asarray(drop(x, training=True))
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert np.all(out == out[:, :1, :])  # whole channels dropped, the same at every step
    out2 = np.asarray(layers.SpatialDropout2D(0.5, seed=3)(np.ones((3, 4, 4, 5), np.float32), training=True))
    assert np.all(out2 == out2[:, :1, :1, :])


def test_lambda_layer():
    lam = layers.Lambda(lambda t, k: t * k, arguments={"k": 3.0})
    np.testing.assert_allclose(np.asarray(lam(A)), A * 3)
    with pytest.raises(ValueError, match="callable"):
        layers.Lambda(3)


def test_add_weight_keras3_keywords_and_regularizer():
    class Custom(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones",
                                     regularizer=lambda w: 0.5 * tl.sum(w * w))
            self.c = self.add_weight(shape=(), initializer="zeros", trainable=False, dtype="int64")

        def call(self, x):
            return tl.matmul(x, self.w)

    layer = Custom()
    layer(A)
    assert [tuple(w.shape) for w in layer.weights] == [(3, 2), ()]
    assert layer.weight_names == ["variable", "variable_1"]
    assert len(layer.trainable_weights) == 1 and layer.c.dtype == np.int64
    assert [float(v) for v in layer.losses] == [pytest.approx(3.0)]  # 0.5 * 6 ones
    assert layer.weights[0].regularizer is not None


def test_training_flag_is_inherited_by_inner_calls():
    seen = []

    class Probe(layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = Probe()

        def call(self, x):
            return self.inner(x)  # no training argument: inherited

    Outer()(A, training=True)
    Outer()(A)
    assert seen == [True, False]


def test_variable_assign():
    w = layers.Dense(2)
    w(A)
    w.kernel.assign(np.ones((3, 2)))
    w.bias.assign_add([1.0, 2.0])
    w.bias.assign_sub([0.5, 0.5])
    np.testing.assert_array_equal(w.get_weights()[0], 1.0)
    np.testing.assert_array_equal(w.get_weights()[1], [0.5, 1.5])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        w.bias.assign([1.0])


def test_embedding_mask_reaches_global_average_pooling():
    """Keras's mask propagation: padding (index 0) is left out of the average, through a Dense."""
    from tensorlet import keras
    ids = keras.Input((4,), dtype="int64")
    emb = layers.Embedding(6, 3, mask_zero=True)
    dense = layers.Dense(3)
    model = keras.Model(ids, layers.GlobalAveragePooling1D()(dense(emb(ids))))
    idx = np.array([[1, 2, 0, 0], [3, 0, 0, 0], [1, 2, 3, 4]])
    table = emb.get_weights()[0]
    k, b = dense.get_weights()
    steps = table[idx] @ k + b
    keep = (idx != 0)[..., None]
    expected = (steps * keep).sum(1) / keep.sum(1)
    np.testing.assert_allclose(model.predict(idx, verbose=0), expected, rtol=1e-5, atol=1e-6)
    unmasked = keras.Model(ids, layers.GlobalAveragePooling1D()(layers.Embedding(6, 3)(ids)))
    assert unmasked.predict(idx, verbose=0).shape == (3, 3)
