"""repr/str against NumPy's own text. The oracle for repr is NumPy's repr of an ndarray subclass
named ``tensor``: NumPy then prints exactly our layout (prefix ``tensor(`` and its indentation)."""
import numpy as np
import pytest

import tensorlet as tl


class tensor(np.ndarray):  # noqa: N801  (the name is what NumPy prints)
    pass


def np_repr(a):
    return repr(np.asarray(a).view(tensor))


def np_str(a):
    a = np.asarray(a)
    return str(a[()]) if a.ndim == 0 else str(a)


def check(a):
    a = np.asarray(a)
    t = tl.array(a)
    assert repr(t) == np_repr(a), f"\n{repr(t)}\n{np_repr(a)}"
    assert str(t) == np_str(a), f"\n{str(t)}\n{np_str(a)}"


rng = np.random.default_rng(1234)

FLOATS = [
    [1.0, 2.0, 3.0], [[1.0, 2.0], [3.0, 4.0]], [0.1, 0.2, 0.30000000000000004], [1.5, 2.25, -3.125],
    [0.0, -0.0, 1.0], [1e-5, 1.0], [1e8, 1.0], [1e7, 1.0], [123456789.0], [1e-300, 1e300], [1e-100, 1.0],
    [np.nan, 1.0], [np.inf, -np.inf, 1.5], [np.nan, np.inf], [np.nan], [-np.inf], [0.0], [1 / 3, 2 / 3],
    [1e16, 1.0], [0.001, 1.0], [0.0001, 0.5], [9.99999e-5, 0.1], [3.14159265358979, 2.718281828459045],
    [1234.5678, 0.001], [1e-4 + 1e-12], [5e-324, 1.0], [1.7976931348623157e308, -1.0],
    [12345678.123456789], [0.123456785], [0.5, 0.25, 0.125, 0.0625], [100.0, 2000.5, -0.75],
    [1e10, -1e-10], [2.5e-8], [-1.0, np.nan, 1e20],
    rng.standard_normal(20), rng.standard_normal((5, 7)) * 1000, rng.standard_normal((3, 4)) * 1e-6,
    rng.random((4, 5)), rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 1, 2, 3)) * 1e5,
    rng.standard_normal(30) * 1e9, np.exp(rng.standard_normal(40) * 10), rng.standard_normal((30, 2)),
    np.linspace(0, 1, 17), np.linspace(-1e3, 1e3, 26), np.arange(40.0).reshape(5, 8) / 7,
]


@pytest.mark.parametrize("values", FLOATS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_float_repr_str_match_numpy(values, dtype):
    with np.errstate(all="ignore"):
        check(np.asarray(values, dtype=dtype))


INTS = [[1, 2, 3], [[1, -20], [300, 4]], [0], [-(2**63)], [2**63 - 1, -5], np.arange(100), np.arange(-50, 50).reshape(10, 10),
        rng.integers(-1000, 1000, (4, 6, 3)), rng.integers(0, 10**12, 15)]


@pytest.mark.parametrize("values", INTS)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_int_repr_str_match_numpy(values, dtype):
    a = np.asarray(values)
    if dtype != "int64":
        info = np.iinfo(dtype)
        a = np.clip(a, info.min, info.max)
    check(a.astype(dtype))


@pytest.mark.parametrize("values", [[True, False], [True], [[True, True], [False, True]], np.zeros(30, bool), rng.random(50) > 0.5])
def test_bool_repr_str_match_numpy(values):
    check(np.asarray(values, dtype=bool))


@pytest.mark.parametrize("value", [0.1, 1.0, -2.5, 1e20, 1.5e-5, 1e16, 1e15, 123456.789, np.nan, -np.inf, 0.0, -0.0,
                                   1 / 3, 5e-324, 3, -7, 0, True, False])
@pytest.mark.parametrize("dtype", [None, "float32", "int32", "uint8", "bool"])
def test_zero_d_match_numpy(value, dtype):
    if dtype in ("int32", "uint8") and isinstance(value, float):
        pytest.skip("float -> small int casts of these values are undefined or refused")
    try:
        a = np.array(value, dtype=dtype)
    except OverflowError:
        pytest.skip("NumPy refuses the value for this dtype")
    with np.errstate(all="ignore"):
        check(a)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 1), (0, 0)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool", "uint8"])
