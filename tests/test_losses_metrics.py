"""Losses, metrics and to_categorical against NumPy (Keras 3's formulas)."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import losses, metrics, utils

EPS = 1e-7


def _np(t):
    return np.asarray(t)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(8, 5)).astype(np.float32) * 3
    labels = rng.integers(0, 5, size=8)
    onehot = np.eye(5, dtype=np.float32)[labels]
    return logits, labels, onehot


def _keras_cce(onehot, probs):
    p = probs / probs.sum(axis=-1, keepdims=True)
    p = np.clip(p, EPS, 1 - EPS)
    return -(onehot * np.log(p)).sum(axis=-1)


def test_categorical_crossentropy_from_probabilities(batch):
    logits, _, onehot = batch
    probs = _softmax(logits)
    got = losses.categorical_crossentropy(tl.array(onehot), tl.array(probs))
    np.testing.assert_allclose(_np(got), _keras_cce(onehot, probs), rtol=1e-5)
    assert got.shape == (8,)


def test_categorical_crossentropy_from_logits_is_stable(batch):
    logits, _, onehot = batch
    ref = -(onehot * (logits - logits.max(-1, keepdims=True)
                      - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)))).sum(-1)
    got = losses.categorical_crossentropy(onehot, tl.array(logits), from_logits=True)
    np.testing.assert_allclose(_np(got), ref, rtol=1e-5)
    huge = np.array([[1000.0, -1000.0]], np.float32)
    assert np.isfinite(_np(losses.categorical_crossentropy(np.array([[0.0, 1.0]], np.float32), tl.array(huge),
                                                           from_logits=True))).all()


def test_label_smoothing(batch):
    logits, _, onehot = batch
    smoothed = onehot * 0.9 + 0.1 / 5
    got = losses.CategoricalCrossentropy(label_smoothing=0.1)(tl.array(onehot), tl.array(_softmax(logits)))
    assert float(got) == pytest.approx(_keras_cce(smoothed, _softmax(logits)).mean(), rel=1e-5)


def test_sparse_equals_categorical_with_one_hot(batch):
    logits, labels, onehot = batch
    probs = _softmax(logits)
    for from_logits, pred in ((False, probs), (True, logits)):
        sparse = losses.sparse_categorical_crossentropy(tl.array(labels), tl.array(pred), from_logits=from_logits)
        dense = losses.categorical_crossentropy(tl.array(onehot), tl.array(pred), from_logits=from_logits)
        np.testing.assert_allclose(_np(sparse), _np(dense), rtol=1e-5)
    column = losses.sparse_categorical_crossentropy(tl.array(labels.reshape(-1, 1)), tl.array(probs))
    np.testing.assert_allclose(_np(column), _keras_cce(onehot, probs), rtol=1e-5)


def test_binary_crossentropy():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=(6, 3)).astype(np.float32)
    p = np.clip(1 / (1 + np.exp(-z)), EPS, 1 - EPS)
    ref = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=-1)
    np.testing.assert_allclose(_np(losses.binary_crossentropy(tl.array(y), tl.array(1 / (1 + np.exp(-z))))), ref,
                               rtol=1e-5)
    np.testing.assert_allclose(_np(losses.binary_crossentropy(tl.array(y), tl.array(z), from_logits=True)), ref,
                               rtol=1e-4)


def test_mean_squared_error_and_class_reduction():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = a[::-1].copy()
    np.testing.assert_allclose(_np(losses.mean_squared_error(tl.array(a), tl.array(b))), ((a - b) ** 2).mean(-1))
    assert float(losses.MeanSquaredError()(tl.array(a), tl.array(b))) == pytest.approx(((a - b) ** 2).mean())
    assert float(losses.get("mse")(tl.array(a), tl.array(b))) == pytest.approx(((a - b) ** 2).mean())
    total = losses.MeanSquaredError(reduction="sum")(tl.array(a), tl.array(b))
    assert float(total) == pytest.approx(((a - b) ** 2).mean(-1).sum())


def test_loss_lookup_and_fusion():
    assert isinstance(losses.get("categorical_crossentropy"), losses.CategoricalCrossentropy)
    assert isinstance(losses.get(losses.sparse_categorical_crossentropy), losses.SparseCategoricalCrossentropy)
    assert losses.get("categorical_crossentropy").fused_with("softmax") is not None
    assert losses.get("sparse_categorical_crossentropy").fused_with("softmax") is not None
    assert losses.get("binary_crossentropy").fused_with("sigmoid") is not None
    assert losses.CategoricalCrossentropy(from_logits=True).fused_with("softmax") is None
    assert losses.get("mse").fused_with("softmax") is None
    with pytest.raises(ValueError, match="'categorical_crossentropy', 'sparse_categorical_crossentropy'"):
        losses.get("hinge_loss")


def test_fused_form_equals_loss_of_probabilities(batch):
    logits, labels, onehot = batch
    for loss, y in ((losses.CategoricalCrossentropy(), onehot), (losses.SparseCategoricalCrossentropy(), labels)):
        fused = loss.fused_with("softmax")(tl.array(y), tl.array(logits))
        plain = loss.call(tl.array(y), tl.softmax(tl.array(logits)))
        np.testing.assert_allclose(_np(fused), _np(plain), rtol=1e-4)


# -- metrics -------------------------------------------------------------------------------------
def test_accuracy_functions(batch):
    logits, labels, onehot = batch
    right = (logits.argmax(-1) == labels).astype(np.float32)
    np.testing.assert_array_equal(_np(metrics.categorical_accuracy(tl.array(onehot), tl.array(logits))), right)
    np.testing.assert_array_equal(_np(metrics.sparse_categorical_accuracy(tl.array(labels), tl.array(logits))), right)
    y = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)
    p = np.array([[0.7], [0.2], [0.4], [0.6]], np.float32)
    np.testing.assert_array_equal(_np(metrics.binary_accuracy(tl.array(y), tl.array(p))), [1, 1, 0, 0])
    np.testing.assert_array_equal(_np(metrics.binary_accuracy(tl.array(y[:, 0]), tl.array(p))), [1, 1, 0, 0])


def test_stateful_metrics_accumulate_over_batches(batch):
    logits, labels, _ = batch
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(tl.array(labels[:3]), tl.array(logits[:3]))
    m.update_state(tl.array(labels[3:]), tl.array(logits[3:]))
    assert m.result() == pytest.approx((logits.argmax(-1) == labels).mean())
    m.reset_state()
    assert m.result() == 0.0
    mean = metrics.Mean()
    mean.update_state(2.0, 3)
    mean.update_state(tl.array(np.array([4.0, 6.0], np.float32)))
    assert mean.result() == pytest.approx((6 + 10) / 5)


def test_accuracy_with_sample_weight(batch):
    logits, labels, onehot = batch
    weights = np.arange(1, 9, dtype=np.float32)
    m = metrics.CategoricalAccuracy()
    m.update_state(tl.array(onehot), tl.array(logits), sample_weight=tl.array(weights))
    right = (logits.argmax(-1) == labels).astype(np.float32)
    assert m.result() == pytest.approx((right * weights).sum() / weights.sum())


def test_accuracy_resolution_follows_keras():
    r = metrics.resolve_accuracy
    assert isinstance(r("accuracy", (8,), (None, 10), False, False), metrics.SparseCategoricalAccuracy)
    assert isinstance(r("accuracy", (8, 10), (None, 10), False, False), metrics.CategoricalAccuracy)
    assert isinstance(r("accuracy", (8, 10), (None, 10), True, False), metrics.SparseCategoricalAccuracy)
    assert isinstance(r("accuracy", (8, 1), (None, 1), False, True), metrics.BinaryAccuracy)
    assert isinstance(r("acc", (8,), (None, 3), False, True), metrics.BinaryAccuracy)
    assert r("acc", (8,), (None, 10), False, False).name == "acc"


def test_unknown_metric_lists_the_valid_names():
    with pytest.raises(ValueError, match="'accuracy', 'acc', 'categorical_accuracy'"):
        metrics.get("f1")


# -- to_categorical -------------------------------------------------------------------------------
def test_to_categorical():
    out = utils.to_categorical(np.array([0, 2, 1]))
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[0, 2, 1]])
    assert out.dtype == np.float32
    assert utils.to_categorical([1, 0], num_classes=4).shape == (2, 4)
    assert utils.to_categorical(np.array([[1], [2]]), 3).shape == (2, 3)
    t = utils.to_categorical(tl.array(np.array([1, 0])), 2)
    assert isinstance(t, tl.Tensor) and t.shape == (2, 2)


@pytest.mark.parametrize("labels,num_classes,match", [
    ([0, 10], 10, "label 10 is out of range"),
    ([-1, 2], 3, "label -1 is out of range"),
    ([0.5, 1.0], 3, "integers"),
])
def test_to_categorical_rejects_bad_labels(labels, num_classes, match):
    with pytest.raises(ValueError, match=match):
        utils.to_categorical(np.array(labels), num_classes)


def test_multilabel_sigmoid_outputs_get_binary_accuracy():
    # Deliberately not Keras 3 (which picks categorical accuracy from the shapes alone): several
    # independent sigmoid outputs with binary cross-entropy are scored label by label.
    r = metrics.resolve_accuracy
    assert isinstance(r("accuracy", (8, 4), (None, 4), False, True), metrics.BinaryAccuracy)
    assert isinstance(r("accuracy", (8, 4), (None, 4), False, False), metrics.CategoricalAccuracy)
