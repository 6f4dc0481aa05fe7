"""Keras 3's activations against NumPy float64 written from their formulas, gradients by finite
differences, names, and use as a layer's activation."""
import math

import numpy as np
import pytest

import tensorlet as tl
from tensorlet import activations as A
from tensorlet import layers, models

from gradcheck import gradcheck

X = np.array([-40.0, -3.5, -2.9, -1.0, -0.3, 0.2, 0.7, 2.9, 3.5, 8.0, 40.0])
ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
np_erf = np.vectorize(math.erf)


def np_softplus(x):
    return np.logaddexp(x, 0.0)


CASES = [
    ("elu", A.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    ("elu_alpha", lambda x: A.elu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    ("selu", A.selu, lambda x: SCALE * np.where(x > 0, x, ALPHA * np.expm1(x))),
    ("gelu_tanh", lambda x: A.gelu(x, approximate=True),
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    ("silu", A.silu, lambda x: x / (1 + np.exp(-x))),
    ("softplus", A.softplus, np_softplus),
    ("softsign", A.softsign, lambda x: x / (np.abs(x) + 1)),
    ("leaky_relu", A.leaky_relu, lambda x: np.where(x >= 0, x, 0.2 * x)),
    ("relu6", A.relu6, lambda x: np.clip(x, 0, 6)),
    ("hard_sigmoid", A.hard_sigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    ("hard_silu", A.hard_silu, lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    ("exponential", A.exponential, np.exp),
    ("mish", A.mish, lambda x: x * np.tanh(np_softplus(x))),
    ("relu_options", lambda x: A.relu(x, negative_slope=0.1, max_value=3.0, threshold=0.5),
     lambda x: np.minimum(np.where(x >= 0.5, x, 0.1 * (x - 0.5)), 3.0)),
]


@pytest.mark.parametrize("name,fn,ref", CASES, ids=[c[0] for c in CASES])
def test_values(name, fn, ref):
    np.testing.assert_allclose(np.asarray(fn(tl.array(X))), ref(X), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name,fn,ref", CASES, ids=[c[0] for c in CASES])
def test_gradients(name, fn, ref):
    away_from_kinks = np.array([-5.1, -2.2, -0.7, -0.1, 0.3, 0.9, 2.4, 3.7, 7.0])
    gradcheck(fn, away_from_kinks)
    x = tl.array(np.array([-800.0, 800.0]), requires_grad=True)  # saturated ends: finite gradients
    if name != "exponential":
        tl.sum(fn(x)).backward()
        assert np.all(np.isfinite(np.asarray(x.grad)))


def test_gelu_exact():
    np.testing.assert_allclose(np.asarray(A.gelu(tl.array(X))), 0.5 * X * (1 + np_erf(X / np.sqrt(2))),
                               rtol=1e-13, atol=1e-300)
    gradcheck(A.gelu, np.array([-2.0, -0.5, 0.1, 1.3]))


def test_log_softmax():
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 1000.0]])
    expected = x - np.log(np.sum(np.exp(x - x.max(-1, keepdims=True)), -1, keepdims=True)) - x.max(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(A.log_softmax(tl.array(x))), expected, rtol=1e-13)


@pytest.mark.parametrize("name", ["elu", "selu", "gelu", "silu", "swish", "softplus", "softsign", "leaky_relu",
                                  "relu6", "hard_sigmoid", "hard_silu", "hard_swish", "exponential", "mish",
                                  "log_softmax"])
def test_by_name_and_in_a_layer(name):
    fn = A.get(name)
    assert A.get(A.serialize(fn)) is fn
    model = models.Sequential([layers.Dense(3, activation=name, input_shape=(2,))])
    x = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(fn(tl.array(x @ kernel + bias))), rtol=1e-6)


def test_keras_primary_names():
    assert A.serialize(A.swish) == "silu" and A.serialize(A.hard_swish) == "hard_silu"


def test_small_argument_precision_of_elu_and_softplus():
    tiny = np.array([-1e-12, -3e-9, -2e-5, -0.4, -30.0, -700.0])
    np.testing.assert_allclose(np.asarray(A.elu(tl.array(tiny))), np.expm1(tiny), rtol=1e-14)
    np.testing.assert_allclose(np.asarray(A.softplus(tl.array(tiny * 1e3))), np.log1p(np.exp(tiny * 1e3)),
                               rtol=1e-14, atol=0)
