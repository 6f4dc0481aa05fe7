"""Creation functions against NumPy: zeros/ones/full/empty (+ _like), arange, linspace, eye."""
import numpy as np
import pytest

import tensorlet as tl
from conftest import assert_tensor_equal

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64", "int8", "int16", "uint16", "uint32", "uint64", "float16"]
SHAPES = [(), 0, 3, (3,), (2, 3), (2, 0, 4), [1, 2, 1]]


def exact(t, expected):
    """Bit-exact comparison (creation must match NumPy exactly, not approximately)."""
    assert isinstance(t, tl.Tensor)
    got, expected = np.asarray(t), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape, (got.dtype, got.shape, expected.dtype, expected.shape)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_zeros_ones_default_float64(name, shape):
    exact(getattr(tl, name)(shape), getattr(np, name)(shape))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_zeros_ones_dtypes(name, dtype):
    exact(getattr(tl, name)((2, 3), dtype=dtype), getattr(np, name)((2, 3), dtype=dtype))
    exact(getattr(tl, name)(4, dtype=getattr(np, dtype if dtype != "bool" else "bool_")), getattr(np, name)(4, dtype=dtype))


@pytest.mark.parametrize("shape", SHAPES)
def test_empty_shape_and_dtype(shape):
    t = tl.empty(shape)
    assert t.shape == np.empty(shape).shape and t.dtype == np.float64
    assert tl.empty(shape, dtype="uint8").dtype == np.uint8


@pytest.mark.parametrize("value", [7, -3, 2.5, float("nan"), float("-inf"), True, False, 0])
def test_full_infers_dtype_from_value(value):
    exact(tl.full((2, 3), value), np.full((2, 3), value))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("value", [1, 0, 2.7, -1.5, True])
def test_full_with_dtype_casts_like_numpy(value, dtype):
    if isinstance(value, float) and value < 0 and dtype.startswith("uint"):
        pytest.skip("negative float -> unsigned is undefined in C and platform-dependent in NumPy")
    exact(tl.full(4, value, dtype=dtype), np.full(4, value, dtype=dtype))


def test_full_array_and_numpy_scalar_fill_values():
    exact(tl.full((2, 3), [1, 2, 3]), np.full((2, 3), [1, 2, 3]))
    exact(tl.full(2, np.float32(1.5)), np.full(2, np.float32(1.5)))
    exact(tl.full((2, 2), tl.array([1.0, 2.0]), dtype="float32"), np.full((2, 2), [1.0, 2.0], dtype="float32"))
    with pytest.raises(ValueError):
        tl.full(2, [1, 2, 3])


@pytest.mark.parametrize("dtype", ["uint8", "int32"])
def test_python_int_out_of_bounds_is_overflow_error(dtype):
    with pytest.raises(OverflowError, match="out of bounds"):
        tl.full(3, 2**40, dtype=dtype)
    with pytest.raises(OverflowError):
        tl.full_like(tl.zeros(3, dtype=dtype), -(2**40))
    with pytest.raises(OverflowError):
        tl.arange(-3, 3, dtype="uint8")


@pytest.mark.parametrize("dtype", [None, "int32", "float32", "bool"])
@pytest.mark.parametrize("proto", [np.arange(6.0).reshape(2, 3), np.zeros((0, 2), np.int32), np.array(5, np.uint8)])
def test_like_functions(proto, dtype):
    t = tl.asarray(proto)
    exact(tl.zeros_like(t, dtype=dtype), np.zeros_like(proto, dtype=dtype))
    exact(tl.ones_like(t, dtype=dtype), np.ones_like(proto, dtype=dtype))
    exact(tl.full_like(t, 1, dtype=dtype), np.full_like(proto, 1, dtype=dtype))
    e = tl.empty_like(t, dtype=dtype)
    assert e.shape == proto.shape and e.dtype == np.empty_like(proto, dtype=dtype).dtype
    # array-likes work as prototypes too
    exact(tl.zeros_like(proto.tolist(), dtype=dtype), np.zeros_like(proto.tolist(), dtype=dtype))


def test_full_like_keeps_prototype_dtype():
    proto = np.zeros(3, np.int64)
    exact(tl.full_like(tl.asarray(proto), 2.7), np.full_like(proto, 2.7))


@pytest.mark.parametrize(
    "args",
    [(10,), (0,), (-3,), (2, 10), (10, 2), (10, 2, -1), (2, 10, 3), (0, 1, 0.1), (0.5, 5), (1, 2.5, 0.5), (-1.0, 1.0, 0.3),
     (0, 10, 1.5), (5, 1, -0.7), (1e-3, 1e-2, 1e-3), (True,), (0, 2**40, 2**38), (3.0,), (0, -5, -1)],
)
@pytest.mark.parametrize("dtype", [None, "float32", "int32", "float64", "int64", "uint8"])
def test_arange_matches_numpy(args, dtype):
    try:
        with np.errstate(all="ignore"):
            expected = np.arange(*args, dtype=dtype)
    except (OverflowError, ValueError, TypeError) as e:
        with pytest.raises(type(e)):
            tl.arange(*args, dtype=dtype)
        return
    exact(tl.arange(*args, dtype=dtype), expected)


def test_arange_keywords_and_numpy_scalars():
    exact(tl.arange(start=1, stop=7, step=2), np.arange(1, 7, 2))
    exact(tl.arange(np.int32(5)), np.arange(5))
    exact(tl.arange(np.float32(0.5), 3), np.arange(np.float32(0.5), 3).astype(np.float64))
    exact(tl.arange(2, dtype="bool"), np.arange(2, dtype=bool))


