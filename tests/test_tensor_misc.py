"""Tensor conveniences: tolist (like ndarray.tolist) and fill / fill_."""
import numpy as np
import pytest

import tensorlet as tl
from conftest import assert_tensor_equal

CASES = [np.arange(6.0).reshape(2, 3), np.array(3.5), np.array(7), np.array([True, False]), np.zeros((2, 0, 3)),
         np.arange(24, dtype=np.int32).reshape(2, 3, 4), np.array([1, 255], dtype=np.uint8),
         np.array([0.1, np.nan, -np.inf], dtype=np.float32), np.zeros(0)]


@pytest.mark.parametrize("a", CASES)
def test_tolist_matches_numpy(a):
    got = tl.array(a).tolist()
    expected = a.tolist()
    assert repr(got) == repr(expected)  # same nesting, values and Python types (nan compares by repr)


def test_tolist_of_views_and_types():
    a = np.arange(12).reshape(3, 4)
    t = tl.asarray(a)
    assert t.T.tolist() == a.T.tolist()
    assert type(tl.array(2, dtype="uint8").tolist()) is int
    assert type(tl.array(2.0, dtype="float32").tolist()) is float
    assert type(tl.array(True).tolist()) is bool


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float32", "float64"])
@pytest.mark.parametrize("value", [0, 1, 2.7, True, np.float32(1.5), np.int64(3)])
def test_fill_matches_numpy(dtype, value):
    a = np.zeros((2, 3), dtype=dtype)
    t = tl.zeros((2, 3), dtype=dtype)
    assert t.fill(value) is None
    a.fill(value)
    assert_tensor_equal(t, a)
    t2 = tl.ones(4, dtype=dtype)
    assert t2.fill_(value) is t2
    b = np.ones(4, dtype=dtype)
    b.fill(value)
    assert_tensor_equal(t2, b)


def test_fill_writes_through_views():
    base = tl.zeros((3, 4))
    base.T.fill(5.0)
    assert_tensor_equal(base, np.full((3, 4), 5.0))
    a = np.zeros(6)
    tl.asarray(a).fill(2.5)  # zero-copy view of a NumPy array
    assert (a == 2.5).all()


def test_fill_errors():
    with pytest.raises(OverflowError):
        tl.zeros(3, dtype="uint8").fill(300)
    with pytest.raises(TypeError):
        tl.zeros(3).fill("a")
    with pytest.raises(TypeError):
        tl.zeros(3).fill([1, 2, 3])
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        tl.asarray(ro).fill(1.0)
    b = tl.broadcast_to(tl.arange(3.0), (4, 3))
    with pytest.raises(ValueError, match="read-only"):
        b.fill(1.0)
    tl.broadcast_to(tl.arange(3.0), (1, 3)).fill(1.0)  # size-1 broadcast dims do not alias
    w = tl.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        w.fill_(1.0)
    with tl.no_grad():
        w.fill_(1.0)
    assert_tensor_equal(w.detach(), np.ones(3))
