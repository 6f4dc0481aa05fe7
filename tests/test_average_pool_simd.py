"""The vectorised average pooling (kernels/window_simd_impl.h): channel counts that fill whole
vector blocks, leave a tail or only a tail, in float32 and float64; overlapping windows (the
backward adds) and disjoint ones (written once, uncovered cells zeroed); Keras's 'same' (padded
cells excluded from the count); results independent of the thread count. NumPy
(tests/conv_reference.py) is the oracle, gradients are checked numerically in float64."""
import numpy as np
import pytest

import tensorlet as tl
from conv_reference import average_pool as np_average_pool
from gradcheck import gradcheck
from thread_counts import assert_same_for_thread_counts


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [1, 3, 16, 37])
@pytest.mark.parametrize("pool,strides,padding", [
    ((2, 2), (2, 2), "valid"),   # disjoint
    ((2, 2), (2, 2), "same"),    # disjoint, the last row and column padded
    ((3, 3), (2, 2), "same"),    # overlapping and padded
    ((3, 2), (1, 3), "valid"),   # overlapping rows, gaps between columns
])
def test_matches_numpy(dtype, channels, pool, strides, padding):
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((2, 9, 7, channels)).astype(dtype)
    xt = tl.array(x, requires_grad=True)
    y = tl.average_pool(xt, pool, strides=strides, padding=padding)
    want, grad = np_average_pool(x.astype(np.float64), pool, strides, padding)
    tol = 1e-13 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(np.asarray(y), want, rtol=tol, atol=tol)
    g = rng.standard_normal(want.shape).astype(dtype)
    y.backward(tl.array(g))
    np.testing.assert_allclose(np.asarray(xt.grad), grad(g.astype(np.float64)), rtol=tol, atol=tol)


def test_same_count_excludes_padding_at_every_border():
    x = np.ones((1, 5, 5, 20))
    # 3x3 stride 1 'same': corners see 4 cells, edges 6, the interior 9; each mean is 1.
    np.testing.assert_array_equal(np.asarray(tl.average_pool(tl.array(x), 3, strides=1, padding="same")), x)
    xt = tl.array(x, requires_grad=True)
    tl.sum(tl.average_pool(xt, 3, strides=1, padding="same")).backward()
    _, grad = np_average_pool(x, (3, 3), (1, 1), "same")
    np.testing.assert_allclose(np.asarray(xt.grad), grad(np.ones((1, 5, 5, 20))), rtol=1e-15)
    assert np.asarray(xt.grad)[0, 0, 0, 0] == pytest.approx(1 / 4 + 2 / 6 + 1 / 9)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_gradcheck_float64(padding):
    x = np.random.default_rng(3).standard_normal((2, 6, 5, 11))
    gradcheck(lambda a: tl.average_pool(a, (3, 2), strides=(2, 1), padding=padding), x)
    gradcheck(lambda a: tl.average_pool(a, 2, strides=2, padding=padding), x[:, :5])
    gradcheck(lambda a: tl.average_pool(a, 3, strides=2, padding=padding), x[:, 0])  # 1-D


def test_threads_give_the_same_bits():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((16, 26, 26, 40)).astype(np.float32)
    g = rng.standard_normal((16, 13, 13, 40)).astype(np.float32)

    def run():
        xt = tl.array(x, requires_grad=True)
        y = tl.average_pool(xt, 3, strides=2, padding="same")
        y.backward(tl.array(g))
        return [y, xt.grad]
    assert_same_for_thread_counts(run)