def test_empty_match_numpy(shape, dtype):
    check(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize(
    "a",
    [np.arange(2000), np.arange(1001.0), np.arange(3000).reshape(30, 100), np.arange(24000.0).reshape(20, 30, 40) / 3,
     np.arange(2000, dtype=np.float32) * 1e-7, np.arange(5000) % 7 == 0, np.arange(1001, dtype=np.uint8),
     np.linspace(-1e9, 1e9, 2001), np.arange(6000).reshape(2, 3000), np.arange(6000).reshape(3000, 2),
     np.arange(1000), np.arange(16 * 16 * 16).reshape(16, 16, 16)],
)
def test_summarised_match_numpy(a):
    check(a)


def test_wrapping_of_long_rows_and_high_dims():
    check(rng.standard_normal(200))
    check(rng.standard_normal((3, 60)) * 1e4)
    check(np.arange(500).reshape(5, 100))
    check(rng.standard_normal((1, 1, 1, 1, 1, 40)))
    check(rng.standard_normal(200).astype(np.float32))


def test_non_contiguous_views():
    a = rng.standard_normal((6, 8))
    t = tl.array(a)
    v = t.T
    assert repr(v) == np_repr(a.T) and str(v) == np_str(a.T)
    b = np.arange(3000.0).reshape(60, 50)
    assert repr(tl.asarray(b).T) == np_repr(b.T)
    c = b[::-3, ::7]
    assert repr(tl.asarray(c)) == np_repr(c)


def test_requires_grad_suffix():
    t = tl.array([1.0, 2.0], requires_grad=True)
    assert repr(t) == "tensor([1., 2.], requires_grad=True)"
    assert repr(tl.array([1.0, 2.0], dtype="float32", requires_grad=True)) == "tensor([1., 2.], dtype=float32, requires_grad=True)"
    assert str(t) == "[1. 2.]"
    long = tl.array(np.arange(16.0) + 0.5, requires_grad=True)
    expected = np_repr(np.arange(16.0) + 0.5)[:-1] + ","
    last = expected.split("\n")[-1]
    sep = " " if len(last) + len(" requires_grad=True)") <= 75 else "\n" + " " * 7
    assert repr(long) == expected + sep + "requires_grad=True)"


def test_known_literals():
    assert repr(tl.array([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    assert str(tl.array([[1.0, 2.0], [3.0, 4.0]])) == "[[1. 2.]\n [3. 4.]]"
    assert repr(tl.zeros(3, dtype="float32")) == "tensor([0., 0., 0.], dtype=float32)"
    assert repr(tl.array(5)) == "tensor(5)"
    assert repr(tl.zeros((0, 3))) == "tensor([], shape=(0, 3), dtype=float64)"


def _random_array(r):
    shape = tuple(int(d) for d in r.integers(0, 6, r.integers(0, 4)))
    kind = r.integers(0, 4)
    if kind == 0:
        a = r.standard_normal(shape) * 10.0 ** r.integers(-12, 12)
        if r.random() < 0.3 and a.size:
            a.flat[r.integers(0, a.size)] = r.choice([np.nan, np.inf, -np.inf, 0.0, -0.0])
        if r.random() < 0.3:
            a = np.round(a, int(r.integers(0, 4)))
        return a.astype(r.choice(["float64", "float32"]))
    if kind == 1:
        return r.integers(-(10 ** int(r.integers(1, 18))), 10 ** int(r.integers(1, 18)), shape)
    if kind == 2:
        return r.integers(0, 256, shape).astype(np.uint8)
    return r.random(shape) > 0.5


def test_random_arrays_match_numpy():
    r = np.random.default_rng(7)
    with np.errstate(all="ignore"):
        for _ in range(400):
            check(_random_array(r))


def test_format_spec_like_ndarray():
    assert f"{tl.array(3.14159):.2f}" == "3.14"
    assert f"{tl.array(7):>4}" == "   7"
    assert f"{tl.array([1.0, 2.0])}" == "[1. 2.]"
    assert format(tl.array(2.5, dtype="float32"), "") == "2.5"
    with pytest.raises(TypeError):
        f"{tl.array([1.0, 2.0]):.2f}"


@pytest.mark.parametrize(
    "options",
    [dict(precision=3), dict(precision=0), dict(precision=12), dict(suppress=True), dict(suppress=True, precision=4),
     dict(threshold=10), dict(threshold=10, edgeitems=1), dict(edgeitems=5, threshold=20), dict(linewidth=40),
     dict(linewidth=120, precision=2), dict(threshold=0)],
)
def test_print_options_match_numpy(options):
    r = np.random.default_rng(3)
    arrays = [r.standard_normal((4, 6)), r.standard_normal(30) * 1e-6, np.array([1e-10, 1.0, -1e-10]), np.arange(50),
              r.standard_normal((3, 4, 5)).astype(np.float32) * 1e3, np.array([1.5, np.nan, -np.inf]), np.array(2.5),
              np.arange(12.0).reshape(3, 4) / 3]
    with tl.printoptions(**options) as current:
        assert all(current[k] == v for k, v in options.items())
        with np.printoptions(**options):
            for a in arrays:
                check(a)
    assert tl.get_printoptions() == dict(precision=8, threshold=1000, edgeitems=3, linewidth=75, suppress=False)


def test_set_printoptions_validates_and_restores():
    with pytest.raises(ValueError):
        tl.set_printoptions(precision=-1)
    with pytest.raises(ValueError):
        tl.set_printoptions(threshold=float("nan"))
    with pytest.raises(TypeError):
        tl.set_printoptions(precision="a")
    assert tl.get_printoptions()["precision"] == 8  # a refused call changes nothing
    import sys

    with tl.printoptions(threshold=sys.maxsize):
        assert "..." not in repr(tl.arange(2000))
    assert "..." in repr(tl.arange(2000))
