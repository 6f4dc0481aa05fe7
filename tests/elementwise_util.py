"""Shared helpers of the elementwise tests (test_unary.py, test_binary.py): samples per dtype,
the NumPy oracle call, and the comparison with NumPy's result dtype."""
import numpy as np

from conftest import assert_tensor_equal

# The registry (test_op_registry.py) runs every op over all twelve dtypes; these tests go wider
# in values and shapes on a subset that has each kind of integer and float16.
DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64", "int8", "uint64", "float16"]
NUMERIC = DTYPES[1:]
INTS = ["uint8", "int32", "int64", "int8", "uint64"]
FLOATS = ["float32", "float64", "float16"]


def rand(shape, dtype, rng, low=-20, high=20, nonneg=False):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.rand(*shape) > 0.5)
    if dtype.kind == "u":
        return rng.randint(0, 256, size=shape).astype(dtype)
    if dtype.kind == "i":
        return rng.randint(0 if nonneg else low, high, size=shape).astype(dtype)
    x = np.asarray(rng.randn(*shape) * 4)
    if nonneg:
        x = np.abs(x)
    return x.astype(dtype)


def np_ref(fn, *args):
    with np.errstate(all="ignore"):
        return fn(*args)


def check(got, want, dtype_hint=None):
    want = np.asarray(want)
    rtol = 1e-6
    if want.dtype == np.float16:  # both compute in float32 and round: libm moves the last bit
        rtol = 1e-3
    elif want.dtype == np.float32:
        rtol = 3e-6
    elif want.dtype == np.float64:
        rtol = 1e-12
    assert_tensor_equal(got, want, rtol=rtol, atol=1e-30)
