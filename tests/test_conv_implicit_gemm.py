"""Implicit im2col (kernels/conv_patches.h): the forward and the kernel gradient gather their
patches straight into the GEMM's packed blocks. Shapes here are chosen to reach every way the
driver uses such a block: read in place (row-major for the forward, k-major for the kernel
gradient; the other way round for channels_first images with output rows of at least 64
pixels, which have their own packers; shorter ones are transposed to channels-last first) or
repacked into micro-panels (more than two column panels of output channels),
the narrow kernel (few output channels), several row blocks and depth blocks (patch depth
above the GEMM's kc), several threads; with strides, dilation, 'same' padding,
channels_first and groups. NumPy (tests/conv_reference.py) is the oracle."""
import numpy as np
import pytest

import tensorlet as tl
from conv_reference import conv as np_conv, conv_grads as np_conv_grads
from gradcheck import gradcheck
from thread_counts import assert_same_for_thread_counts


def _check(x_shape, size, out, strides=(1, 1), padding="valid", dilation=(1, 1), dtype=np.float64, seed=0,
           channels_first=False):
    """x_shape is channels-last; with channels_first the op gets x (and gives y) moved to NC..."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(tuple(size) + (x_shape[-1], out)).astype(dtype)
    first = (lambda a: np.moveaxis(a, -1, 1)) if channels_first else (lambda a: a)
    last = (lambda a: np.moveaxis(a, 1, -1)) if channels_first else (lambda a: a)
    xt, wt = tl.array(np.ascontiguousarray(first(x)), requires_grad=True), tl.array(w, requires_grad=True)
    y = tl.conv(xt, wt, strides=strides, padding=padding, dilation_rate=dilation,
                data_format="channels_first" if channels_first else "channels_last")
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    want = np_conv(x64, w64, strides, padding, dilation)
    tol = 1e-11 if dtype == np.float64 else 2e-4
    scale = np.sqrt(np.prod(size) * x_shape[-1])  # the sums' typical size
    np.testing.assert_allclose(last(np.asarray(y)), want, rtol=tol, atol=tol * scale)
    g = rng.standard_normal(want.shape).astype(dtype)
    y.backward(tl.array(np.ascontiguousarray(first(g))))
    dx, dw = np_conv_grads(x64, w64, g.astype(np.float64), strides, padding, dilation)
    np.testing.assert_allclose(last(np.asarray(xt.grad)), dx, rtol=tol, atol=tol * scale)
    rows = np.prod(want.shape[:-1])
    np.testing.assert_allclose(np.asarray(wt.grad), dw, rtol=tol, atol=tol * np.sqrt(rows))


# Output channels per dtype: float64 tiles are 16 wide (two panels = 32), float32 ones 32 (64).
@pytest.mark.parametrize("dtype,out", [(np.float64, 5), (np.float64, 24), (np.float64, 40), (np.float32, 72)])
def test_channels_first_gathered_directly(dtype, out):
    # Output rows of >= 64 pixels: patches gathered from the channels-first image itself.
    _check((2, 5, 70, 12), (3, 3), out, padding="same", dtype=dtype, channels_first=True)
    _check((2, 4, 133, 6), (2, 3), out, (1, 2), "valid", (2, 1), dtype=dtype, channels_first=True)
    _check((3, 150, 5), (4,), out, (1,), "same", (3,), dtype=dtype, channels_first=True)  # Conv1D
    _check((1, 3, 66, 7), (1, 1), out, dtype=dtype, channels_first=True)  # pointwise


@pytest.mark.parametrize("channels_first", [False, True])
@pytest.mark.parametrize("dtype,out", [(np.float64, 5), (np.float64, 24), (np.float64, 40),
                                       (np.float32, 10), (np.float32, 64), (np.float32, 72)])
def test_blocks_panels_and_depth_blocks(dtype, out, channels_first):
    # 3 * 17 * 19 = 969 output rows (several row blocks); depth 3 * 3 * 40 = 360 (several
    # depth blocks in float64, kc ~ 160-340); 'same' pads every border.
    _check((3, 17, 19, 40), (3, 3), out, padding="same", dtype=dtype, channels_first=channels_first)


@pytest.mark.parametrize("channels_first", [False, True])
@pytest.mark.parametrize("strides,dilation,padding", [
    ((2, 2), (1, 1), "same"),
    ((1, 3), (1, 1), "valid"),
    ((1, 1), (2, 3), "same"),
    ((2, 1), (2, 2), "valid"),
    ((3, 2), (1, 2), "same"),
])
def test_strides_dilation_padding(strides, dilation, padding, channels_first):
    _check((2, 23, 21, 12), (3, 3), 20, strides, padding, dilation, channels_first=channels_first)


@pytest.mark.parametrize("channels_first", [False, True])
def test_wide_kernel_rows_1x1_and_1d(channels_first):
    cf = {"channels_first": channels_first}
    _check((2, 9, 40, 7), (1, 7), 9, padding="same", **cf)       # runs of 7 cells per kernel row
    _check((3, 101, 24), (5,), 17, (2,), "same", (2,), **cf)       # Conv1D: H = KH = 1
    _check((2, 6, 7, 5), (1, 1), 4, **cf)  # pointwise: x itself (channels_last), gathered (first)
    _check((2, 7, 6, 5), (4, 3), 3, (3, 2), "valid", (2, 1), **cf)  # windows skipping the last columns


def test_channels_first_and_groups():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 12, 11, 9))
    w = rng.standard_normal((3, 3, 3, 12))  # 3 groups of 3 input, 4 output channels
    y = tl.conv(tl.array(np.moveaxis(x, -1, 1)), tl.array(w), strides=(2, 1), padding="same",
                data_format="channels_first")
    want = np.concatenate([np_conv(x[..., 3 * i:3 * i + 3], w[..., 4 * i:4 * i + 4], (2, 1), "same", (1, 1))
                           for i in range(3)], axis=-1)
    np.testing.assert_allclose(np.asarray(y), np.moveaxis(want, -1, 1), rtol=1e-12, atol=1e-11)
    gradcheck(lambda a, k: tl.conv(a, k, strides=(2, 1), padding="same", dilation_rate=1,
                                   data_format="channels_first"),
              np.moveaxis(x[:1, :5, :4, :6], -1, 1), w[:2, :, :, :4])
    gradcheck(lambda a, k: tl.conv(a, k, padding="same", dilation_rate=(2, 1)), x[:1, :6, :5, :4], w[:, :2, :2, :4])  # 2 groups


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_gradcheck_strided_dilated_same(data_format):
    rng = np.random.default_rng(6)
    gradcheck(lambda a, k: tl.conv(a, k, strides=(2, 1), padding="same", dilation_rate=(1, 2),
                                   data_format=data_format),
              rng.standard_normal((2, 3, 5, 6) if data_format == "channels_first" else (2, 5, 6, 3)),
              rng.standard_normal((2, 3, 3, 4)))
    if data_format == "channels_first":  # output rows of 64: the direct gather
        gradcheck(lambda a, k: tl.conv(a, k, strides=(2, 1), padding="same", dilation_rate=(1, 2),
                                       data_format=data_format),
                  rng.standard_normal((1, 2, 2, 64)), rng.standard_normal((2, 3, 2, 2)))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_threads_give_the_same_bits(data_format):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 9, 66, 24)).astype(np.float32)  # rows of 66: channels_first gathers
    w = rng.standard_normal((3, 3, 24, 40)).astype(np.float32)
    g = rng.standard_normal((3, 5, 66, 40)).astype(np.float32)
    if data_format == "channels_first":
        x, g = np.ascontiguousarray(np.moveaxis(x, -1, 1)), np.ascontiguousarray(np.moveaxis(g, -1, 1))

    def run():
        xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
        y = tl.conv(xt, wt, strides=(2, 1), padding="same", data_format=data_format)
        y.backward(tl.array(g))
        return [y, xt.grad, wt.grad]
    assert_same_for_thread_counts(run)
