"""Array API manipulation / linear-algebra functions against NumPy, with gradients."""
import numpy as np
import pytest

import tensorlet as tl
from gradcheck import gradcheck

rng = np.random.default_rng(0)
X = rng.normal(size=(3, 4, 5))


def same(t, ref):
    np.testing.assert_allclose(np.asarray(t), ref, rtol=1e-12, atol=1e-12)


def test_forward_against_numpy():
    t = tl.asarray(X)
    same(tl.flip(t), np.flip(X))
    same(tl.flip(t, axis=(0, 2)), np.flip(X, axis=(0, 2)))
    same(tl.roll(t, 2), np.roll(X, 2))
    same(tl.roll(t, (1, -7), axis=(0, 2)), np.roll(X, (1, -7), axis=(0, 2)))
    for k in (-1, 0, 2):
        same(tl.tril(t, k=k), np.tril(X, k))
        same(tl.triu(t, k=k), np.triu(X, k))
    same(tl.moveaxis(t, 0, -1), np.moveaxis(X, 0, -1))
    same(tl.moveaxis(t, (0, 1), (2, 0)), np.moveaxis(X, (0, 1), (2, 0)))
    same(tl.permute_dims(t, (2, 0, 1)), np.transpose(X, (2, 0, 1)))
    same(tl.matrix_transpose(t), np.swapaxes(X, -1, -2))
    same(tl.repeat(t, 2, axis=1), np.repeat(X, 2, axis=1))
    same(tl.repeat(t, tl.asarray([1, 0, 3]), axis=0), np.repeat(X, [1, 0, 3], axis=0))
    same(tl.repeat(t, 2), np.repeat(X, 2))
    same(tl.tile(t, (2, 1, 3)), np.tile(X, (2, 1, 3)))
    same(tl.tile(t, (2,)), np.tile(X, (2,)))
    same(tl.tile(t, (2, 1, 1, 2)), np.tile(X, (2, 1, 1, 2)))
    idx = rng.integers(0, 4, size=(3, 2, 5))
    same(tl.take_along_axis(t, tl.asarray(idx), axis=1), np.take_along_axis(X, idx, axis=1))
    same(tl.diff(t, axis=1, n=2), np.diff(X, axis=1, n=2))
    same(tl.diff(t, prepend=t[..., :1], append=t[..., :2]), np.diff(X, prepend=X[..., :1], append=X[..., :2]))
    same(tl.vecdot(t, t), np.sum(X * X, axis=-1))
    same(tl.vecdot(t, t[0], axis=1), np.sum(X * X[0], axis=1))
    same(tl.tensordot(t, t, axes=((1, 2), (1, 2))), np.tensordot(X, X, axes=((1, 2), (1, 2))))
    Y = rng.normal(size=(5, 2))
    same(tl.tensordot(t, tl.asarray(Y), axes=1), np.tensordot(X, Y, axes=1))
    same(tl.tensordot(t, tl.asarray(Y), axes=0), np.tensordot(X, Y, axes=0))
    for got, ref in zip(tl.unstack(t, axis=1), np.moveaxis(X, 1, 0)):
        same(got, ref)
    for got, ref in zip(tl.broadcast_arrays(t[:, :1], t[0]), np.broadcast_arrays(X[:, :1], X[0])):
        same(got, ref)
    a, b, c = (tl.asarray(np.arange(n, dtype=float)) for n in (2, 3, 4))
    for ind in ("xy", "ij"):
        for got, ref in zip(tl.meshgrid(a, b, c, indexing=ind), np.meshgrid(np.arange(2.), np.arange(3.),
                                                                             np.arange(4.), indexing=ind)):
            same(got, ref)


def test_errors_name_the_function():
    t = tl.asarray(X)
    with pytest.raises(ValueError, match="tril"):
        tl.tril(tl.ones(3))
    with pytest.raises(IndexError, match="flip"):
        tl.flip(t, axis=3)
    with pytest.raises(ValueError, match="repeat"):
        tl.repeat(t, tl.asarray([1, 2]), axis=0)
    with pytest.raises(ValueError, match="take_along_axis"):
        tl.take_along_axis(t, tl.asarray([0]), axis=0)
    with pytest.raises(ValueError, match="tensordot"):
        tl.tensordot(t, t, axes=((0,), (1,)))
    with pytest.raises(ValueError, match="broadcast_arrays"):
        tl.broadcast_arrays(tl.ones(2), tl.ones(3))
    with pytest.raises(ValueError, match="meshgrid"):
        tl.meshgrid(tl.ones(2), indexing="ji")
    with pytest.raises(ValueError, match="diff"):
        tl.diff(t, n=-1)


@pytest.mark.parametrize("f", [
    lambda x: tl.flip(x, axis=1),
    lambda x: tl.roll(x, 3, axis=1),
    lambda x: tl.tril(x, k=-1) + tl.triu(x, k=1) * 2,
    lambda x: tl.tile(x, (2, 1)),
    lambda x: tl.repeat(x, 2, axis=1),
    lambda x: tl.take_along_axis(x, tl.asarray([[0, 0, 2], [1, 3, 3], [2, 1, 0]]), axis=1),
    lambda x: tl.diff(x, axis=1, n=2),
    lambda x: tl.vecdot(x, x),
    lambda x: tl.tensordot(x, x, axes=((1,), (1,))),
    lambda x: tl.moveaxis(x, 0, 1) * 1.0,
])
def test_gradients(f):
    gradcheck(f, rng.normal(size=(3, 4)))
