"""Keras 3's regression, hinge, divergence and focal losses against NumPy float64 written from
their formulas, known values from Keras's docs, numerical gradients, reductions and names."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import losses

from gradcheck import gradcheck

EPS = 1e-7
RNG = np.random.default_rng(0)
Y_REG = RNG.normal(size=(4, 5))
P_REG = RNG.normal(size=(4, 5))
Y_POS = RNG.uniform(0.1, 2.0, size=(4, 5))
P_POS = RNG.uniform(0.1, 2.0, size=(4, 5))
Y_PM1 = RNG.choice([-1.0, 1.0], size=(4, 5))
Y_01 = (Y_PM1 > 0).astype(np.float64)
Y_DIST = RNG.dirichlet(np.ones(5), size=4)
P_DIST = RNG.dirichlet(np.ones(5), size=4)
P_PROB = RNG.uniform(0.05, 0.95, size=(4, 5))


def softplus(x):
    return np.log1p(np.exp(x))


def np_focal(y, p, gamma=2.0, alpha=0.25, balance=False):
    q = np.clip(p, EPS, 1 - EPS)
    bce = -(y * np.log(q) + (1 - y) * np.log(1 - q))
    p_t = y * p + (1 - y) * (1 - p)
    out = (1 - p_t) ** gamma * bce
    if balance:
        out = (y * alpha + (1 - y) * (1 - alpha)) * out
    return out.mean(-1)


CASES = [
    ("mean_absolute_error", losses.mean_absolute_error, Y_REG, P_REG, lambda y, p: np.abs(p - y).mean(-1)),
    ("mean_absolute_percentage_error", losses.mean_absolute_percentage_error, Y_REG, P_REG,
     lambda y, p: 100 * np.abs((y - p) / np.maximum(np.abs(y), EPS)).mean(-1)),
    ("mean_squared_logarithmic_error", losses.mean_squared_logarithmic_error, Y_POS, P_POS,
     lambda y, p: np.square(np.log(p + 1) - np.log(y + 1)).mean(-1)),
    ("huber", losses.huber, Y_REG, P_REG,
     lambda y, p: np.where(np.abs(p - y) <= 1, 0.5 * (p - y) ** 2, np.abs(p - y) - 0.5).mean(-1)),
    ("log_cosh", losses.log_cosh, Y_REG, P_REG, lambda y, p: np.log(np.cosh(p - y)).mean(-1)),
    ("hinge", losses.hinge, Y_PM1, P_REG, lambda y, p: np.maximum(1 - y * p, 0).mean(-1)),
    ("hinge01", losses.hinge, Y_01, P_REG, lambda y, p: np.maximum(1 - (2 * y - 1) * p, 0).mean(-1)),
    ("squared_hinge", losses.squared_hinge, Y_01, P_REG,
     lambda y, p: np.square(np.maximum(1 - (2 * y - 1) * p, 0)).mean(-1)),
    ("categorical_hinge", losses.categorical_hinge, np.eye(5)[[0, 2, 4, 1]], P_REG,
     lambda y, p: np.maximum(((1 - y) * p).max(-1) - (y * p).sum(-1) + 1, 0)),
    ("kl_divergence", losses.kl_divergence, Y_DIST, P_DIST, lambda y, p: (y * np.log(y / p)).sum(-1)),
    ("poisson", losses.poisson, Y_POS, P_POS, lambda y, p: (p - y * np.log(p + EPS)).mean(-1)),
    ("cosine_similarity", losses.cosine_similarity, Y_REG, P_REG,
     lambda y, p: -(y * p).sum(-1) / np.linalg.norm(y, axis=-1) / np.linalg.norm(p, axis=-1)),
    ("binary_focal_crossentropy", losses.binary_focal_crossentropy, Y_01, P_PROB, np_focal),
]


@pytest.mark.parametrize("name,fn,y,p,ref", CASES, ids=[c[0] for c in CASES])
def test_per_sample_values(name, fn, y, p, ref):
    np.testing.assert_allclose(np.asarray(fn(y, p)), ref(y, p), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name,fn,y,p,ref", CASES, ids=[c[0] for c in CASES])
def test_gradients(name, fn, y, p, ref):
    gradcheck(lambda pred: fn(tl.array(y), pred), p)


def test_huber_delta_and_log_cosh_large_errors():
    y, p = np.zeros((1, 3)), np.array([[0.1, 2.0, -800.0]])
    expected = np.mean([0.5 * 0.01, 0.5 * 2.0 - 0.125, 0.5 * 800 - 0.125])
    assert float(losses.huber(y, p, delta=0.5)[0]) == pytest.approx(expected, rel=1e-14)
    # log(cosh(800)) overflows cosh; the softplus form gives 800 - log 2
    assert float(losses.log_cosh(np.zeros((1, 1)), np.array([[800.0]]))[0]) == pytest.approx(800 - np.log(2.0))


def test_keras_documented_values():
    np.testing.assert_allclose(
        np.asarray(losses.cosine_similarity(np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]]),
                                            np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]))), [0.0, -1.0, 1.0],
        atol=1e-12)
    np.testing.assert_allclose(
        np.asarray(losses.binary_focal_crossentropy(np.array([[0.0, 1.0], [0.0, 0.0]]),
                                                    np.array([[0.6, 0.4], [0.4, 0.6]]), gamma=2)),
        [0.330, 0.206], atol=1e-3)


def test_focal_options():
    logits = RNG.normal(size=(3, 4))
    y = (RNG.uniform(size=(3, 4)) > 0.5).astype(np.float64)
    probs = 1 / (1 + np.exp(-logits))
    smoothed = y * 0.8 + 0.1
    got = losses.binary_focal_crossentropy(y, logits, from_logits=True, label_smoothing=0.2, gamma=1.5,
                                           apply_class_balancing=True, alpha=0.4)
    np.testing.assert_allclose(np.asarray(got), np_focal(smoothed, probs, 1.5, 0.4, True), rtol=1e-12)


@pytest.mark.parametrize("cls,fn,kwargs", [
    (losses.MeanAbsoluteError, losses.mae, {}), (losses.Huber, losses.huber, {"delta": 0.3}),
    (losses.CosineSimilarity, losses.cosine_similarity, {"axis": -1}),
    (losses.BinaryFocalCrossentropy, losses.binary_focal_crossentropy, {"gamma": 3.0}),
])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_classes_reduce_the_functions(cls, fn, kwargs, reduction):
    y, p = (Y_01, P_PROB)
    per_sample = np.asarray(fn(y, p, **kwargs))
    got = np.asarray(cls(reduction=reduction, **kwargs)(y, p))
    expected = {"sum_over_batch_size": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    weights = np.array([1.0, 0.0, 2.0, 0.5])
    np.testing.assert_allclose(float(cls(**kwargs)(y, p, sample_weight=weights)), (per_sample * weights).mean(),
                               rtol=1e-12)


@pytest.mark.parametrize("name,cls", [("mae", losses.MeanAbsoluteError), ("huber", losses.Huber),
                                      ("kld", losses.KLDivergence), ("logcosh", losses.LogCosh),
                                      ("binary_focal_crossentropy", losses.BinaryFocalCrossentropy),
                                      ("squared_hinge", losses.SquaredHinge)])
def test_by_name(name, cls):
    assert type(losses.get(name)) is cls


def test_keras_default_names():
    assert losses.Huber().name == "huber_loss" and losses.KLDivergence().name == "kl_divergence"
    assert losses.get(losses.poisson).name == "poisson"


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="Huber"):
        losses.Huber(delta=1.0, gamma=2.0)
