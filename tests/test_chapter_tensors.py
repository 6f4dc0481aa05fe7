"""The chapter's tensor section ("Data representations for neural networks" and "The gears of
neural networks: tensor operations"), reproduced with tensorlet and checked against NumPy."""
import numpy as np
import pytest

import tensorlet as tl
from conftest import assert_tensor_equal


def zeros(shape):
    return tl.zeros(shape) if hasattr(tl, "zeros") else tl.array(np.zeros(shape))


def test_scalars_vectors_matrices_and_3d_tensors():
    x = tl.array(12)
    assert x.ndim == 0 and x.shape == () and x.dtype == np.int64
    x = tl.array([12, 3, 6, 14, 7])
    assert x.ndim == 1 and x.shape == (5,)
    x = tl.array([[5, 78, 2, 34, 0], [6, 79, 3, 35, 1], [7, 80, 4, 36, 2]])
    assert x.ndim == 2 and x.shape == (3, 5)
    x = tl.array([[[5, 78, 2, 34, 0], [6, 79, 3, 35, 1], [7, 80, 4, 36, 2]],
                  [[5, 78, 2, 34, 0], [6, 79, 3, 35, 1], [7, 80, 4, 36, 2]],
                  [[5, 78, 2, 34, 0], [6, 79, 3, 35, 1], [7, 80, 4, 36, 2]]])
    assert x.ndim == 3 and x.shape == (3, 3, 5)
    assert tl.array(1.5).dtype == np.float64


@pytest.fixture
def images():
    # MNIST-like: 600 uint8 digits of 28x28 (the chapter has 60000).
    return np.random.RandomState(0).randint(0, 256, size=(600, 28, 28)).astype(np.uint8)


def test_mnist_like_tensor_attributes(images):
    t = tl.array(images)
    assert t.ndim == 3
    assert t.shape == (600, 28, 28)
    assert t.dtype == np.uint8
    digit = t[4]
    assert digit.shape == (28, 28)
    assert_tensor_equal(digit, images[4])


def test_mnist_like_slices(images):
    t = tl.array(images)
    my_slice = t[10:100]
    assert my_slice.shape == (90, 28, 28)
    assert_tensor_equal(my_slice, images[10:100])
    assert_tensor_equal(t[10:100, :, :], images[10:100, :, :])
    assert_tensor_equal(t[10:100, 0:28, 0:28], images[10:100, 0:28, 0:28])
    corner = t[:, 14:, 14:]
    assert corner.shape == (600, 14, 14)
    assert_tensor_equal(corner, images[:, 14:, 14:])
    center = t[:, 7:-7, 7:-7]
    assert center.shape == (600, 14, 14)
    assert_tensor_equal(center, images[:, 7:-7, 7:-7])
    # slices are views: no copy of the pixels
    assert np.shares_memory(np.asarray(center), np.asarray(t))


def test_mnist_like_batches(images):
    t = tl.array(images)
    batch = t[:128]
    assert batch.shape == (128, 28, 28)
    for n in range(3):
        batch = t[128 * n:128 * (n + 1)]
        assert_tensor_equal(batch, images[128 * n:128 * (n + 1)])
    assert t[128 * 4:128 * 5].shape == (88, 28, 28)  # the last batch is short


def test_reshape_and_transpose():
    x = tl.array([[0., 1.], [2., 3.], [4., 5.]])
    assert x.shape == (3, 2)
    x6 = x.reshape((6, 1))
    assert_tensor_equal(x6, np.array([[0.], [1.], [2.], [3.], [4.], [5.]]))
    x32 = x.reshape((2, 3))
    assert_tensor_equal(x32, np.array([[0., 1., 2.], [3., 4., 5.]]))
    x = zeros((300, 20))
    x = tl.transpose(x)
    assert x.shape == (20, 300)
    assert x.T.shape == (300, 20)


def test_broadcasting():
    x = np.random.random((32, 10))
    y = np.random.random((10,))
    assert_tensor_equal(tl.array(x) + tl.array(y), x + y)
    # the chapter's explicit version: add an axis, repeat it 32 times
    y2 = tl.expand_dims(tl.array(y), axis=0)
    assert y2.shape == (1, 10)
    y_rep = tl.concatenate([y2] * 32, axis=0)
    assert y_rep.shape == (32, 10)
    assert_tensor_equal(tl.array(x) + y_rep, x + y)
    # and a broadcast maximum-free variant: (64, 3, 32, 10) + (32, 10)
    a, b = np.random.random((4, 3, 32, 10)), np.random.random((32, 10))
    assert_tensor_equal(tl.array(a) + tl.array(b), a + b)


def test_tensor_product():
    x, y = np.random.random((32,)), np.random.random((32,))
    z = tl.dot(tl.array(x), tl.array(y))
    assert z.shape == ()
    assert_tensor_equal(z, np.dot(x, y))
    m = np.random.random((32, 16))
    assert_tensor_equal(tl.dot(tl.array(m).T, tl.array(x)), np.dot(m.T, x))
    a, b = np.random.random((8, 32)), np.random.random((32, 5))
    assert_tensor_equal(tl.dot(tl.array(a), tl.array(b)), np.dot(a, b))
    # the chapter's naive_vector_dot, with indexing and iteration
    tx, ty = tl.array(x), tl.array(y)
    total = 0.0
    for i in range(tx.shape[0]):
        total += float(tx[i]) * float(ty[i])
    assert total == pytest.approx(float(np.dot(x, y)))
