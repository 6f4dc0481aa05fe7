"""tl.depthwise_conv and grouped tl.conv against the NumPy reference (one conv per group, from
tests/conv_reference.py), numerical gradients in float64, channels_first, threads, errors."""
import numpy as np
import pytest

import tensorlet as tl
from conv_reference import (depthwise_conv as np_depthwise, depthwise_conv_grads as np_depthwise_grads,
                            grouped_conv as np_grouped, grouped_conv_grads as np_grouped_grads)
from gradcheck import gradcheck
from thread_counts import assert_same_for_thread_counts

# (x shape channels-last, kernel spatial size, depth multiplier, strides, dilation)
CASES = [
    ((2, 7, 8, 3), (3, 3), 1, (1, 1), (1, 1)),
    ((1, 6, 6, 2), (3, 2), 3, (2, 1), (1, 1)),      # multiplier 3, unequal strides
    ((2, 9, 9, 4), (3, 3), 2, (1, 1), (2, 2)),      # dilation
    ((2, 5, 5, 1), (5, 5), 1, (1, 1), (1, 1)),      # one input channel, kernel = input
    ((2, 9, 3), (3,), 2, (2,), (1,)),               # 1-D
    ((1, 8, 5), (2,), 1, (1,), (3,)),
]


def _inputs(x_shape, size, m, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(x_shape).astype(dtype),
            rng.standard_normal(tuple(size) + (x_shape[-1], m)).astype(dtype))


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("case", CASES)
def test_depthwise_forward_and_gradients_match_numpy(case, padding):
    x_shape, size, m, strides, dilation = case
    x, w = _inputs(x_shape, size, m)
    xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
    y = tl.depthwise_conv(xt, wt, strides=strides, padding=padding, dilation_rate=dilation)
    want = np_depthwise(x, w, strides, padding, dilation)
    assert y.shape == want.shape and want.shape[-1] == x_shape[-1] * m
    np.testing.assert_allclose(np.asarray(y), want, rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(want.shape)
    y.backward(tl.array(g))
    dx, dw = np_depthwise_grads(x, w, g, strides, padding, dilation)
    np.testing.assert_allclose(np.asarray(xt.grad), dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(wt.grad), dw, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", [CASES[1], CASES[2], CASES[4]])
def test_depthwise_gradcheck(case):
    x_shape, size, m, strides, dilation = case
    x, w = _inputs(x_shape, size, m)
    gradcheck(lambda a, k: tl.depthwise_conv(a, k, strides=strides, padding="same", dilation_rate=dilation), x, w)


@pytest.mark.parametrize("rank", [1, 2])
def test_depthwise_channels_first(rank):
    x, w = _inputs((2, 6, 3) if rank == 1 else (2, 6, 5, 3), (3,) * rank, 2)
    last = np.asarray(tl.depthwise_conv(tl.array(x), tl.array(w), strides=2, padding="same"))
    xf = np.moveaxis(x, -1, 1)
    first = tl.depthwise_conv(tl.array(xf), tl.array(w), strides=2, padding="same", data_format="channels_first")
    np.testing.assert_allclose(np.asarray(first), np.moveaxis(last, -1, 1), rtol=1e-12, atol=1e-12)
    gradcheck(lambda a, k: tl.depthwise_conv(a, k, padding="same", data_format="channels_first"), xf[:1], w)


def test_depthwise_float32_and_promotion():
    x, w = _inputs((3, 10, 10, 8), (3, 3), 2, np.float32)
    y = tl.depthwise_conv(tl.array(x), tl.array(w), padding="same")
    assert y.dtype == np.float32
    np.testing.assert_allclose(np.asarray(y), np_depthwise(x.astype(np.float64), w.astype(np.float64), (1, 1), "same",
                                                           (1, 1)), rtol=1e-5, atol=1e-5)
    assert tl.depthwise_conv(tl.array(x), tl.array(w.astype(np.float64))).dtype == np.float64


def test_depthwise_results_do_not_depend_on_the_thread_count():
    x, w = _inputs((20, 12, 12, 8), (3, 3), 2, np.float32)
    g = np.random.default_rng(3).standard_normal((20, 12, 12, 16)).astype(np.float32)

    def run():
        xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
        tl.depthwise_conv(xt, wt, padding="same").backward(tl.array(g))
        return [xt.grad, wt.grad]
    assert_same_for_thread_counts(run)


def test_depthwise_empty_batch():
    x, w = _inputs((0, 5, 5, 2), (3, 3), 2)
    xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
    y = tl.depthwise_conv(xt, wt, padding="same")
    assert y.shape == (0, 5, 5, 4)
    tl.sum(y).backward()
    np.testing.assert_array_equal(np.asarray(wt.grad), np.zeros_like(w))


# (x shape, kernel shape): groups = C / kernel's input channels
GROUPED = [((2, 6, 7, 4), (3, 3, 2, 6)), ((1, 5, 5, 6), (2, 2, 2, 3)), ((2, 8, 6), (3, 2, 6))]


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("x_shape,k_shape", GROUPED)
def test_grouped_conv_matches_numpy(x_shape, k_shape, padding):
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(k_shape), rng.standard_normal(k_shape[-1])
    spatial = len(x_shape) - 2
    groups = x_shape[-1] // k_shape[-2]
    want = np_grouped(x, w, (1,) * spatial, padding, (1,) * spatial) + b
    y = tl.conv(tl.array(x), tl.array(w), padding=padding, bias=tl.array(b), groups=groups)
    np.testing.assert_allclose(np.asarray(y), want, rtol=1e-12, atol=1e-12)
    relu = tl.conv(tl.array(x), tl.array(w), padding=padding, bias=tl.array(b), activation="relu")
    np.testing.assert_allclose(np.asarray(relu), np.maximum(want, 0), rtol=1e-12, atol=1e-12)
    xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
    g = rng.standard_normal(want.shape)
    tl.conv(xt, wt, padding=padding).backward(tl.array(g))
    dx, dw = np_grouped_grads(x, w, g, (1,) * spatial, padding, (1,) * spatial)
    np.testing.assert_allclose(np.asarray(xt.grad), dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(wt.grad), dw, rtol=1e-12, atol=1e-12)
    gradcheck(lambda a, k, c: tl.conv(a, k, strides=2, padding=padding, bias=c), x[:1], w, b)


def test_grouped_conv_channels_first():
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((1, 4, 5, 5)), rng.standard_normal((3, 3, 2, 4))
    want = np_grouped(np.moveaxis(x, 1, -1), w, (1, 1), "same", (1, 1))
    y = tl.conv(tl.array(x), tl.array(w), padding="same", data_format="channels_first")
    np.testing.assert_allclose(np.asarray(y), np.moveaxis(want, -1, 1), rtol=1e-12, atol=1e-12)


def test_groups_argument_is_checked_against_the_shapes():
    x, w = tl.zeros((1, 5, 5, 4)), tl.zeros((3, 3, 2, 4))
    with pytest.raises(ValueError, match=r"groups=4 .*\(1,5,5,4\).*\(3,3,2,4\)"):
        tl.conv(x, w, groups=4)
    with pytest.raises(ValueError, match="must divide the 3 output channels"):
        tl.conv(x, tl.zeros((3, 3, 2, 3)))


def test_depthwise_double_backward_is_refused():
    x, w = _inputs((1, 4, 4, 2), (2, 2), 1)
    xt = tl.array(x, requires_grad=True)
    y = tl.sum(tl.depthwise_conv(xt, tl.array(w, requires_grad=True)))
    with pytest.raises(RuntimeError, match="double backward"):
        y.backward(create_graph=True)
