"""tl.conv against the NumPy reference (tests/conv_reference.py): forward and both gradients over
many shapes, strides, paddings and dilations, plus numerical gradient checks in float64."""
import numpy as np
import pytest

import tensorlet as tl
from conv_reference import conv as np_conv, conv_grads as np_conv_grads
from gradcheck import gradcheck
from thread_counts import assert_same_for_thread_counts

# (x shape NHWC, kernel spatial size, out channels, strides, dilation)
CASES_2D = [
    ((2, 7, 9, 3), (3, 3), 4, (1, 1), (1, 1)),
    ((1, 5, 5, 1), (3, 3), 2, (1, 1), (1, 1)),       # batch 1, Cin = 1
    ((3, 6, 6, 4), (1, 1), 5, (1, 1), (1, 1)),       # pointwise: no im2col
    ((2, 6, 7, 3), (1, 1), 2, (2, 3), (1, 1)),       # 1x1 with strides
    ((2, 9, 11, 2), (2, 2), 3, (3, 3), (1, 1)),      # stride > kernel
    ((2, 10, 11, 2), (3, 2), 3, (2, 3), (1, 1)),     # odd sizes, unequal strides
    ((1, 12, 13, 2), (3, 3), 2, (1, 1), (2, 3)),     # dilation
    ((2, 8, 8, 3), (5, 5), 2, (1, 1), (1, 1)),       # kernel as large as most of the input
    ((2, 4, 4, 2), (4, 4), 3, (1, 1), (1, 1)),       # kernel = input: one output pixel
    ((2, 5, 6, 3), (2, 3), 2, (2, 1), (2, 1)),       # strides and dilation together (the op allows it)
]
CASES_1D = [
    ((2, 9, 3), (3,), 4, (1,), (1,)),
    ((1, 7, 1), (2,), 2, (3,), (1,)),
    ((3, 11, 2), (3,), 3, (2,), (2,)),
    ((2, 6, 4), (1,), 3, (1,), (1,)),
]


