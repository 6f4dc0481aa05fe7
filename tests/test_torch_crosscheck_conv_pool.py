"""Optional cross-checks against PyTorch (skipped when torch is not importable): conv (1-D and
2-D, strides, dilation, 'same' and 'valid', channels_last and channels_first, bias and relu),
max pooling and average pooling, forward and every gradient, in float64. tensorlet's layout is
Keras's (NHWC, kernels HWIO); torch's is NCHW with OIHW kernels, so the tensors are permuted."""
import numpy as np
import pytest

import tensorlet as tl
from torch_check import check_against_torch, torch_leaf as _t

torch = pytest.importorskip("torch", reason="PyTorch is not installed (optional cross-check)")
F = torch.nn.functional


def _check(ours, theirs, tensors, torch_tensors, rng):
    check_against_torch(ours, theirs, tensors, torch_tensors, rng.standard_normal(tuple(ours.shape)))


def _last_to_first(t):
    return torch.movedim(t, -1, 1)


def _first_to_last(t):
    return torch.movedim(t, 1, -1)


# The three conv shapes of the chapter-5 convnet (at a small batch), then strides, dilation and
# 'same' padding with odd and even kernels.
CONV2D_CASES = [
    ((2, 28, 28, 1), (3, 3, 1, 32), 1, 1, "valid"),
    ((2, 13, 13, 32), (3, 3, 32, 64), 1, 1, "valid"),
    ((2, 5, 5, 64), (3, 3, 64, 64), 1, 1, "valid"),
    ((2, 9, 8, 3), (3, 3, 3, 5), 2, 1, "valid"),
    ((2, 9, 8, 3), (3, 2, 3, 4), 1, 2, "valid"),
    ((2, 7, 7, 3), (3, 3, 3, 4), 1, 1, "same"),
    ((2, 7, 6, 2), (5, 3, 2, 3), 1, 2, "same"),
]


@pytest.mark.parametrize("x_shape,w_shape,strides,dilation,padding", CONV2D_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_matches_torch(x_shape, w_shape, strides, dilation, padding, data_format):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[-1])
    if data_format == "channels_first":
        x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    xt, wt, bt = (tl.array(a, requires_grad=True) for a in (x, w, b))
    ours = tl.conv(xt, wt, strides=strides, padding=padding, dilation_rate=dilation, data_format=data_format,
                   bias=bt, activation="relu")
    xp, wp, bp = _t(x), _t(w), _t(b)
    xin = xp if data_format == "channels_first" else _last_to_first(xp)
    y = F.relu(F.conv2d(xin, wp.permute(3, 2, 0, 1), bp, stride=strides, dilation=dilation, padding=padding))
    theirs = y if data_format == "channels_first" else _first_to_last(y)
    _check(ours, theirs, [xt, wt, bt], [xp, wp, bp], rng)


@pytest.mark.parametrize("strides,dilation,padding", [(1, 1, "valid"), (2, 1, "valid"), (1, 3, "same")])
def test_conv1d_matches_torch(strides, dilation, padding):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 17, 4)), rng.standard_normal((3, 4, 6))
    xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
    ours = tl.conv(xt, wt, strides=strides, padding=padding, dilation_rate=dilation)
    xp, wp = _t(x), _t(w)
    theirs = _first_to_last(F.conv1d(_last_to_first(xp), wp.permute(2, 1, 0), stride=strides, dilation=dilation,
                                     padding=padding))
    _check(ours, theirs, [xt, wt], [xp, wp], rng)


# Pool windows: the chapter's disjoint 2x2 (with an odd input, whose last row is dropped), and
# overlapping 3x3 windows of stride 1 and 2.
POOL_CASES = [((2, 26, 26, 3), 2, 2), ((2, 11, 11, 4), 2, 2), ((2, 7, 8, 3), 3, 1), ((2, 9, 7, 2), 3, 2)]


@pytest.mark.parametrize("x_shape,pool,strides", POOL_CASES)
def test_max_pool_matches_torch(x_shape, pool, strides):
    rng = np.random.default_rng(2)
    x = rng.permutation(np.prod(x_shape)).reshape(x_shape) / 7.0  # distinct values: one argmax per window
    xt, xp = tl.array(x, requires_grad=True), _t(x)
    ours = tl.max_pool(xt, pool, strides=strides)
    theirs = _first_to_last(F.max_pool2d(_last_to_first(xp), pool, stride=strides))
    _check(ours, theirs, [xt], [xp], rng)


@pytest.mark.parametrize("x_shape,pool,strides", POOL_CASES)
def test_average_pool_matches_torch(x_shape, pool, strides):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape)
    xt, xp = tl.array(x, requires_grad=True), _t(x)
    ours = tl.average_pool(xt, pool, strides=strides)
    theirs = _first_to_last(F.avg_pool2d(_last_to_first(xp), pool, stride=strides))
    _check(ours, theirs, [xt], [xp], rng)


def test_average_pool_same_excludes_padding_like_torch():
    # Stride 1 with an odd window pads symmetrically, where torch's count_include_pad=False is
    # Keras's 'same': the border windows average only the cells inside the image.
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 5, 3))
    xt, xp = tl.array(x, requires_grad=True), _t(x)
    ours = tl.average_pool(xt, 3, strides=1, padding="same")
    theirs = _first_to_last(F.avg_pool2d(_last_to_first(xp), 3, stride=1, padding=1, count_include_pad=False))
    _check(ours, theirs, [xt], [xp], rng)
