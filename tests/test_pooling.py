"""tl.max_pool / tl.average_pool against the NumPy reference (tests/conv_reference.py), with
their gradients (max: to the first maximal cell; average "same": padded cells excluded)."""
import numpy as np
import pytest

import tensorlet as tl
from conv_reference import average_pool as np_average_pool, max_pool as np_max_pool
from gradcheck import gradcheck

# (x shape NHWC or NWC, pool size, strides)
CASES = [
    ((2, 6, 6, 3), (2, 2), (2, 2)),
    ((1, 7, 9, 1), (2, 2), (2, 2)),      # odd sizes, batch 1, one channel
    ((2, 7, 8, 2), (3, 3), (2, 2)),      # overlapping windows
    ((2, 9, 9, 2), (2, 3), (3, 2)),      # stride > pool along H
    ((2, 5, 5, 4), (1, 1), (1, 1)),
    ((1, 4, 5, 2), (4, 5), (1, 1)),      # one window covering the input
    ((2, 9, 3), (2,), (2,)),
    ((3, 10, 2), (3,), (2,)),
    ((1, 7, 1), (4,), (1,)),
]
OPS = {"max_pool": (tl.max_pool, np_max_pool), "average_pool": (tl.average_pool, np_average_pool)}


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("case", CASES)
def test_forward_and_gradient_match_numpy(case, op, padding):
    x_shape, pool, strides = case
    ours, ref = OPS[op]
    x = np.random.default_rng(0).standard_normal(x_shape)
    xt = tl.array(x, requires_grad=True)
    y = ours(xt, pool, strides=strides, padding=padding)
    want, grad = ref(x, pool, strides, padding)
    assert y.shape == want.shape
    np.testing.assert_allclose(np.asarray(y), want, rtol=1e-13, atol=1e-14)
    g = np.random.default_rng(1).standard_normal(want.shape)
    y.backward(tl.array(g))
    np.testing.assert_allclose(np.asarray(xt.grad), grad(g), rtol=1e-13, atol=1e-14)


def test_strides_default_to_pool_size_and_ints_broadcast():
    x = np.random.default_rng(2).standard_normal((2, 8, 6, 3)).astype(np.float32)
    y = tl.max_pool(tl.array(x), 2)
    np.testing.assert_array_equal(np.asarray(y), np_max_pool(x, (2, 2), (2, 2), "valid")[0])
    assert tl.average_pool(tl.array(x), (2, 3)).shape == (2, 4, 2, 3)


def test_same_average_excludes_padding():
    x = np.ones((1, 3, 3, 1))
    y = np.asarray(tl.average_pool(tl.array(x), 2, strides=2, padding="same"))
    np.testing.assert_array_equal(y, np.ones((1, 2, 2, 1)))  # padded zeros would give 0.5 and 0.25


def test_max_gradient_goes_to_the_first_maximum_only():
    x = tl.array(np.array([[[[1.0], [3.0]], [[3.0], [2.0]]]]), requires_grad=True)
    tl.sum(tl.max_pool(x, 2)).backward()
    np.testing.assert_array_equal(np.asarray(x.grad)[0, :, :, 0], [[0.0, 1.0], [0.0, 0.0]])


def test_max_pool_propagates_nan():
    x = np.array([[[[1.0], [np.nan]], [[3.0], [2.0]]]])
    assert np.isnan(np.asarray(tl.max_pool(tl.array(x), 2))).all()
    xt = tl.array(x, requires_grad=True)  # the path that records where the maximum was
    y = tl.max_pool(xt, 2)
    assert np.isnan(np.asarray(y)).all()
    y.backward(tl.ones(y.shape, dtype="float64"))
    np.testing.assert_array_equal(np.asarray(xt.grad)[0, :, :, 0], [[0.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize("op", [tl.max_pool, tl.average_pool])
@pytest.mark.parametrize("rank", [1, 2])
def test_channels_first(op, rank):
    shape = (2, 9, 3) if rank == 1 else (2, 7, 6, 3)
    x = np.random.default_rng(3).standard_normal(shape)
    last = np.asarray(op(tl.array(x), 3, strides=2, padding="same"))
    first = op(tl.array(np.moveaxis(x, -1, 1)), 3, strides=2, padding="same", data_format="channels_first")
    np.testing.assert_allclose(np.asarray(first), np.moveaxis(last, -1, 1), rtol=1e-14)


def test_non_contiguous_view():
    big = np.random.default_rng(4).standard_normal((2, 10, 12, 6))
    y = tl.max_pool(tl.array(big)[:, 1:, ::2, ::3], 3, strides=2, padding="same")
    np.testing.assert_array_equal(np.asarray(y), np_max_pool(big[:, 1:, ::2, ::3], (3, 3), (2, 2), "same")[0])


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("op", [tl.max_pool, tl.average_pool])
def test_gradcheck(op, padding):
    x = np.random.default_rng(5).permutation(2 * 5 * 5 * 2).reshape(2, 5, 5, 2) / 7.0  # no ties
    gradcheck(lambda a: op(a, 3, strides=2, padding=padding), x)
    gradcheck(lambda a: op(a, 2, strides=1, padding=padding), x[:, 0])


def test_large_input_threads():
    x = np.random.default_rng(6).standard_normal((64, 26, 26, 32)).astype(np.float32)
    xt = tl.array(x, requires_grad=True)
    y = tl.max_pool(xt, 2)
    want, grad = np_max_pool(x, (2, 2), (2, 2), "valid")
    np.testing.assert_array_equal(np.asarray(y), want)
    g = np.ones(want.shape, np.float32)
    y.backward(tl.array(g))
    np.testing.assert_array_equal(np.asarray(xt.grad), grad(g).astype(np.float32))


@pytest.mark.parametrize("op", [tl.max_pool, tl.average_pool])
def test_empty_batch(op):
    xt = tl.array(np.ones((0, 4, 4, 2)), requires_grad=True)
    y = op(xt, 2)
    assert y.shape == (0, 2, 2, 2)
    tl.sum(y).backward()
    assert xt.grad.shape == (0, 4, 4, 2)


@pytest.mark.parametrize("rank", [1, 2])
def test_same_padding_window_far_larger_than_the_input(rank):
    # Keras/TF allow a 'same' window wider than the input: each window then covers the whole
    # input. The kernels used to visit every one of the window's cells, padding included
    # (2**40 per output here: the call never returned); only the cells inside are visited now.
    x = np.random.default_rng(0).standard_normal((2,) + (3,) * rank + (2,))
    t = tl.array(x, requires_grad=True)
    spatial = tuple(range(1, rank + 1))
    y = tl.max_pool(t, 2**40, strides=1, padding="same")
    np.testing.assert_array_equal(np.asarray(y), np.broadcast_to(x.max(axis=spatial, keepdims=True), x.shape))
    a = tl.average_pool(t, 2**40, strides=1, padding="same")
    np.testing.assert_allclose(np.asarray(a), np.broadcast_to(x.mean(axis=spatial, keepdims=True), x.shape))
    (y.sum() + a.sum()).backward()
    # each output averages all 3**rank cells, and each output's maximum gets its gradient
    first_max = np.zeros_like(x).reshape(2, -1, 2)
    idx = x.reshape(2, -1, 2).argmax(axis=1)
    for n in range(2):
        for c in range(2):
            first_max[n, idx[n, c], c] = 3**rank
    np.testing.assert_allclose(np.asarray(t.grad), first_max.reshape(x.shape) + 1.0)
