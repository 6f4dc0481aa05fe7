"""Optional cross-checks against PyTorch (skipped when torch is not importable): depthwise and
grouped conv (torch's conv2d/conv1d with groups), and batch normalisation in training and
inference mode (torch's batch_norm), forward and every gradient, in float64."""
import numpy as np
import pytest

import tensorlet as tl
from torch_check import check_against_torch as _check, torch_leaf as _t

torch = pytest.importorskip("torch", reason="PyTorch is not installed (optional cross-check)")
F = torch.nn.functional


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("multiplier,strides,dilation", [(1, 1, 1), (2, 2, 1), (3, 1, 2)])
def test_depthwise_conv_matches_torch_grouped_conv(rank, multiplier, strides, dilation):
    rng = np.random.default_rng(0)
    C = 3
    x = rng.standard_normal((2, 9, C) if rank == 1 else (2, 9, 8, C))
    w = rng.standard_normal((3,) * rank + (C, multiplier))
    xt, wt = tl.array(x, requires_grad=True), tl.array(w, requires_grad=True)
    ours = tl.depthwise_conv(xt, wt, strides=strides, dilation_rate=dilation)
    # torch: NC... data, weight (C*M, 1, k...) with out channel c*M + m, groups = C; the leaves
    # are in our layouts so that their gradients compare directly.
    xp, wp = _t(x), _t(w)
    weight = torch.movedim(wp.reshape(w.shape[:-2] + (C * multiplier,)), -1, 0)[:, None]
    conv = F.conv1d if rank == 1 else F.conv2d
    theirs = torch.movedim(conv(torch.movedim(xp, -1, 1), weight, stride=strides, dilation=dilation, groups=C), 1, -1)
    g = rng.standard_normal(tuple(ours.shape))
    _check(ours, theirs, [xt, wt], [xp, wp], g)


def test_grouped_conv_matches_torch():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 7, 6, 6)), rng.standard_normal((3, 3, 2, 9)), rng.standard_normal(9)
    xt, wt, bt = (tl.array(a, requires_grad=True) for a in (x, w, b))
    ours = tl.conv(xt, wt, strides=2, bias=bt, groups=3)
    xp, wp, bp = _t(x), _t(w), _t(b)
    theirs = torch.movedim(F.conv2d(torch.movedim(xp, -1, 1), wp.permute(3, 2, 0, 1), bp, stride=2, groups=3), 1, -1)
    _check(ours, theirs, [xt, wt, bt], [xp, wp, bp], rng.standard_normal(tuple(ours.shape)))


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(training):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4, 3, 5)) * 2 + 1  # channels first, axis=1 as torch
    gamma, beta = rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)
    mean, var = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    xt, gt, bt = (tl.array(a, requires_grad=True) for a in (x, gamma, beta))
    xp, gp, bp = _t(x), _t(gamma), _t(beta)
    rm, rv = torch.tensor(mean), torch.tensor(var)
    mm, mv = tl.array(mean), tl.array(var)
    if training:
        ours = tl.batch_norm_train(xt, mm, mv, axis=1, offset=bt, scale=gt, momentum=0.9, epsilon=1e-3)
    else:
        ours = tl.batch_normalization(xt, mm, mv, 1, offset=bt, scale=gt, epsilon=1e-3)
    # torch's momentum is Keras's 1 - momentum
    theirs = F.batch_norm(xp, rm, rv, gp, bp, training=training, momentum=0.1, eps=1e-3)
    _check(ours, theirs, [xt, gt, bt], [xp, gp, bp], rng.standard_normal(x.shape))
    np.testing.assert_allclose(np.asarray(mm), rm.numpy(), rtol=1e-12)
    if training:  # torch's running variance takes the unbiased batch variance, Keras's the biased one
        n = x.size // 4
        batch_var = x.var(axis=(0, 2, 3))
        np.testing.assert_allclose((rv.numpy() - 0.9 * var) / 0.1 * (n - 1) / n, batch_var, rtol=1e-10)
        np.testing.assert_allclose(np.asarray(mv), 0.9 * var + 0.1 * batch_var, rtol=1e-12)
