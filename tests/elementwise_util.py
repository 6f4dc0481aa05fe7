"""Shared helpers of the elementwise tests (test_unary.py, test_binary.py): samples per dtype,
the NumPy oracle call, and the comparison with NumPy's result dtype."""
import numpy as np

from conftest import assert_tensor_equal

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
NUMERIC = DTYPES[1:]
INTS = ["uint8", "int32", "int64"]
FLOATS = ["float32", "float64"]


def rand(shape, dtype, rng, low=-20, high=20, nonneg=False):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.rand(*shape) > 0.5)
    if dtype == np.uint8:
        return rng.randint(0, 256, size=shape).astype(np.uint8)
    if dtype.kind == "i":
        return rng.randint(0 if nonneg else low, high, size=shape).astype(dtype)
    x = np.asarray(rng.randn(*shape) * 4)
    if nonneg:
        x = np.abs(x)
    return x.astype(dtype)


def np_ref(fn, *args):
    with np.errstate(all="ignore"):
        return fn(*args)


def expected_dtype(result):
    """NumPy's float16 results become float32 in tensorlet (documented: no float16)."""
    r = np.asarray(result)
    return r.astype(np.float32) if r.dtype == np.float16 else r


def check(got, want, dtype_hint=None):
    want = np.asarray(want)
    rtol = 1e-6
    if want.dtype == np.float32:
        rtol = 3e-6
    elif want.dtype == np.float64:
        rtol = 1e-12
    assert_tensor_equal(got, want, rtol=rtol, atol=1e-30)
