"""The conv backward epilogue (kernels::conv_output_grad: the relu mask and the bias gradient in
one pass, summed in fixed blocks of 256 rows) and the max-pool backward for windows that do not
overlap (each covered cell written once, only uncovered cells zeroed), against NumPy."""
import numpy as np
import pytest

import tensorlet as tl
from conv_reference import conv as np_conv, conv_grads as np_conv_grads, max_pool as np_max_pool
from thread_counts import assert_same_for_thread_counts


def _conv_case(data_format, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 20, 20, 2))  # 3 * 18 * 18 = 972 output rows: four row blocks
    w = rng.standard_normal((3, 3, 2, 5))
    b = rng.standard_normal(5)
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, 1)
    return x, w, b


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("activation", [None, "relu"])
def test_bias_and_relu_gradients_over_several_row_blocks(activation, data_format):
    x, w, b = _conv_case(data_format)
    xl = np.moveaxis(x, 1, -1) if data_format == "channels_first" else x
    pre = np_conv(xl, w, (1, 1), "valid", (1, 1)) + b
    g = np.random.default_rng(1).standard_normal(pre.shape)
    gm = g * (pre > 0) if activation == "relu" else g  # the gradient reaching the conv itself
    xt, wt, bt = (tl.array(a, requires_grad=True) for a in (x, w, b))
    y = tl.conv(xt, wt, bias=bt, activation=activation, data_format=data_format)
    y.backward(tl.array(np.moveaxis(g, -1, 1) if data_format == "channels_first" else g))
    dx, dw = np_conv_grads(xl, w, gm, (1, 1), "valid", (1, 1))
    if data_format == "channels_first":
        dx = np.moveaxis(dx, -1, 1)
    np.testing.assert_allclose(np.asarray(bt.grad), gm.sum(axis=(0, 1, 2)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(wt.grad), dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(xt.grad), dx, rtol=1e-12, atol=1e-12)


def test_relu_mask_is_zero_at_zero_and_keeps_nan_of_the_incoming_gradient():
    # A zero bias and a zero kernel make every output exactly 0: relu passes no gradient there
    # (PyTorch's choice), except that a NaN or inf gradient times the zero mask stays NaN.
    x = np.ones((1, 4, 4, 1))
    xt = tl.array(x)
    wt = tl.array(np.zeros((3, 3, 1, 2)), requires_grad=True)
    bt = tl.array(np.zeros(2), requires_grad=True)
    y = tl.conv(xt, wt, bias=bt, activation="relu")
    g = np.ones((1, 2, 2, 2))
    g[0, 0, 0, 1] = np.inf
    y.backward(tl.array(g))
    np.testing.assert_array_equal(np.asarray(bt.grad), [0.0, np.nan])
    np.testing.assert_array_equal(np.asarray(wt.grad)[..., 0], np.zeros((3, 3, 1)))
    assert np.isnan(np.asarray(wt.grad)[..., 1]).all()


def test_bias_gradient_does_not_depend_on_the_thread_count():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 30, 30, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 7)).astype(np.float32)
    b = rng.standard_normal(7).astype(np.float32)
    g = rng.standard_normal((8, 28, 28, 7)).astype(np.float32)

    def run():
        ts = [tl.array(a, requires_grad=True) for a in (x, w, b)]
        tl.conv(*ts[:2], bias=ts[2], activation="relu").backward(tl.array(g))
        return [t.grad for t in ts]
    assert_same_for_thread_counts(run)


@pytest.mark.parametrize("shape,pool,strides,padding", [
    ((2, 9, 11, 3), (2, 2), (2, 2), "valid"),   # last row and column in no window
    ((2, 10, 10, 2), (2, 2), (3, 3), "valid"),  # a gap row and column between windows
    ((1, 7, 8, 2), (2, 3), (3, 4), "same"),     # padded windows with gaps
    ((2, 11, 4), (2,), (3,), "valid"),          # 1-D
])
def test_disjoint_max_pool_gradient_zeroes_uncovered_cells_of_a_dirty_buffer(shape, pool, strides, padding):
    x = np.random.default_rng(3).standard_normal(shape)
    want, grad = np_max_pool(x, pool, strides, padding)
    g = np.random.default_rng(4).standard_normal(want.shape)
    for _ in range(3):
        # Freed NaN buffers of the gradient's size, which the allocator may hand back to it.
        for _ in range(4):
            del_me = tl.full(shape, np.nan)
            del del_me
        xt = tl.array(x, requires_grad=True)
        tl.max_pool(xt, pool, strides=strides, padding=padding).backward(tl.array(g))
        np.testing.assert_array_equal(np.asarray(xt.grad), grad(g))
