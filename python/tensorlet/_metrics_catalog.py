"""Keras 3's regression, confusion-matrix, top-k and score metrics (keras/src/metrics/*.py):
state in tensors updated in place by tensor ops (so a captured step replays the updates), the
result computed from the state by tensor ops."""

from __future__ import annotations


import numpy as np

import tensorlet as tl

from . import _losses_catalog as L
from .losses import mean_squared_error, squeeze_or_expand_to_same_rank
from ._metric_base import Mean, MeanMetricWrapper, Metric

EPSILON = 1e-7  # keras.backend.epsilon()
NEG_INF = -1e10  # what Keras puts in place of the predictions outside the top k


def _div_no_nan(a, b):
    return tl.where(b != 0, a / tl.where(b != 0, b, 1.0), 0.0)


# -- mean-of-a-function metrics -------------------------------------------------------------------
def _mean_metric(class_name, fn, default_name, **defaults):
    def __init__(self, name=default_name, dtype=None, **kwargs):
        MeanMetricWrapper.__init__(self, fn, name, dtype, **{**defaults, **kwargs})

    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": fn.__doc__,
                                                   "__module__": "tensorlet.metrics", "__qualname__": class_name})


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(l2_normalize(y_true) * l2_normalize(y_pred), axis) (the metric's sign: 1 is best)."""
    return -L.cosine_similarity(y_true, y_pred, axis=axis)


MeanSquaredError = _mean_metric("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _mean_metric("MeanAbsoluteError", L.mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _mean_metric("MeanAbsolutePercentageError", L.mean_absolute_percentage_error,
                                           "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _mean_metric("MeanSquaredLogarithmicError", L.mean_squared_logarithmic_error,
                                           "mean_squared_logarithmic_error")
LogCoshError = _mean_metric("LogCoshError", L.log_cosh, "logcosh")
Hinge = _mean_metric("Hinge", L.hinge, "hinge")
SquaredHinge = _mean_metric("SquaredHinge", L.squared_hinge, "squared_hinge")
CategoricalHinge = _mean_metric("CategoricalHinge", L.categorical_hinge, "categorical_hinge")
KLDivergence = _mean_metric("KLDivergence", L.kl_divergence, "kl_divergence")
Poisson = _mean_metric("Poisson", L.poisson, "poisson")
CosineSimilarity = _mean_metric("CosineSimilarity", cosine_similarity, "cosine_similarity", axis=-1)


class RootMeanSquaredError(Mean):
    """sqrt of the running (weighted) mean of (y_pred - y_true)^2."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        with tl.no_grad():
            y_pred = tl.asarray(y_pred).astype(self.dtype)
            y_true = tl.asarray(y_true).astype(self.dtype)
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
            super().update_state(tl.square(y_pred - y_true), sample_weight)

    def result(self):
        return tl.sqrt(super().result())


# -- top-k accuracies -------------------------------------------------------------------------
def _in_top_k(target_values, y_pred, k):
    """Keras's in_top_k: the target's prediction is >= the k-th largest, i.e. fewer than k
    predictions are strictly greater."""
    above = tl.sum((y_pred > tl.expand_dims(target_values, -1)).astype("int64"), axis=-1)
    return above < k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the class argmax(y_true) is among the k highest predictions."""
    y_pred = tl.asarray(y_pred)
    labels = tl.argmax(tl.asarray(y_true), axis=-1)
    return sparse_top_k_categorical_accuracy(labels, y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the integer label's prediction is among the k highest."""
    y_pred = tl.asarray(y_pred)
    y_true = tl.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = tl.reshape(y_true, tuple(y_true.shape[:-1]))
    classes = tl.arange(y_pred.shape[-1], dtype="int64")
    target = tl.sum(tl.where(tl.expand_dims(y_true.astype("int64"), -1) == classes, y_pred, 0.0), axis=-1)
    return _in_top_k(target, y_pred, k).astype("float32")


TopKCategoricalAccuracy = _mean_metric("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                       "top_k_categorical_accuracy", k=5)
SparseTopKCategoricalAccuracy = _mean_metric("SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
                                             "sparse_top_k_categorical_accuracy", k=5)


# -- confusion-matrix metrics -----------------------------------------------------------------
def _top_k_mask(y_pred, k):
    """True for the k largest predictions along the last axis (ties to the lower index, as
    top_k picks them)."""
    n = y_pred.shape[-1]
    rows = tl.expand_dims(y_pred, -1)       # [..., i, 1]
    cols = tl.expand_dims(y_pred, -2)       # [..., 1, j]
    earlier = tl.asarray(np.tril(np.ones((n, n), bool), -1))  # j < i
    ahead = tl.logical_or(cols > rows, tl.logical_and(cols == rows, earlier))
    return tl.sum(ahead.astype("int64"), axis=-1) < k


class _Confusion(Metric):
    """Counts of true/false positives/negatives of ``y_pred > threshold`` for each threshold
    (weighted by sample_weight), as Keras's update_confusion_matrix_variables."""

    def _init_confusion(self, thresholds, top_k=None, class_id=None, per_label=None):
        self.thresholds_tensor = tl.asarray(np.asarray(thresholds, np.float64)).astype(self.dtype)
        self.top_k = top_k
        self.class_id = class_id
        shape = (len(thresholds),) if per_label is None else (len(thresholds), per_label)
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.true_negatives = self.add_variable(shape, name="true_negatives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")

    def _prepare(self, y_true, y_pred, sample_weight):
        y_pred = tl.asarray(y_pred).astype(self.dtype)
        y_true = tl.asarray(y_true).astype(self.dtype)
        if tuple(y_true.shape) != tuple(y_pred.shape):
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if tuple(y_true.shape) != tuple(y_pred.shape):
            raise ValueError(f"{type(self).__name__}: y_true of shape {tuple(y_true.shape)} and y_pred of shape "
                             f"{tuple(y_pred.shape)} differ")
        weight = None
        if sample_weight is not None:
            weight = tl.asarray(sample_weight).astype(self.dtype)
            while weight.ndim < y_pred.ndim:
                weight = tl.expand_dims(weight, -1)
            weight = tl.broadcast_to(weight, y_pred.shape)
        if self.top_k is not None:
            y_pred = tl.where(_top_k_mask(y_pred, self.top_k), y_pred, NEG_INF)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
            weight = None if weight is None else weight[..., self.class_id]
        return y_true, y_pred, weight

    def update_state(self, y_true, y_pred, sample_weight=None):
        with tl.no_grad():
            y_true, y_pred, weight = self._prepare(y_true, y_pred, sample_weight)
            per_label = self.true_positives.ndim == 2
            shape = (-1, y_pred.shape[-1]) if per_label else (-1,)
            label = tl.reshape((y_true != 0.0).astype(self.dtype), shape)
            pred = tl.reshape(y_pred, shape)
            weight = tl.ones_like(label) if weight is None else tl.reshape(weight, shape)
            th = tl.reshape(self.thresholds_tensor, (-1, 1, 1) if per_label else (-1, 1))
            positive = (tl.expand_dims(pred, 0) > th).astype(self.dtype)  # [thresholds, samples(, labels)]
            pos_w, neg_w = label * weight, (1.0 - label) * weight
            self.true_positives += tl.sum(positive * pos_w, axis=1)
            self.false_positives += tl.sum(positive * neg_w, axis=1)
            self.false_negatives += tl.sum((1.0 - positive) * pos_w, axis=1)
            self.true_negatives += tl.sum((1.0 - positive) * neg_w, axis=1)


def _thresholds(thresholds, owner):
    if thresholds is None:
        return [0.5], True
    single = isinstance(thresholds, (int, float))
    values = [thresholds] if single else list(thresholds)
    if not values or any(not 0.0 <= float(t) <= 1.0 for t in values):
        raise ValueError(f"{owner}: thresholds must be in [0, 1], got {thresholds!r}")
    return [float(t) for t in values], single


class Precision(_Confusion):
    """tp / (tp + fp) of ``y_pred > threshold`` (0.5 by default; one result per threshold)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(name, dtype)
        self.init_thresholds = thresholds
        values, self._single = _thresholds(thresholds, type(self).__name__)
        self._init_confusion(values, top_k, class_id)

    def _ratio(self, other):
        value = _div_no_nan(self.true_positives, self.true_positives + other)
        return value[0] if self._single else value

    def result(self):
        return self._ratio(self.false_positives)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Recall(Precision):
    """tp / (tp + fn) of ``y_pred > threshold`` (0.5 by default; one result per threshold)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        return self._ratio(self.false_negatives)


class AUC(_Confusion):
    """Area under the ROC or PR curve from confusion counts at ``num_thresholds`` thresholds
    (0 - eps, 1/(n-1), ..., (n-2)/(n-1), 1 + eps), summed by Keras's rules: 'interpolation'
    (trapezoids; for PR, Davis & Goadrich's interpolation), 'minoring' or 'majoring'."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        super().__init__(name or "auc", dtype)
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: summation_method must be 'interpolation', 'minoring' or 'majoring', got "
                             f"{summation_method!r}")
        if thresholds is not None:
            inner = sorted(_thresholds(thresholds, "AUC")[0])
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be an integer > 1, got {num_thresholds!r}")
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = len(inner) + 2
        self.curve, self.summation_method = curve, summation_method
        self.multi_label, self.from_logits = bool(multi_label), bool(from_logits)
        self.label_weights = None if label_weights is None else tl.asarray(np.asarray(label_weights, np.float64))
        self.num_labels = num_labels
        self._inner = inner
        self._init_confusion([0.0 - EPSILON] + inner + [1.0 + EPSILON],
                             per_label=num_labels if self.multi_label and num_labels else None)
        self._built = not self.multi_label or bool(num_labels)

    @property
    def thresholds(self):
        return list(np.asarray(self.thresholds_tensor))

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self._built:  # multi_label without num_labels: one set of counts per label, from the data
            labels = tl.asarray(y_pred).shape[-1]
            self._variables = []
            self._init_confusion([0.0 - EPSILON] + self._inner + [1.0 + EPSILON], per_label=labels)
            self.num_labels, self._built = labels, True
        if self.from_logits:
            y_pred = tl.sigmoid(tl.asarray(y_pred))
        super().update_state(y_true, y_pred, sample_weight)

    def _average(self, by_label):
        if not self.multi_label:
            return tl.sum(by_label)
        by_label = tl.sum(by_label, axis=0)
        if self.label_weights is None:
            return tl.mean(by_label)
        weights = self.label_weights.astype(by_label.dtype)
        return _div_no_nan(tl.sum(by_label * weights), tl.sum(weights))

    def _interpolate_pr_auc(self):
        n = self.num_thresholds
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        slope = _div_no_nan(dtp, tl.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both = tl.logical_and(p[: n - 1] > 0, p[1:] > 0)
        ratio = tl.where(both, _div_no_nan(p[: n - 1], tl.maximum(p[1:], 0.0)), 1.0)
        increment = _div_no_nan(slope * (dtp + intercept * tl.log(ratio)), tl.maximum(tp[1:] + fn[1:], 0.0))
        return self._average(increment)

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = _div_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _div_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _div_no_nan(tp, tp + fp)
        n = self.num_thresholds
        if self.summation_method == "interpolation":
            heights = (y[: n - 1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = tl.minimum(y[: n - 1], y[1:])
        else:
            heights = tl.maximum(y[: n - 1], y[1:])
        return self._average((x[: n - 1] - x[1:]) * heights)

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "multi_label": self.multi_label,
                "num_labels": self.num_labels, "from_logits": self.from_logits,
                "label_weights": None if self.label_weights is None else list(np.asarray(self.label_weights))}


# -- R2 and F-scores ---------------------------------------------------------------------------
class R2Score(Metric):
    """Coefficient of determination per output, 1 - SS_res / SS_tot (weighted), aggregated by
    'uniform_average', 'variance_weighted_average' or None; adjusted for ``num_regressors``."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name, dtype)
        if class_aggregation not in ("uniform_average", "variance_weighted_average", None):
            raise ValueError("R2Score: class_aggregation must be 'uniform_average', 'variance_weighted_average' "
                             f"or None, got {class_aggregation!r}")
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, int) or num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be an integer >= 0, got {num_regressors!r}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.num_samples = self.add_variable((), dtype="int64", name="num_samples")
        self._built = False

    def update_state(self, y_true, y_pred, sample_weight=None):
        with tl.no_grad():
            y_true = tl.asarray(y_true).astype(self.dtype)
            y_pred = tl.asarray(y_pred).astype(self.dtype)
            if y_true.ndim == 1:
                y_true = tl.expand_dims(y_true, 1)
            if y_pred.ndim == 1:
                y_pred = tl.expand_dims(y_pred, 1)
            if y_true.ndim != 2 or tuple(y_true.shape) != tuple(y_pred.shape):
                raise ValueError(f"R2Score expects 2D inputs of equal shape (batch_size, outputs), got y_true "
                                 f"{tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)}")
            if not self._built:
                outputs = (y_true.shape[-1],)
                self.sum, self.squared_sum, self.total_mse, self.count = (
                    self.add_variable(outputs, name=n) for n in ("sum", "squared_sum", "total_mse", "count"))
                self._built = True
            weight = tl.ones((), dtype=self.dtype) if sample_weight is None else \
                tl.asarray(sample_weight).astype(self.dtype)
            if weight.ndim == 1:
                weight = tl.expand_dims(weight, 1)
            weight = tl.broadcast_to(weight, y_true.shape)
            weighted = y_true * weight
            self.sum += tl.sum(weighted, axis=0)
            self.squared_sum += tl.sum(y_true * weighted, axis=0)
            self.total_mse += tl.sum(tl.square(y_true - y_pred) * weight, axis=0)
            self.count += tl.sum(weight, axis=0)
            self.num_samples += y_true.size

    def result(self):
        if not self._built:
            return tl.zeros((), dtype=self.dtype)
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw = 1.0 - self.total_mse / total
        raw = tl.where(tl.abs(raw) == float("inf"), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            r2 = tl.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            r2 = tl.sum(total * raw) / tl.sum(total)
        else:
            r2 = raw
        if self.num_regressors:
            # Keras warns and leaves r2 unadjusted when n - 1 <= p; chosen by tensor ops, as a
            # captured step cannot branch on the count.
            n = self.num_samples.astype(self.dtype)
            p = float(self.num_regressors)
            adjusted = 1.0 - (1.0 - r2) * (n - 1.0) / tl.where(p < n - 1.0, n - p - 1.0, 1.0)
            r2 = tl.where(p < n - 1.0, adjusted, r2)
        return r2

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


class FBetaScore(Metric):
    """(1 + beta^2) P R / (beta^2 P + R) per class from counts of ``y_pred > threshold`` (the
    row's maximum when threshold is None); average None, 'micro', 'macro' or 'weighted'."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name, dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{type(self).__name__}: average must be None, 'micro', 'macro' or 'weighted', got "
                             f"{average!r}")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
            raise ValueError(f"{type(self).__name__}: beta must be a number > 0, got {beta!r}")
        if threshold is not None and (not isinstance(threshold, (int, float)) or not 0 < threshold <= 1):
            raise ValueError(f"{type(self).__name__}: threshold must verify 0 < threshold <= 1, got {threshold!r}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self._built = False

    def update_state(self, y_true, y_pred, sample_weight=None):
        with tl.no_grad():
            y_true = tl.asarray(y_true).astype(self.dtype)
            y_pred = tl.asarray(y_pred).astype(self.dtype)
            if y_true.ndim != 2 or y_pred.ndim != 2:
                raise ValueError(f"{type(self).__name__} expects 2D inputs (batch_size, output_dim), got y_true "
                                 f"{tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)}")
            if not self._built:
                shape = () if self.average == "micro" else (y_pred.shape[-1],)
                self.true_positives, self.false_positives, self.false_negatives, self.intermediate_weights = (
                    self.add_variable(shape, name=n)
                    for n in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"))
                self._built = True
            if self.threshold is None:
                top = tl.max(y_pred, axis=-1, keepdims=True)
                predicted = tl.logical_and(y_pred >= top, tl.abs(y_pred) > 1e-9)
            else:
                predicted = y_pred > self.threshold
            predicted = predicted.astype(self.dtype)
            weight = None if sample_weight is None else tl.expand_dims(tl.asarray(sample_weight).astype(self.dtype),
                                                                       1)
            axis = None if self.average == "micro" else 0

            def total(v):
                return tl.sum(v if weight is None else v * weight, axis=axis)

            self.true_positives += total(predicted * y_true)
            self.false_positives += total(predicted * (1.0 - y_true))
            self.false_negatives += total((1.0 - predicted) * y_true)
            self.intermediate_weights += total(y_true)

    def result(self):
        if not self._built:
            return tl.zeros((), dtype=self.dtype)
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + EPSILON)
        recall = tp / (tp + self.false_negatives + EPSILON)
        b2 = self.beta ** 2
        score = precision * recall / (b2 * precision + recall + EPSILON) * (1.0 + b2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (tl.sum(self.intermediate_weights) + EPSILON)
            return tl.sum(score * weights)
        if self.average is not None:
            return tl.mean(score)
        return score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average, 1.0, threshold, name, dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