def _inputs(x_shape, size, out, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(tuple(size) + (x_shape[-1], out)).astype(dtype)
    return x, w


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("case", CASES_2D + CASES_1D)
def test_forward_and_gradients_match_numpy(case, padding):
    x_shape, size, out, strides, dilation = case
    span = [(k - 1) * d + 1 for k, d in zip(size, dilation)]
    if padding == "valid" and any(s > n for s, n in zip(span, x_shape[1:-1])):
        pytest.skip("the window does not fit")
    x, w = _inputs(x_shape, size, out)
    xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
    y = tl.conv(xt, wt, strides=strides, padding=padding, dilation_rate=dilation)
    want = np_conv(x, w, strides, padding, dilation)
    assert y.shape == want.shape
    np.testing.assert_allclose(np.asarray(y), want, rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(want.shape)
    y.backward(tl.array(g))
    dx, dw = np_conv_grads(x, w, g, strides, padding, dilation)
    np.testing.assert_allclose(np.asarray(xt.grad), dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(wt.grad), dw, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_float32(padding):
    x, w = _inputs((4, 12, 12, 3), (3, 3), 8, np.float32)
    y = tl.conv(tl.array(x), tl.array(w), padding=padding)
    assert y.dtype == np.float32
    np.testing.assert_allclose(np.asarray(y), np_conv(x.astype(np.float64), w.astype(np.float64), (1, 1), padding,
                                                      (1, 1)), rtol=1e-5, atol=1e-5)


def test_dtypes_promote():
    x, w = _inputs((1, 5, 5, 2), (3, 3), 2)
    y = tl.conv(tl.array(x.astype(np.float32)), tl.array(w))
    assert y.dtype == np.float64
    np.testing.assert_allclose(np.asarray(y), np_conv(x.astype(np.float32).astype(np.float64), w, (1, 1), "valid",
                                                      (1, 1)), rtol=1e-12)


def test_many_chunks_and_slots():
    # Patches of several MB: forward chunks, input-gradient image chunks and kernel-gradient
    # partial sums all come in several pieces.
    x, w = _inputs((9, 30, 31, 16), (3, 3), 8)
    xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
    y = tl.conv(xt, wt, padding="same")
    want = np_conv(x, w, (1, 1), "same", (1, 1))
    np.testing.assert_allclose(np.asarray(y), want, rtol=1e-11, atol=1e-11)
    g = np.random.default_rng(2).standard_normal(want.shape)
    y.backward(tl.array(g))
    dx, dw = np_conv_grads(x, w, g, (1, 1), "same", (1, 1))
    np.testing.assert_allclose(np.asarray(xt.grad), dx, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(np.asarray(wt.grad), dw, rtol=1e-11, atol=1e-10)


def test_results_do_not_depend_on_the_thread_count():
    x, w = _inputs((16, 20, 20, 8), (3, 3), 16, np.float32)
    g = np.random.default_rng(3).standard_normal((16, 18, 18, 16)).astype(np.float32)

    def run():
        xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
        y = tl.conv(xt, wt)
        y.backward(tl.array(g))
        return [y, xt.grad, wt.grad]
    assert_same_for_thread_counts(run)


def test_non_contiguous_views():
    rng = np.random.default_rng(4)
    big = rng.standard_normal((2, 14, 9, 6))
    x = big[:, ::2, :, 1::2]                    # strided in H and C
    w = rng.standard_normal((2, 5, 3, 2)).transpose(1, 0, 2, 3)  # (5, 2, 3, 2), a transposed view
    xt = tl.array(big)[:, ::2, :, 1::2]
    wt = tl.transpose(tl.array(np.ascontiguousarray(w.transpose(1, 0, 2, 3))), (1, 0, 2, 3))
    np.testing.assert_allclose(np.asarray(tl.conv(xt, wt, padding="same")),
                               np_conv(x, w, (1, 1), "same", (1, 1)), rtol=1e-12, atol=1e-12)
    # Gradients flow back through the views to the base tensors.
    base = tl.array(big, requires_grad=True)
    tl.sum(tl.conv(base[:, ::2, :, 1::2], tl.array(w))).backward()
    dx, _ = np_conv_grads(x, w, np.ones(np_conv(x, w, (1, 1), "valid", (1, 1)).shape), (1, 1), "valid", (1, 1))
    want = np.zeros_like(big)
    want[:, ::2, :, 1::2] = dx
    np.testing.assert_allclose(np.asarray(base.grad), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rank", [1, 2])
def test_channels_first_matches_channels_last(rank):
    shape = (2, 7, 3) if rank == 1 else (2, 7, 6, 3)
    x, w = _inputs(shape, (3,) * rank, 4)
    last = np.asarray(tl.conv(tl.array(x), tl.array(w), strides=2, padding="same"))
    xf = np.moveaxis(x, -1, 1)
    first = tl.conv(tl.array(xf), tl.array(w), strides=2, padding="same", data_format="channels_first")
    np.testing.assert_allclose(np.asarray(first), np.moveaxis(last, -1, 1), rtol=1e-12, atol=1e-12)
    gradcheck(lambda a, k: tl.conv(a, k, padding="same", data_format="channels_first"), xf[:1, :, :4], w)


# An empty batch, and no rows at all ("same" keeps the empty spatial dim): the kernel gradient is zero.
@pytest.mark.parametrize("x_shape,y_shape", [((0, 5, 5, 2), (0, 5, 5, 4)), ((2, 0, 5, 2), (2, 0, 5, 4))])
def test_empty_batch_and_same_padding_of_empty_input(x_shape, y_shape):
    x, w = _inputs(x_shape, (3, 3), 4)
    xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
    y = tl.conv(xt, wt, padding="same")
    assert y.shape == y_shape
    tl.sum(y).backward()
    assert xt.grad.shape == x.shape
    np.testing.assert_array_equal(np.asarray(wt.grad), np.zeros_like(w))


@pytest.mark.parametrize("case", [
    ((2, 5, 6, 2), (3, 2), 3, (1, 1), (1, 1), "valid"),
    ((1, 6, 5, 2), (3, 3), 2, (2, 2), (1, 1), "same"),
    ((2, 7, 7, 1), (2, 2), 2, (1, 1), (2, 2), "same"),
    ((2, 8, 2), (3,), 3, (2,), (1,), "same"),
    ((1, 4, 4, 3), (1, 1), 2, (1, 1), (1, 1), "valid"),
])
def test_gradcheck(case):
    x_shape, size, out, strides, dilation, padding = case
    x, w = _inputs(x_shape, size, out)
    gradcheck(lambda a, k: tl.conv(a, k, strides=strides, padding=padding, dilation_rate=dilation), x, w)


def test_second_order_gradients_are_refused_not_wrong():
    x, w = _inputs((1, 4, 4, 1), (2, 2), 1)
    xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
    y = tl.sum(tl.conv(xt, wt))
    with pytest.raises(RuntimeError, match="double backward"):
        tl.autograd.grad(y, [xt], create_graph=True) if hasattr(tl.autograd, "grad") else \
            y.backward(create_graph=True)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("activation", [None, "linear", "relu"])
def test_fused_bias_and_relu(activation, data_format):
    x, w = _inputs((2, 6, 7, 3), (3, 3), 4)
    b = np.random.default_rng(7).standard_normal(4)
    want = np_conv(x, w, (1, 1), "same", (1, 1)) + b
    if activation == "relu":
        want = np.maximum(want, 0)
    if data_format == "channels_first":
        x, want = np.moveaxis(x, -1, 1), np.moveaxis(want, -1, 1)

    def f(a, k, c):
        return tl.conv(a, k, padding="same", data_format=data_format, bias=c, activation=activation)
    np.testing.assert_allclose(np.asarray(f(tl.array(x), tl.array(w), tl.array(b))), want, rtol=1e-12, atol=1e-12)
    gradcheck(f, x[:1], w, b)


def test_fused_bias_errors():
    x, w = _inputs((1, 5, 5, 2), (3, 3), 4)
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        tl.conv(tl.array(x), tl.array(w), bias=tl.zeros(3))
    with pytest.raises(ValueError, match="activation"):
        tl.conv(tl.array(x), tl.array(w), activation="gelu")
    with pytest.raises(TypeError, match="bias"):
        tl.conv(tl.array(x), tl.array(w), bias=tl.zeros(4, dtype="int32"))
