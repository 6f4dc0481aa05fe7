"""Keras 3's regression, confusion-matrix, top-k, R2 and F-score metrics against NumPy float64
written from their formulas, and the values of Keras's documentation examples."""
import numpy as np
import pytest

from tensorlet import layers, metrics, models

EPS = 1e-7
RNG = np.random.default_rng(1)
Y = RNG.normal(size=(6, 3))
P = RNG.normal(size=(6, 3))
W = RNG.uniform(0.0, 2.0, size=6)


def run(metric, batches):
    for args in batches:
        metric.update_state(*args)
    return np.asarray(metric.result())


def test_keras_documented_values():
    assert float(run(metrics.AUC(num_thresholds=3), [([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])])) == pytest.approx(0.75)
    assert float(run(metrics.Precision(), [([0, 1, 1, 1], [1, 0, 1, 1])])) == pytest.approx(2 / 3)
    assert float(run(metrics.Recall(), [([0, 1, 1, 1], [1, 0, 1, 1])])) == pytest.approx(2 / 3)
    assert float(run(metrics.TopKCategoricalAccuracy(k=1),
                     [([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])])) == 0.5
    assert float(run(metrics.SparseTopKCategoricalAccuracy(k=1),
                     [([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])])) == 0.5
    assert float(run(metrics.R2Score(), [(np.array([[1.0], [4.0], [3.0]]), np.array([[2.0], [4.0], [4.0]]))])) == \
        pytest.approx(0.5714285, rel=1e-6)
    np.testing.assert_allclose(run(metrics.F1Score(threshold=0.5), [(
        np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]]),
        np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))]), [0.5, 0.8, 2 / 3], rtol=1e-6)
    assert float(run(metrics.RootMeanSquaredError(), [([[0, 1], [0, 0]], [[1, 1], [0, 0]])])) == 0.5


@pytest.mark.parametrize("metric,ref", [
    (lambda: metrics.MeanAbsoluteError(dtype="float64"), lambda y, p: np.abs(p - y).mean(-1)),
    (lambda: metrics.MeanSquaredError(dtype="float64"), lambda y, p: np.square(p - y).mean(-1)),
    (lambda: metrics.LogCoshError(dtype="float64"), lambda y, p: np.log(np.cosh(p - y)).mean(-1)),
    (lambda: metrics.CosineSimilarity(dtype="float64"),
     lambda y, p: (y * p).sum(-1) / np.linalg.norm(y, axis=-1) / np.linalg.norm(p, axis=-1)),
])
def test_weighted_means_over_batches(metric, ref):
    got = run(metric(), [(Y[:4], P[:4], W[:4]), (Y[4:], P[4:], W[4:])])
    assert float(got) == pytest.approx(np.sum(ref(Y, P) * W) / W.sum(), rel=1e-12)


def test_root_mean_squared_error_weighted():
    got = run(metrics.RootMeanSquaredError(dtype="float64"), [(Y[:4], P[:4], W[:4]), (Y[4:], P[4:], W[4:])])
    assert float(got) == pytest.approx(np.sqrt(np.sum(np.square(P - Y).mean(-1) * W) / W.sum()), rel=1e-12)


def np_counts(y, p, thresholds, w=None):
    w = np.ones_like(p) if w is None else np.broadcast_to(w.reshape(w.shape + (1,) * (p.ndim - w.ndim)), p.shape)
    pos = p.ravel()[None, :] > np.asarray(thresholds)[:, None]
    lab = (y.ravel() != 0)[None, :]
    w = w.ravel()[None, :]
    return ((pos & lab) * w).sum(1), ((pos & ~lab) * w).sum(1), ((~pos & ~lab) * w).sum(1), ((~pos & lab) * w).sum(1)


LABELS = (RNG.uniform(size=(40, 2)) > 0.5).astype(np.float64)
SCORES = np.clip(LABELS * 0.3 + RNG.uniform(size=(40, 2)) * 0.7, 0, 1)
SW = RNG.uniform(0.5, 1.5, size=40)


