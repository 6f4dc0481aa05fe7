"""Orthogonal (through a Householder QR made of tensor ops), Identity, the lecun initializers and
the whole Keras set by name; NumPy only checks the results here."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import initializers as I
from tensorlet._householder import householder_qr


@pytest.mark.parametrize("shape", [(5, 3), (4, 4), (6, 1)])
def test_householder_qr_matches_numpy(shape):
    a = np.random.default_rng(sum(shape)).normal(size=shape)
    q, r = householder_qr(tl.array(a))
    q, r = np.asarray(q), np.asarray(r)
    nq, nr = np.linalg.qr(a)
    signs = np.sign(np.diag(nr)) * np.sign(np.diag(r))  # QR is unique up to the signs of R's diagonal
    np.testing.assert_allclose(q, nq * signs, atol=1e-12)
    np.testing.assert_allclose(r, nr * signs[:, None], atol=1e-12)


def test_householder_qr_with_a_zero_column_still_reconstructs():
    a = np.array([[1.0, 0.0, 2.0], [2.0, 0.0, 1.0], [0.0, 0.0, 3.0], [1.0, 0.0, 0.0]])
    q, r = householder_qr(tl.array(a))
    np.testing.assert_allclose(np.asarray(q) @ np.asarray(r), a, atol=1e-12)


def test_householder_qr_refuses_wide_matrices():
    with pytest.raises(ValueError, match=r"householder_qr.*\(2, 3\)"):
        householder_qr(tl.ones((2, 3)))


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (2, 2, 4), (3, 3)])
def test_orthogonal_is_keras_recipe(shape):
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    got = np.asarray(I.Orthogonal(gain=1.5, seed=7)(shape, dtype="float64"))
    a = np.asarray(tl.random.Generator(7).normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)),
                                                 dtype="float64"))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    np.testing.assert_allclose(got, 1.5 * q.reshape(shape), atol=1e-12)
    flat = got.reshape(rows, cols) / 1.5
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_float32_and_rank_error():
    w = I.get("orthogonal")((16, 8))
    assert w.dtype == tl.float32
    np.testing.assert_allclose(np.asarray(w).T @ np.asarray(w), np.eye(8), atol=1e-5)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        I.Orthogonal()((4,))


def test_identity():
    np.testing.assert_array_equal(np.asarray(I.Identity(gain=2.0)((2, 3))), 2.0 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        I.Identity()((2, 2, 2))


@pytest.mark.parametrize("cls,limit", [(I.LecunUniform, np.sqrt(3.0 / 200)), (I.GlorotUniform, np.sqrt(6.0 / 300)),
                                       (I.HeUniform, np.sqrt(6.0 / 200))])
def test_uniform_limits(cls, limit):
    w = np.asarray(cls(seed=1)((200, 100), dtype="float64"))
    assert w.max() <= limit and w.min() >= -limit and w.max() > 0.95 * limit and w.min() < -0.95 * limit


def test_lecun_normal_is_truncated_with_keras_stddev():
    w = np.asarray(I.LecunNormal(seed=2)((400, 300), dtype="float64"))
    assert abs(w.std() - np.sqrt(1.0 / 400)) < 0.02 * np.sqrt(1.0 / 400)
    assert np.abs(w).max() <= 2.0 * np.sqrt(1.0 / 400) / 0.87962566103423978 + 1e-12


NAMES = ["zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
         "glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "identity",
         "orthogonal"]


@pytest.mark.parametrize("name", NAMES)
def test_every_keras_name_builds_and_round_trips(name):
    init = I.get(name)
    assert getattr(I, name) is type(init)
    w = init((4, 4), dtype="float64")
    assert tuple(w.shape) == (4, 4) and w.dtype == tl.float64
    clone = I.get(I.serialize(init))
    assert type(clone) is type(init) and clone.get_config() == init.get_config()


def test_seeded_initializers_repeat_and_keras_class_aliases():
    a, b = I.Orthogonal(seed=3)((4, 4)), I.Orthogonal(seed=3)((4, 4))
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert I.OrthogonalInitializer is I.Orthogonal and I.IdentityInitializer is I.Identity