def test_arange_errors():
    with pytest.raises(ValueError, match="step"):
        tl.arange(0, 10, 0)
    with pytest.raises(ValueError):
        tl.arange(float("nan"))
    with pytest.raises(ValueError):
        tl.arange(0, 1e20)
    with pytest.raises(TypeError):
        tl.arange(5, dtype="bool")
    with pytest.raises(TypeError):
        tl.arange("a")
    with pytest.raises(TypeError):
        tl.arange(3, dtype="complex128")


@pytest.mark.parametrize(
    "args",
    [(0, 1), (0, 1, 5), (2, 7, 5), (1, 0, 7), (0, 1, 1), (0, 1, 0), (-3.5, 2.25, 11), (0, 1e-320, 4), (1e10, 1e10 + 1, 3),
     (0, 10, 4), (5, -5, 9)],
)
@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize("dtype", [None, "float32", "int64", "int32", "uint8", "bool"])
def test_linspace_matches_numpy_exactly(args, endpoint, dtype):
    if (dtype == "uint8" and min(args[:2]) < 0) or (dtype in ("uint8", "int32") and max(args[:2]) > 2**31):
        pytest.skip("out-of-range float -> small int casts are undefined in C and platform-dependent in NumPy")
    exact(tl.linspace(*args, endpoint=endpoint, dtype=dtype), np.linspace(*args, endpoint=endpoint, dtype=dtype))


@pytest.mark.parametrize("args", [(0, 1, 5), (2, 7, 1), (0, 1, 0), (-3.5, 2.25, 11)])
@pytest.mark.parametrize("endpoint", [True, False])
def test_linspace_retstep(args, endpoint):
    got, step = tl.linspace(*args, endpoint=endpoint, retstep=True)
    expected, np_step = np.linspace(*args, endpoint=endpoint, retstep=True)
    exact(got, expected)
    assert (step == np_step) or (np.isnan(step) and np.isnan(np_step))
    exact(tl.linspace(0, 1, 5, True, False, "float32"), np.linspace(0, 1, 5, True, False, "float32"))  # NumPy's order


def test_linspace_subnormal_samples_survive_large_casts():
    exact(tl.linspace(0, 1e-320, 300_000, dtype="bool"), np.linspace(0, 1e-320, 300_000, dtype="bool"))


def test_linspace_errors():
    with pytest.raises(ValueError, match="non-negative"):
        tl.linspace(0, 1, -1)
    with pytest.raises(TypeError):
        tl.linspace(0, 1, 2.5)


@pytest.mark.parametrize("n,m,k", [(3, None, 0), (3, 4, 1), (4, 3, -1), (3, 3, 5), (3, 3, -5), (0, None, 0), (1, 5, 4),
                                   (5, 2, -4), (2, 2, 2**62), (2, 2, -(2**62))])
@pytest.mark.parametrize("dtype", [None, "int32", "bool", "float32"])
def test_eye_matches_numpy(n, m, k, dtype):
    exact(tl.eye(n, m, k, dtype=dtype), np.eye(n, m, k, dtype=dtype or float))


def test_eye_errors():
    with pytest.raises(ValueError):
        tl.eye(-1)
    with pytest.raises(TypeError):
        tl.eye(2.5)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_shape_validation(name):
    f = getattr(tl, name)
    with pytest.raises(ValueError, match="negative dimensions"):
        f((2, -1))
    with pytest.raises((MemoryError, ValueError)):
        f((2**40, 2**40))
    with pytest.raises((MemoryError, ValueError)):
        f((2**31, 2**31))
    with pytest.raises((MemoryError, ValueError)):
        f(2**62)
    with pytest.raises(TypeError):
        f(2.5)
    with pytest.raises(TypeError):
        f((2, "a"))
    with pytest.raises(TypeError, match="not understood"):
        f(3, dtype="foo")
    with pytest.raises(TypeError):
        f(3, dtype="clongdouble")
    with pytest.raises(TypeError):
        f(3, dtype="longdouble")


def test_full_validation():
    with pytest.raises(ValueError, match="negative"):
        tl.full((-1,), 1.0)
    with pytest.raises((MemoryError, ValueError)):
        tl.full((2**40, 2**40), 1.0)
    with pytest.raises(TypeError):
        tl.full(2, "a")
    with pytest.raises(TypeError):
        tl.full(2, 1j, dtype="float64")  # as NumPy: no complex into a real dtype
    assert tl.full(2, 1j).dtype == tl.complex128  # a Python complex makes complex128


@pytest.mark.parametrize("make", [lambda **kw: tl.zeros(2, **kw), lambda **kw: tl.ones((2, 2), **kw),
                                  lambda **kw: tl.full(3, 1.5, **kw), lambda **kw: tl.empty(2, **kw),
                                  lambda **kw: tl.zeros_like(tl.ones(2), **kw), lambda **kw: tl.full_like(tl.ones(2), 3.0, **kw)])
def test_requires_grad_only_for_floats(make):
    t = make(requires_grad=True)
    assert t.requires_grad and t.dtype == np.float64
    assert not make().requires_grad
    assert make(dtype="float32", requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="float"):
        make(dtype="int64", requires_grad=True)


def test_created_tensors_are_fresh_and_writable():
    a, b = tl.zeros(3), tl.zeros(3)
    np.asarray(a)[0] = 5
    assert np.asarray(b)[0] == 0
    assert tl.ones((3, 4)).strides == (32, 8)


def test_large_fills_match_numpy():
    n = 300_001
    exact(tl.full(n, 2.5, dtype="float32"), np.full(n, 2.5, dtype="float32"))
    exact(tl.arange(n, dtype="float32"), np.arange(n, dtype="float32"))
    exact(tl.linspace(-1, 1, n), np.linspace(-1, 1, n))