def np_auc(curve, method, n=200, w=None):
    th = [0 - EPS] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + EPS]
    tp, fp, tn, fn = np_counts(LABELS, SCORES, th, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        div = lambda a, b: np.where(b != 0, a / np.where(b != 0, b, 1), 0.0)  # noqa: E731
        if curve == "PR" and method == "interpolation":
            dtp = tp[:-1] - tp[1:]
            p = tp + fp
            slope = div(dtp, np.maximum(p[:-1] - p[1:], 0))
            intercept = tp[1:] - slope * p[1:]
            ratio = np.where((p[:-1] > 0) & (p[1:] > 0), div(p[:-1], np.maximum(p[1:], 0)), 1.0)
            return div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)).sum()
        recall = div(tp, tp + fn)
        x, y = (div(fp, fp + tn), recall) if curve == "ROC" else (recall, div(tp, tp + fp))
        h = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
             "majoring": np.maximum(y[:-1], y[1:])}[method]
        return ((x[:-1] - x[1:]) * h).sum()


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
def test_auc(curve, method):
    metric = metrics.AUC(curve=curve, summation_method=method, dtype="float64")
    got = run(metric, [(LABELS[:25], SCORES[:25], SW[:25]), (LABELS[25:], SCORES[25:], SW[25:])])
    assert float(got) == pytest.approx(np_auc(curve, method, w=SW), rel=1e-10)


def test_auc_roc_of_separable_scores_is_one_and_from_logits():
    y = np.array([0, 0, 1, 1.0])
    assert float(run(metrics.AUC(), [(y, np.array([0.1, 0.2, 0.8, 0.9]))])) == pytest.approx(1.0)
    logits = np.log(SCORES / (1 - SCORES + 1e-12) + 1e-12)
    a = run(metrics.AUC(from_logits=True, dtype="float64"), [(LABELS, logits)])
    b = run(metrics.AUC(dtype="float64"), [(LABELS, 1 / (1 + np.exp(-logits)))])
    assert float(a) == float(b)


def test_auc_multi_label_averages_the_labels():
    per_label = []
    for j in range(2):
        m = metrics.AUC(dtype="float64")
        per_label.append(float(run(m, [(LABELS[:, j], SCORES[:, j])])))
    got = run(metrics.AUC(multi_label=True, dtype="float64"), [(LABELS, SCORES)])
    assert float(got) == pytest.approx(np.mean(per_label), rel=1e-12)
    weighted = run(metrics.AUC(multi_label=True, num_labels=2, label_weights=[1.0, 3.0], dtype="float64"),
                   [(LABELS, SCORES)])
    assert float(weighted) == pytest.approx((per_label[0] + 3 * per_label[1]) / 4, rel=1e-12)


def test_precision_recall_thresholds_class_id_top_k():
    th = [0.2, 0.5, 0.7]
    tp, fp, tn, fn = np_counts(LABELS, SCORES, th, SW)
    np.testing.assert_allclose(run(metrics.Precision(th, dtype="float64"), [(LABELS, SCORES, SW)]), tp / (tp + fp),
                               rtol=1e-12)
    np.testing.assert_allclose(run(metrics.Recall(th, dtype="float64"), [(LABELS, SCORES, SW)]), tp / (tp + fn),
                               rtol=1e-12)
    tp, fp, _, fn = np_counts(LABELS[:, 1], SCORES[:, 1], [0.5])
    assert float(run(metrics.Precision(class_id=1, dtype="float64"), [(LABELS, SCORES)])) == \
        pytest.approx(tp[0] / (tp[0] + fp[0]))
    # top_k=1: only each row's highest score (first one on ties) can count as predicted
    y = np.array([[1, 1, 0], [0, 1, 1.0]])
    p = np.array([[0.9, 0.8, 0.1], [0.7, 0.7, 0.6]])
    assert float(run(metrics.Precision(top_k=1), [(y, p)])) == pytest.approx(0.5)  # hits: row 0 col 0; miss: row 1 col 0
    assert float(run(metrics.Recall(top_k=1), [(y, p)])) == pytest.approx(0.25)


