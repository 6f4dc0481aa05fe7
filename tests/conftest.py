"""Shared test helpers: seeds, NumPy comparison, numerical gradient checks."""
import numpy as np
import pytest

import tensorlet as tl


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    yield


def assert_tensor_equal(t, expected, rtol=1e-6, atol=1e-12):
    """t is a Tensor; expected is what NumPy computes. Checks shape, dtype and values."""
    assert isinstance(t, tl.Tensor), type(t)
    expected = np.asarray(expected)
    got = np.asarray(t)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    if expected.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)


def shares(a, b):
    """Whether two tensors / arrays share memory (a view, not a copy)."""
    return np.shares_memory(np.asarray(a), np.asarray(b))


def randn(*shape):
    return np.asarray(np.random.randn(*shape))


@pytest.fixture(params=tl.config()["available_isas"])
def every_isa(request):
    """Runs a test once per instruction set this machine can run (the kernels dispatch on it)."""
    before = tl.config()["isa"]
    tl._core._set_isa(request.param)
    yield request.param
    tl._core._set_isa(before)


@pytest.fixture
def restore_threads():
    """Puts tensorlet's thread count back after a test that changes it."""
    before = tl.get_num_threads()
    yield
    tl.set_num_threads(before)
