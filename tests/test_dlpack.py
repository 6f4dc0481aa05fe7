"""DLPack both ways: NumPy (always) and PyTorch (when installed), zero-copy, lifetime, read-only."""
import gc

import numpy as np
import pytest

import tensorlet as tl

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_round_trip_is_zero_copy(dtype):
    base = np.arange(24).reshape(2, 3, 4).astype(dtype)
    view = base[:, ::-1, 1::2]  # negative and non-unit strides, an offset
    t = tl.from_dlpack(view)
    assert t.dtype == dtype and t.shape == view.shape
    np.testing.assert_array_equal(np.asarray(t), view)
    back = np.from_dlpack(t)
    np.testing.assert_array_equal(back, view)
    if dtype != "bool":
        base[1, 2, 1] = 7
        assert np.asarray(t)[1, 0, 0] == 7 and back[1, 0, 0] == 7  # all three share memory


def test_tensor_protocol_and_device():
    t = tl.asarray(np.ones((2, 2), np.float32))
    assert t.__dlpack_device__() == (1, 0)
    cap = t.__dlpack__(max_version=(1, 0))
    assert "dltensor_versioned" in repr(cap)
    assert "dltensor" in repr(t.__dlpack__())  # legacy when the consumer does not ask for 1.x
    with pytest.raises(BufferError, match="device"):
        t.__dlpack__(dl_device=(2, 0))
    with pytest.raises(ValueError, match="stream"):
        t.__dlpack__(stream=1)
    c = np.from_dlpack(t, copy=True)
    c[0, 0] = 5
    assert np.asarray(t)[0, 0] == 1
    u = tl.from_dlpack(np.ones(3), copy=True)
    assert not np.shares_memory(np.asarray(u), np.ones(3))
    with pytest.raises(TypeError, match="__dlpack__"):
        tl.from_dlpack([1, 2])
    with pytest.raises(ValueError, match="device"):
        tl.from_dlpack(np.ones(3), device="gpu")


def test_read_only_is_honoured_both_ways():
    a = np.arange(4.0)
    a.flags.writeable = False
    t = tl.from_dlpack(a)
    with pytest.raises(ValueError, match="read-only"):
        t[0] = 1
    out = np.from_dlpack(t)
    assert not out.flags.writeable
    with pytest.raises(BufferError, match="read-only"):
        t.__dlpack__()  # the legacy format cannot carry the flag
    b = tl.broadcast_to(tl.asarray([1.0, 2.0]), (3, 2))  # aliasing elements: exported read-only
    assert not np.from_dlpack(b).flags.writeable


def test_producer_deleted_consumer_still_valid():
    t = tl.asarray(np.arange(1000.0))
    n = np.from_dlpack(t)
    del t
    gc.collect()
    tl.ones(100000)  # reuse freed memory if it were freed
    np.testing.assert_array_equal(n, np.arange(1000.0))
    a = np.arange(1000.0)
    u = tl.from_dlpack(a)
    del a
    gc.collect()
    np.testing.assert_array_equal(np.asarray(u), np.arange(1000.0))


def test_unconsumed_capsule_and_reused_capsule():
    t = tl.ones(5)
    cap = t.__dlpack__(max_version=(1, 0))
    del cap  # the capsule's destructor releases the export
    cap = t.__dlpack__(max_version=(1, 0))
    u = tl._core._from_dlpack_capsule(cap)
    with pytest.raises(TypeError):
        tl._core._from_dlpack_capsule(cap)  # consumed: renamed "used_dltensor_versioned"
    np.testing.assert_array_equal(np.asarray(u), np.ones(5))


def test_torch_round_trip():
    torch = pytest.importorskip("torch")
    x = torch.arange(12, dtype=torch.float32).reshape(3, 4)[:, 1:]
    t = tl.from_dlpack(x)
    np.testing.assert_array_equal(np.asarray(t), x.numpy())
    x[0, 0] = 100
    assert np.asarray(t)[0, 0] == 100
    y = torch.from_dlpack(t)
    assert y.data_ptr() == x.data_ptr()
    assert torch.tensor(tl.asarray([1.0, 2.0])).tolist() == [1.0, 2.0]
    assert torch.as_tensor(tl.asarray([[1, 2]], dtype="int32")).dtype == torch.int32