def test_top_k_counts_ties_as_hits_like_in_top_k():
    got = run(metrics.SparseTopKCategoricalAccuracy(k=1), [([1, 0], [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])])
    assert float(got) == 0.5
    labels = RNG.integers(0, 5, size=30)
    scores = RNG.normal(size=(30, 5))
    expected = np.mean([(scores[i] > scores[i, labels[i]]).sum() < 3 for i in range(30)])
    assert float(run(metrics.SparseTopKCategoricalAccuracy(k=3), [(labels, scores)])) == pytest.approx(expected)
    assert float(run(metrics.TopKCategoricalAccuracy(k=3), [(np.eye(5)[labels], scores)])) == pytest.approx(expected)


@pytest.mark.parametrize("aggregation", ["uniform_average", "variance_weighted_average", None])
def test_r2_score(aggregation):
    m = metrics.R2Score(class_aggregation=aggregation, dtype="float64")
    got = run(m, [(Y[:3], P[:3], W[:3]), (Y[3:], P[3:], W[3:])])
    w = W[:, None]
    mean = (Y * w).sum(0) / w.sum()
    total = (w * (Y - mean) ** 2).sum(0)
    raw = 1 - (w * (Y - P) ** 2).sum(0) / total
    expected = {"uniform_average": raw.mean(), "variance_weighted_average": (total * raw).sum() / total.sum(),
                None: raw}[aggregation]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_r2_adjusted():
    y, p = Y[:, :1], P[:, :1]
    raw = 1 - np.square(y - p).sum() / np.square(y - y.mean()).sum()
    got = run(metrics.R2Score(num_regressors=2, dtype="float64"), [(y, p)])
    assert float(got) == pytest.approx(1 - (1 - raw) * 5 / 3, rel=1e-10)
    # n - 1 <= p: unadjusted, as Keras (which warns)
    assert float(run(metrics.R2Score(num_regressors=5, dtype="float64"), [(y, p)])) == pytest.approx(raw, rel=1e-10)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("threshold", [None, 0.4])
def test_f_beta(average, threshold):
    y = np.eye(3)[RNG.integers(0, 3, size=12)]
    p = RNG.uniform(size=(12, 3))
    w = RNG.uniform(0.5, 2.0, size=12)
    pred = (p >= p.max(-1, keepdims=True)) & (np.abs(p) > 1e-9) if threshold is None else p > threshold
    pred = pred.astype(np.float64)
    axis = None if average == "micro" else 0
    tp = (pred * y * w[:, None]).sum(axis)
    fp = (pred * (1 - y) * w[:, None]).sum(axis)
    fn = ((1 - pred) * y * w[:, None]).sum(axis)
    support = (y * w[:, None]).sum(axis)
    prec, rec = tp / (tp + fp + EPS), tp / (tp + fn + EPS)
    beta2 = 0.25
    score = prec * rec / (beta2 * prec + rec + EPS) * (1 + beta2)
    if average == "weighted":
        score = (score * support / (support.sum() + EPS)).sum()
    elif average is not None:
        score = score.mean()
    m = metrics.FBetaScore(average=average, beta=0.5, threshold=threshold, dtype="float64")
    np.testing.assert_allclose(run(m, [(y[:5], p[:5], w[:5]), (y[5:], p[5:], w[5:])]), score, rtol=1e-10)


@pytest.mark.parametrize("bad", [lambda: metrics.AUC(curve="XY"), lambda: metrics.AUC(num_thresholds=1),
                                 lambda: metrics.Precision(thresholds=[1.5]), lambda: metrics.F1Score(average="all"),
                                 lambda: metrics.R2Score(class_aggregation="max"),
                                 lambda: metrics.FBetaScore(beta=0),
                                 lambda: metrics.F1Score().update_state(np.ones(3), np.ones(3))])
def test_bad_arguments_are_value_errors(bad):
    with pytest.raises(ValueError):
        bad()


def test_compiled_by_name_log_under_the_given_names():
    x = RNG.normal(size=(32, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = models.Sequential([layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["mae", "auc", "precision", "recall"])
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert {"mae", "auc", "precision", "recall", "loss"} <= set(history.history)
    # the captured step's metrics equal a fresh evaluation of the same predictions
    auc = metrics.AUC()
    auc.update_state(y, model.predict(x, verbose=0))
    assert model.evaluate(x, y, verbose=0, return_dict=True)["auc"] == pytest.approx(float(auc.result()), rel=1e-5)
