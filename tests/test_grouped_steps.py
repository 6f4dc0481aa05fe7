"""evaluate / predict group several batches into one captured call only when the model's rows
are independent (tensorlet's own model class, layers, mean-reduced loss and metrics), and the
grouped results equal batch-by-batch ones to float rounding."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import layers, losses, metrics, models
from tensorlet.trainer import GROUP_ROWS, GroupedStepFunction


def _model(loss="categorical_crossentropy", metric_list=("accuracy",)):
    tl.random.seed(3)
    model = models.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="rmsprop", loss=loss, metrics=list(metric_list))
    return model


def _data(n=203):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=n)]


def test_grouped_evaluate_and_predict_equal_batch_by_batch():
    x, y = _data()
    grouped, single = _model(), _model()
    single.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"], run_eagerly=True)
    assert isinstance(grouped.make_test_function(), GroupedStepFunction)
    assert isinstance(grouped.make_predict_function(), GroupedStepFunction)
    assert not isinstance(single.make_test_function(), GroupedStepFunction)
    for _ in range(3):  # eager, capture, replay
        np.testing.assert_allclose(grouped.evaluate(x, y, batch_size=8, verbose=0),
                                   single.evaluate(x, y, batch_size=8, verbose=0), rtol=1e-5)
        np.testing.assert_allclose(grouped.predict(x, batch_size=8, verbose=0),
                                   single.predict(x, batch_size=8, verbose=0), rtol=1e-5, atol=1e-7)


def _per_batch_loss(y_true, y_pred):  # one value per batch: grouping would change its mean
    return tl.mean(tl.square(y_true - y_pred)) + 0.0 * tl.sum(y_pred)


class _Subclassed(models.Sequential):
    pass


@pytest.mark.parametrize("case", ["sum_loss", "user_loss", "user_metric", "subclass", "lambda", "instance_step"])
def test_user_code_is_never_grouped(case):
    model = {
        "sum_loss": lambda: _model(loss=losses.CategoricalCrossentropy(reduction="sum")),
        "user_loss": lambda: _model(loss=_per_batch_loss),
        "user_metric": lambda: _model(metric_list=[metrics.MeanMetricWrapper(_per_batch_loss, name="m")]),
        "subclass": lambda: _model(),
        "lambda": lambda: _model(),
        "instance_step": lambda: _model(),
    }[case]()
    if case == "subclass":
        model.__class__ = _Subclassed
    if case == "instance_step":
        model.test_step = model.test_step
    grouped_predict = case not in ("subclass", "instance_step")
    if case == "lambda":
        lam = layers.Lambda(lambda t: t * 1.0)
        model = models.Sequential([layers.Input((6,)), lam, layers.Dense(3, activation="softmax")])
        model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
        grouped_predict = False
    assert not isinstance(model.make_test_function(), GroupedStepFunction)
    assert isinstance(model.make_predict_function(), GroupedStepFunction) == grouped_predict


def test_a_sum_reduced_loss_keeps_its_per_batch_mean():
    x, y = _data(40)
    model = _model(loss=losses.CategoricalCrossentropy(reduction="sum"))
    per_batch = [float(np.sum(-np.log(np.clip(model.predict(x[i:i + 8], verbose=0), 1e-7, 1)) * y[i:i + 8]))
                 for i in range(0, 40, 8)]
    for _ in range(3):
        np.testing.assert_allclose(model.evaluate(x, y, batch_size=8, verbose=0)[0], np.mean(per_batch), rtol=1e-5)


def test_groups_are_bounded_by_the_largest_activation():
    dense = _model()
    x, _ = _data(10)
    assert dense.make_predict_function().steps_per_execution((tl.asarray(x),), 32) == GROUP_ROWS // 32
    conv = models.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                              layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10, activation="softmax")])
    conv.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    images = tl.zeros((4, 28, 28, 1))
    # 26 x 26 x 32 = 21632 elements a row: 387 rows stay under 2**23 elements, i.e. 6 batches of 64.
    assert conv.make_predict_function().steps_per_execution((images,), 64) == (2 ** 23 // 21632) // 64
