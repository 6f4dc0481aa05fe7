"""tl.batch_normalization (keras.ops's) and tl.batch_norm_train (the layer's training mode) against
NumPy, numerical gradients in float64, the in-place moving-statistics update, and errors."""
import numpy as np
import pytest

import tensorlet as tl
from gradcheck import gradcheck
from thread_counts import assert_same_for_thread_counts

EPS = 1e-3


def np_norm(x, mean, var, axis, offset=None, scale=None, eps=EPS):
    shape = [1] * x.ndim
    shape[axis] = -1
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if scale is not None:
        y = y * scale.reshape(shape)
    return y + offset.reshape(shape) if offset is not None else y


def _params(c, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(c), rng.uniform(0.5, 2.0, c), rng.standard_normal(c), rng.uniform(0.5, 1.5, c)


@pytest.mark.parametrize("shape,axis", [((6, 4), -1), ((3, 4, 5, 2), -1), ((2, 3, 4, 5), 1), ((5, 3), 0)])
def test_batch_normalization_matches_numpy_and_gradcheck(shape, axis):
    x = np.random.default_rng(1).standard_normal(shape)
    mean, var, offset, scale = _params(shape[axis])
    y = tl.batch_normalization(tl.array(x), tl.array(mean), tl.array(var), axis, offset=tl.array(offset),
                               scale=tl.array(scale), epsilon=EPS)
    np.testing.assert_allclose(np.asarray(y), np_norm(x, mean, var, axis, offset, scale), rtol=1e-12, atol=1e-12)
    bare = tl.batch_normalization(tl.array(x), tl.array(mean), tl.array(var), axis)
    np.testing.assert_allclose(np.asarray(bare), np_norm(x, mean, var, axis), rtol=1e-12, atol=1e-12)
    gradcheck(lambda a, m, v, o, s: tl.batch_normalization(a, m, v, axis, offset=o, scale=s, epsilon=EPS),
              x, mean, var, offset, scale)


@pytest.mark.parametrize("shape,axis", [((8, 3), -1), ((4, 3, 3, 2), -1), ((3, 2, 4, 3), 1), ((4, 5, 3), 1)])
def test_batch_norm_train_matches_numpy_and_updates_moving_stats(shape, axis):
    x = np.random.default_rng(2).standard_normal(shape) * 3 + 1
    _, _, offset, scale = _params(shape[axis])
    axes = tuple(d for d in range(len(shape)) if d != axis % len(shape))
    mean, var = x.mean(axis=axes), x.var(axis=axes)  # the biased variance, as Keras
    mm, mv = tl.array(np.full(shape[axis], 0.5)), tl.array(np.full(shape[axis], 2.0))
    y = tl.batch_norm_train(tl.array(x), mm, mv, axis=axis, offset=tl.array(offset), scale=tl.array(scale),
                            momentum=0.9, epsilon=EPS)
    np.testing.assert_allclose(np.asarray(y), np_norm(x, mean, var, axis % len(shape), offset, scale), rtol=1e-11,
                               atol=1e-12)
    np.testing.assert_allclose(np.asarray(mm), 0.5 * 0.9 + mean * 0.1, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(mv), 2.0 * 0.9 + var * 0.1, rtol=1e-12)
    gradcheck(lambda a, o, s: tl.batch_norm_train(a, tl.zeros(shape[axis], dtype="float64"),
                                                  tl.ones(shape[axis], dtype="float64"), axis=axis, offset=o, scale=s,
                                                  epsilon=EPS), x, offset, scale, rtol=1e-5, atol=1e-6)


def test_batch_norm_train_without_offset_and_scale_and_float32():
    x = np.random.default_rng(3).standard_normal((64, 5)).astype(np.float32) * 4 + 2
    mm, mv = tl.zeros(5), tl.ones(5)
    y = tl.batch_norm_train(tl.array(x), mm, mv)
    assert y.dtype == np.float32
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(np.asarray(y), np_norm(x64, x64.mean(0), x64.var(0), 1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(mm), 0.01 * x64.mean(0), rtol=1e-5)  # default momentum 0.99
    gradcheck(lambda a: tl.batch_norm_train(a, tl.zeros(5, dtype="float64"), tl.ones(5, dtype="float64")),
              x64[:6], rtol=1e-5, atol=1e-6)


def test_results_do_not_depend_on_the_thread_count():
    x = np.random.default_rng(4).standard_normal((300, 7, 16)).astype(np.float32)

    def run():
        xt, mm, mv = tl.array(x, requires_grad=True), tl.zeros(16), tl.ones(16)
        y = tl.batch_norm_train(xt, mm, mv)
        tl.sum(y * y * y).backward()
        return [y, mm, mv, xt.grad]
    assert_same_for_thread_counts(run, (1, 3))


def test_errors_leave_the_moving_statistics_untouched():
    x = tl.ones((4, 3))
    mm, mv = tl.zeros(3), tl.ones(3)
    with pytest.raises(ValueError, match=r"moving_variance must have shape \(3,\)"):
        tl.batch_norm_train(x, mm, tl.ones(4))
    with pytest.raises(ValueError, match="no values per channel"):
        tl.batch_norm_train(tl.ones((0, 3)), mm, mv)
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        tl.batch_norm_train(x, mm, mv, axis=2)
    with pytest.raises(RuntimeError, match="must not require grad"):
        tl.batch_norm_train(x, mm, tl.ones(3, requires_grad=True))
    with pytest.raises(TypeError, match="float"):
        tl.batch_norm_train(tl.ones((4, 3), dtype="int32"), mm, mv)
    np.testing.assert_array_equal(np.asarray(mm), 0)
    np.testing.assert_array_equal(np.asarray(mv), 1)
    with pytest.raises(ValueError, match=r"scale must have shape \(3,\)"):
        tl.batch_normalization(x, mm, mv, -1, scale=tl.ones(2))
    with pytest.raises(ValueError, match="epsilon"):
        tl.batch_normalization(x, mm, mv, -1, epsilon=-1.0)


def test_double_backward_is_refused():
    xt = tl.array(np.random.default_rng(5).standard_normal((4, 2)), requires_grad=True)
    y = tl.sum(tl.batch_norm_train(xt, tl.zeros(2, dtype="float64"), tl.ones(2, dtype="float64")) ** 3)
    with pytest.raises(RuntimeError, match="double backward"):
        y.backward(create_graph=True)
