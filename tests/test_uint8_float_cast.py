"""float -> uint8 beyond int32's range (review of issue 11's casting change).

NumPy (x86) converts float to uint8 through int32: values in int32's range wrap modulo 256 with no
warning (300.0 -> 44, -1.0 -> 255), values beyond it are an invalid cast (RuntimeWarning, stores
0). tensorlet went through int64, so -2147483649.0 became 255 and 4294967301.0 became 5, and a
setitem of such values was accepted silently instead of refused like every other invalid cast."""
import numpy as np
import pytest

import tensorlet as tl

BEYOND_INT32 = [-2147483904.0, -2147483649.0, 2147483648.0, 4294967301.0, 1e10, -1e12]


@pytest.mark.parametrize("src", ["float32", "float64"])
@pytest.mark.parametrize("bad", BEYOND_INT32)
def test_setitem_beyond_int32_into_uint8_raises(src, bad):
    v = np.array([1.0, bad], dtype=src)
    if src == "float32" and v[1] == -2.0**31:
        return  # -2147483649.0 rounds to int32's minimum in float32: a valid value there
    x = tl.zeros(2, dtype="uint8")
    with pytest.raises(ValueError, match=f"{src} values into an uint8 tensor"):
        x[:] = tl.array(v)
    assert x.tolist() == [0, 0]


@pytest.mark.parametrize("src", ["float32", "float64"])
def test_astype_uint8_matches_numpy_beyond_int32(src):
    v = np.array(BEYOND_INT32 + [300.0, -1.0, 255.9, -2147483648.0], dtype=src)
    with np.errstate(invalid="ignore"):
        want = v.astype(np.uint8)
    np.testing.assert_array_equal(tl.array(v).astype("uint8").numpy(), want)


def test_setitem_within_int32_into_uint8_still_wraps_like_numpy():
    v = np.array([300.0, -1.0, -2147483648.0, 2147483647.0])
    x, n = tl.zeros(4, dtype="uint8"), np.zeros(4, dtype=np.uint8)
    x[:] = tl.array(v)
    n[:] = v
    np.testing.assert_array_equal(x.numpy(), n)
