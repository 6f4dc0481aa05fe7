"""complex64 / complex128 against NumPy as the oracle: promotion (arrays and weak Python
scalars), casts both ways, every complex kernel on ordinary and special values, reductions,
matmul / vecdot / tensordot, views of the parts, printing, NumPy and DLPack interop, and the
TypeErrors of the ops the standard leaves undefined for complex numbers."""
import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tensorlet as tl

REAL = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
        "float64"]
COMPLEX = ["complex64", "complex128"]
ALL = REAL + COMPLEX
TOL = {"complex64": dict(rtol=2e-5, atol=1e-6), "complex128": dict(rtol=1e-12, atol=1e-14)}

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-7, 30.0, np.inf, -np.inf, np.nan]
# Every (re, im) pair of special parts: Annex G's cases are corners of this grid.
GRID = np.array([complex(r, i) for r, i in itertools.product(SPECIAL, SPECIAL)])


def npa(t):
    return np.asarray(t)


def sample(shape, dtype, rng):
    re, im = rng.standard_normal(shape), rng.standard_normal(shape)
    return (re + 1j * im).astype(dtype)


def assert_close(got, want, dtype, exact_specials=True):
    g, w = npa(got), np.asarray(want)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    assert g.shape == w.shape
    if g.dtype.kind == "c":
        for part in (np.real, np.imag):
            gp, wp = part(g), part(w)
            fin = np.isfinite(wp)
            # Non-finite expected parts match exactly (inf sign, NaN); finite ones to tolerance.
            if exact_specials:
                np.testing.assert_array_equal(gp[~fin], wp[~fin])
            np.testing.assert_allclose(gp[fin], wp[fin], **TOL[dtype])
    elif g.dtype.kind == "f":
        np.testing.assert_allclose(g, w, equal_nan=True, **TOL[dtype])
    else:
        np.testing.assert_array_equal(g, w)


# ---- promotion ------------------------------------------------------------------------------

@pytest.mark.parametrize("a,b", [(a, b) for a in ALL for b in ALL if "complex" in a + b])
def test_promotion_table_matches_numpy(a, b):
    want = np.result_type(np.dtype(a), np.dtype(b))
    assert tl.result_type(a, b) == want
    x, y = tl.ones(2, dtype=a), tl.ones(2, dtype=b)
    assert (x + y).dtype == want and (x * y).dtype == want
    assert tl.concat([x, y]).dtype == want
    assert tl.where(tl.asarray([True, False]), x, y).dtype == want


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("scalar", [1j, 2.5 - 1j, 3, 1.5])
def test_weak_python_scalars(dtype, scalar):
    a = np.array([1, 0], dtype=dtype)
    want = a * scalar
    got = tl.asarray(a) * scalar
    assert npa(got).dtype == want.dtype
    np.testing.assert_allclose(npa(got), want, rtol=1e-3)
    assert (scalar + tl.asarray(a)).dtype == (scalar + a).dtype
    assert tl.result_type(tl.asarray(a), scalar) == np.result_type(a, scalar)


def test_isdtype_finfo_and_namespace_info():
    assert tl.isdtype(tl.complex64, "complex floating") and tl.isdtype(tl.complex128, "numeric")
    assert not tl.isdtype(tl.complex64, "real floating")
    f = tl.finfo(tl.complex64)
    assert f.dtype == tl.float32 and f.bits == 32 and f.eps == float(np.finfo(np.float32).eps)
    assert tl.finfo(tl.complex128).dtype == tl.float64
    assert tl.__array_namespace_info__().default_dtypes()["complex floating"] == tl.complex128
    assert tl.can_cast(tl.float64, tl.complex128) and not tl.can_cast(tl.complex128, tl.complex64)


# ---- casts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("src", REAL)
@pytest.mark.parametrize("dst", COMPLEX)
def test_cast_real_to_complex(src, dst):
    a = np.array([0, 1, 5, 100], dtype=src) if src != "bool" else np.array([True, False])
    got = tl.asarray(a).astype(dst)
    np.testing.assert_array_equal(npa(got), a.astype(dst))


@pytest.mark.parametrize("src", COMPLEX)
@pytest.mark.parametrize("dst", ALL)
def test_cast_complex_to_every_dtype(src, dst):
    a = np.array([0, 1 + 2j, -0.0 + 3j, 100.75 - 1j, 0 - 1j], dtype=src)
    if np.dtype(dst).kind == "u":
        a = a.real.__abs__() + 1j * a.imag
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        want = a.astype(dst)
        got = tl.asarray(a).astype(dst)
    np.testing.assert_array_equal(npa(got), want)
    assert npa(got).dtype == want.dtype


def test_complex_to_real_cast_warns_like_numpy():
    with pytest.warns(np.exceptions.ComplexWarning, match="discards the imaginary part"):
        tl.asarray([1 + 2j]).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tl.asarray([1 + 2j]).astype("bool")  # truth value: no warning, as NumPy
        tl.asarray([1 + 2j]).astype("complex64")


def test_fill_full_setitem():
    t = tl.full((2, 2), 1 - 2j, dtype="complex64")
    np.testing.assert_array_equal(npa(t), np.full((2, 2), 1 - 2j, np.complex64))
    t[0, 1] = 3j
    t[1] = 7
    want = np.full((2, 2), 1 - 2j, np.complex64)
    want[0, 1] = 3j
    want[1] = 7
    np.testing.assert_array_equal(npa(t), want)
    u = tl.zeros(3, dtype="complex128")
    u.fill(2 + 0.5j)
    np.testing.assert_array_equal(npa(u), np.full(3, 2 + 0.5j))
    assert tl.full(2, 1j).dtype == tl.complex128
    assert tl.asarray([1, 2j]).dtype == tl.complex128


# ---- unary kernels --------------------------------------------------------------------------

UNARY = ["negative", "positive", "abs", "square", "sign", "reciprocal", "exp", "expm1", "log", "log1p", "log2",
         "log10", "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
         "arccosh", "arctanh", "round", "isnan", "isinf", "isfinite", "logical_not"]


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", UNARY)
def test_unary_on_ordinary_values(name, dtype):
    a = sample((5, 7), dtype, np.random.default_rng(0))
    t = tl.asarray(a)
    got = getattr(tl, name)(t)
    want = getattr(np, name)(a)
    assert_close(got, want, dtype)
    # strided input: every other column of a transposed view
    got_s = getattr(tl, name)(tl.transpose(t)[:, ::2])
    assert_close(got_s, getattr(np, name)(a.T[:, ::2]), dtype)


# Where C99 Annex G (glibc's functions, tensorlet's and the standard's reference) and NumPy's own
# complex code differ on the special-value grid, tensorlet follows Annex G; these are checked
# against the standard's rules in the Array API suite (tools/run_array_api_tests.sh) instead.
ANNEX_G_ONLY = {"sign", "square", "reciprocal", "tan", "tanh", "log2", "log10", "expm1", "log1p", "exp", "sin",
                "cos", "sinh", "cosh", "arcsin", "arccos", "arcsinh", "arccosh", "arctanh", "arctan", "log",
                "sqrt", "abs"}


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", UNARY)
def test_unary_on_special_values(name, dtype):
    a = GRID.astype(dtype)
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a)
    got = getattr(tl, name)(tl.asarray(a))
    if name in ANNEX_G_ONLY:
        # The finite values still agree with NumPy; NaN-ness agrees for the standard's NaN cases.
        g, w = npa(got), want
        fin = np.isfinite(w) & np.isfinite(g)
        np.testing.assert_allclose(g[fin], w[fin], **TOL[dtype])
        finite_in = np.isfinite(a)
        assert np.array_equal(np.isnan(g)[finite_in], np.isnan(w)[finite_in])
    else:
        assert_close(got, want, dtype)


@pytest.mark.parametrize("dtype", COMPLEX)
def test_standard_special_cases_spot_checks(dtype):
    inf, nan = np.inf, np.nan

    def one(name, z):
        return complex(npa(getattr(tl, name)(tl.asarray(np.array([z], dtype))))[0])

    def same(a, b):
        return all((x == y and np.signbit(x) == np.signbit(y)) or (np.isnan(x) and np.isnan(y))
                   for x, y in ((a.real, b.real), (a.imag, b.imag)))

    assert same(one("expm1", complex(0.0, 0.0)), 0j)
    assert same(one("expm1", complex(-0.0, 0.0)), 0j)  # +0 real part (the standard's; -0 * 1 - 0 is -0)
    assert same(one("expm1", complex(inf, 0.0)), complex(inf, 0.0))
    assert same(one("expm1", complex(-inf, 1.0)), complex(-1.0, 0.0 * np.sin(1.0)))
    assert np.isnan(one("expm1", complex(1.0, inf)).real)
    assert same(one("log1p", complex(-1.0, 0.0)), complex(-inf, 0.0))
    pi = float(np.pi) if dtype == "complex128" else float(np.float32(np.pi))
    assert same(one("log1p", complex(inf, inf)), complex(inf, pi / 4))
    assert same(one("log1p", complex(-inf, 1.0)), complex(inf, pi))
    assert np.sin(4.0) < 0  # Annex G (glibc) would give 1 - 0j here: the sign of sin(2b)
    assert same(one("tanh", complex(inf, 2.0)), complex(1.0, 0.0))
    assert same(one("tanh", complex(-inf, -3.0)), complex(-1.0, -0.0))
    assert same(one("tan", complex(3.0, inf)), complex(0.0, 1.0))
    assert same(one("sign", complex(-0.0, 0.0)), 0j)
    assert np.isnan(one("sign", complex(nan, 1.0)).imag)
    np.testing.assert_allclose(one("sign", complex(3.0, -4.0)), 0.6 - 0.8j, rtol=1e-6)
    assert same(one("sqrt", complex(-4.0, 0.0)), complex(0.0, 2.0))
    assert same(one("sqrt", complex(-4.0, -0.0)), complex(0.0, -2.0))  # the branch cut follows the zero's sign
    assert same(one("log", complex(-0.0, 0.0)), complex(-inf, pi))


def test_log1p_and_expm1_are_accurate_near_zero():
    # Taylor series as the reference: NumPy's own log1p (log |1 + z|) loses half the digits here.
    z = np.array([1e-10 + 1e-10j, -3e-9 + 2e-12j])
    np.testing.assert_allclose(npa(tl.log1p(tl.asarray(z))), z - z**2 / 2 + z**3 / 3, rtol=1e-14)
    np.testing.assert_allclose(npa(tl.expm1(tl.asarray(z))), z + z**2 / 2 + z**3 / 6, rtol=1e-14)


def test_real_imag_conj_are_numpys():
    a = sample((3, 4), "complex64", np.random.default_rng(1))
    t = tl.asarray(a)
    np.testing.assert_array_equal(npa(tl.real(t)), a.real)
    np.testing.assert_array_equal(npa(tl.imag(t)), a.imag)
    np.testing.assert_array_equal(npa(tl.conj(t)), np.conj(a))
    assert tl.real(t).dtype == tl.float32 and t.imag.dtype == tl.float32
    # views, as ndarray.real: writes reach the complex tensor
    r = t.real
    r[0, 0] = 42.0
    t.imag[1, :] = -1.0
    assert complex(npa(t)[0, 0]).real == 42.0 and (npa(t)[1].imag == -1).all()
    # of a transposed, offset view
    v = tl.transpose(t)[1:, ::2]
    np.testing.assert_array_equal(npa(tl.imag(v)), npa(t).T[1:, ::2].imag)
    # real dtypes: as NumPy
    x = tl.asarray([1.5, -2.0])
    np.testing.assert_array_equal(npa(tl.real(x)), [1.5, -2.0])
    np.testing.assert_array_equal(npa(tl.imag(x)), [0.0, 0.0])
    np.testing.assert_array_equal(npa(tl.conj(x)), [1.5, -2.0])


# ---- binary kernels -------------------------------------------------------------------------

BINARY = ["add", "subtract", "multiply", "divide", "equal", "not_equal", "logical_and", "logical_or",
          "logical_xor"]


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", BINARY + ["power"])
def test_binary_ordinary_values_and_broadcasting(name, dtype):
    rng = np.random.default_rng(2)
    a, b = sample((4, 1, 3), dtype, rng), sample((5, 3), dtype, rng)
    b[0, 0] = a[0, 0, 0]  # one equal pair
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a, b)
    assert_close(getattr(tl, name)(tl.asarray(a), tl.asarray(b)), want, dtype)


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", ["add", "subtract", "equal", "not_equal"])
def test_binary_special_values_exact(name, dtype):
    a = GRID.astype(dtype)
    b = a[::-1].copy()
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a, b)
    assert_close(getattr(tl, name)(tl.asarray(a), tl.asarray(b)), want, dtype)


@pytest.mark.parametrize("dtype", COMPLEX)
def test_multiply_divide_special_values(dtype):
    """NaN-ness as NumPy on the finite-or-NaN grid; infinities keep Annex G's recovery (an
    infinite operand gives an infinite result, not NaN + NaN j)."""
    a = GRID.astype(dtype)
    b = np.roll(a, 7)
    for name in ("multiply", "divide"):
        with np.errstate(all="ignore"):
            want = getattr(np, name)(a, b)
        got = npa(getattr(tl, name)(tl.asarray(a), tl.asarray(b)))
        fin = np.isfinite(want) & np.isfinite(got)
        np.testing.assert_allclose(got[fin], want[fin], **TOL[dtype])
    got = complex(npa(tl.multiply(tl.asarray(np.array([np.inf + 0j], dtype)), tl.asarray(np.array([1 + 1j], dtype))))[0])
    assert np.isinf(got.real)


@pytest.mark.parametrize("dtype", COMPLEX)
def test_power_integer_exponents_and_zero(dtype):
    a = np.array([1 + 1j, -2 + 0.5j, 0j, 3j], dtype)
    for e in (0, 1, 2, 3, -1, -3, 7, 0.5, 1j, 2 + 1j):
        with np.errstate(all="ignore"):
            want = a ** np.array(e, dtype)
        assert_close(tl.asarray(a) ** e, want, dtype)
    assert_close(tl.asarray(a) ** 2.0, a ** 2.0, dtype)


def test_operators_inplace_and_reflected():
    a = np.array([1 + 2j, -1j], np.complex64)
    t = tl.asarray(a.copy())
    t += 1j
    t *= tl.asarray(np.array([2, 3], np.int8))
    want = (a + 1j) * np.array([2, 3], np.int8)
    np.testing.assert_allclose(npa(t), want)
    assert t.dtype == tl.complex64
    np.testing.assert_allclose(npa(1 / tl.asarray(a)), 1 / a, rtol=1e-6)
    np.testing.assert_allclose(npa(2 ** tl.asarray(a)), 2 ** a, rtol=1e-6)
    np.testing.assert_array_equal(npa(-tl.asarray(a)), -a)
    np.testing.assert_array_equal(npa(abs(tl.asarray(a))), abs(a))
    with pytest.raises(TypeError, match="Cannot cast ufunc"):
        x = tl.zeros(2)
        x += 1j  # complex into float64, as NumPy


# ---- reductions and products ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", ["sum", "prod", "mean", "all", "any"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
def test_reductions(name, dtype, axis):
    a = sample((3, 4, 5), dtype, np.random.default_rng(3)) * 0.5
    a[1, 2, :] = 0
    t = tl.asarray(a)
    assert_close(getattr(tl, name)(t, axis=axis), getattr(np, name)(a, axis=axis), dtype)
    assert_close(getattr(tl, name)(tl.transpose(t), axis=axis, keepdims=True),
                 getattr(np, name)(a.T, axis=axis, keepdims=True), dtype)


def test_empty_reductions_and_dtype_argument():
    e = np.zeros((0, 3), np.complex64)
    for name in ("sum", "prod", "all", "any"):
        assert_close(getattr(tl, name)(tl.asarray(e), axis=0), getattr(np, name)(e, axis=0), "complex64")
    x = np.array([1, 2, 3], np.float32)
    assert_close(tl.sum(tl.asarray(x), dtype="complex128"), np.sum(x, dtype="complex128"), "complex128")
    assert_close(tl.mean(tl.asarray(x), dtype="complex64"), np.mean(x, dtype="complex64"), "complex64")


@pytest.mark.parametrize("dtype", COMPLEX)
def test_matmul_vecdot_tensordot(dtype):
    rng = np.random.default_rng(4)
    a, b = sample((2, 3, 4), dtype, rng), sample((4, 5), dtype, rng)
    assert_close(tl.matmul(tl.asarray(a), tl.asarray(b)), a @ b, dtype)
    assert_close(tl.asarray(a[0]) @ tl.asarray(b[:, 0]), a[0] @ b[:, 0], dtype)  # matrix @ vector
    assert_close(tl.matmul(tl.asarray(a[0, 0]), tl.asarray(b[:, 0])), a[0, 0] @ b[:, 0], dtype)
    # mixed real / complex operands promote
    r = rng.standard_normal((4, 2)).astype(np.float32)
    assert_close(tl.matmul(tl.asarray(a[0]), tl.asarray(r)), a[0] @ r, dtype)
    # vecdot conjugates its first argument (the standard's, and np.vecdot's, definition)
    x, y = sample((3, 4), dtype, rng), sample((4,), dtype, rng)
    assert_close(tl.vecdot(tl.asarray(x), tl.asarray(y)), np.vecdot(x, y), dtype)
    assert_close(tl.tensordot(tl.asarray(a), tl.asarray(b), axes=1), np.tensordot(a, b, axes=1), dtype)


# ---- structure, indexing, copies ------------------------------------------------------------

def test_data_movement_paths():
    a = sample((3, 4), "complex128", np.random.default_rng(5))
    t = tl.asarray(a)
    np.testing.assert_array_equal(npa(tl.concat([t, t], axis=1)), np.concatenate([a, a], axis=1))
    np.testing.assert_array_equal(npa(tl.stack([t, t])), np.stack([a, a]))
    np.testing.assert_array_equal(npa(t[::-1, 1:3]), a[::-1, 1:3])
    np.testing.assert_array_equal(npa(t[tl.asarray([2, 0])]), a[[2, 0]])
    np.testing.assert_array_equal(npa(t[npa(tl.real(t)) > 0]), a[a.real > 0])
    np.testing.assert_array_equal(npa(tl.where(tl.real(t) > 0, t, 1j)), np.where(a.real > 0, a, 1j))
    np.testing.assert_array_equal(npa(tl.flip(t, axis=0)), np.flip(a, axis=0))
    np.testing.assert_array_equal(npa(tl.roll(t, 2)), np.roll(a, 2))
    np.testing.assert_array_equal(npa(tl.reshape(tl.transpose(t), (-1,))), a.T.reshape(-1))
    np.testing.assert_array_equal(npa(tl.take(t, tl.asarray([1, 5]))), np.take(a, [1, 5]))
    c = t.copy() if hasattr(t, "copy") else tl.asarray(t, copy=True)
    c[0, 0] = 0
    assert npa(t)[0, 0] == a[0, 0]
    assert t.tolist() == a.tolist() and tl.asarray(2 + 1j).item() == 2 + 1j
    assert complex(tl.asarray(np.complex64(1 - 1j))) == 1 - 1j
    assert bool(tl.asarray(1j)) and not bool(tl.asarray(0j))


def test_unique_on_complex_matches_numpy():
    a = np.array([1 + 1j, 1 - 1j, 0, 1 + 1j, np.nan, 2j, 0, np.nan], np.complex64)
    r, n = tl.unique_all(tl.asarray(a)), np.unique_all(a)
    for got, want in zip(r, n):
        np.testing.assert_array_equal(npa(got), want)
    c = tl.unique_counts(tl.asarray(a))
    np.testing.assert_array_equal(npa(c.counts), np.unique_counts(a).counts)


def test_linspace_with_complex_ends():
    np.testing.assert_allclose(npa(tl.linspace(0, 1 + 2j, 5)), np.linspace(0, 1 + 2j, 5))
    t = tl.linspace(1j, -1, 4, endpoint=False, dtype="complex64")
    np.testing.assert_allclose(npa(t), np.linspace(1j, -1, 4, endpoint=False, dtype="complex64"), rtol=1e-6)
    assert t.dtype == tl.complex64
    out, step = tl.linspace(0, 2j, 3, retstep=True)
    assert step == 1j and npa(out).tolist() == [0j, 1j, 2j]
    with pytest.raises(TypeError):
        tl.linspace(0, 1j, 3, dtype="float32")


def test_cumulative_sum_on_complex():
    a = sample((3, 4), "complex64", np.random.default_rng(8))
    for axis in (0, 1):
        assert_close(tl.cumulative_sum(tl.asarray(a), axis=axis, include_initial=True),
                     np.cumulative_sum(a, axis=axis, include_initial=True), "complex64")



@pytest.mark.parametrize("dtype", COMPLEX)
def test_cumulative_prod_on_complex(dtype):
    # NumPy's multiply.accumulate: the textbook product at each step (no Annex G recovery after
    # an infinity, unlike `*`), so equal bit for bit.
    rng = np.random.default_rng(9)
    a = (0.5 + 0.6 * sample((3, 40), dtype, rng)).astype(dtype)
    a[1, 5] = complex(np.inf, 1.0)  # the NaNs and infinities that follow are NumPy's
    for axis in (0, 1):
        for include in (False, True):
            with np.errstate(all="ignore"):
                want = np.cumulative_prod(a, axis=axis, include_initial=include)
            got = npa(tl.cumulative_prod(tl.asarray(a), axis=axis, include_initial=include))
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    s = a[0, ::-3]  # a strided, reversed view
    np.testing.assert_array_equal(npa(tl.cumulative_prod(tl.asarray(s))), np.cumulative_prod(s))


# ---- printing -------------------------------------------------------------------------------

@pytest.mark.parametrize("values,dtype", [
    ([1 + 2j, 3 - 4j, np.nan + 1j, -0.5j], "complex64"),
    ([1 + 2j, 3.25 - 4j], "complex128"),
    ([1e-8 + 1j, 1e10 - 1j], "complex128"),
    ([np.inf - 1j, 0.5 + np.inf * 1j, -np.inf + np.nan * 1j], "complex128"),
    ([[1 + 1j, 2], [3j, -4.5]], "complex64"),
])
def test_repr_and_str_match_numpy(values, dtype):
    a = np.array(values, dtype)
    t = tl.asarray(a)
    assert repr(t) == repr(a).replace("array(", "tensor(").replace("\n      ", "\n       ")
    assert str(t) == str(a)


@pytest.mark.parametrize("z", [1 + 2j, 2j, -1.5j, 1.5 - 0j, complex(-0.0, 1), 1e20 + 1j])
def test_str_of_0d_matches_numpy(z):
    assert str(tl.asarray(z)) == str(np.complex128(z))


# ---- interop --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", COMPLEX)
def test_numpy_zero_copy_both_ways(dtype):
    a = sample((3, 2), dtype, np.random.default_rng(6))
    t = tl.asarray(a)
    assert np.shares_memory(npa(t), a)
    a[0, 0] = 5j
    assert npa(t)[0, 0] == 5j
    assert np.asarray(memoryview(t)).dtype == np.dtype(dtype)  # buffer protocol ("Zf" / "Zd")


@pytest.mark.parametrize("dtype", COMPLEX)
def test_dlpack_round_trip(dtype):
    a = sample((2, 3), dtype, np.random.default_rng(7))
    t = tl.from_dlpack(a)
    assert t.dtype == np.dtype(dtype) and np.shares_memory(npa(t), a)
    back = np.from_dlpack(t)
    np.testing.assert_array_equal(back, a)
    assert np.shares_memory(back, a)
    t2 = tl.from_dlpack(tl.transpose(t))
    np.testing.assert_array_equal(npa(t2), a.T)


# ---- what complex does not do ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["less", "maximum", "remainder", "floor_divide", "atan2", "bitwise_and"])
def test_undefined_binary_ops_raise_type_error_naming_op_and_dtype(name):
    z = tl.asarray(np.array([1j], np.complex64))
    with pytest.raises(TypeError, match=rf"{name}.*complex64|complex64.*{name}"):
        getattr(tl, name)(z, z)


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "signbit", "sort", "argmax", "max", "var"])
def test_undefined_unary_ops_raise_type_error(name):
    with pytest.raises(TypeError, match="complex128"):
        getattr(tl, name)(tl.asarray([1j, 2]))


def test_complex_autograd_is_refused_clearly():
    with pytest.raises(TypeError, match="only float tensors can require gradients, got complex64"):
        tl.zeros(2, dtype="complex64").requires_grad_(True)
    x = tl.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="complex autograd is not supported"):
        x * 1j
    with pytest.raises(TypeError, match="complex autograd is not supported"):
        x.astype("complex64")  # would otherwise drop the graph silently
    with tl.no_grad():
        assert (x * 1j).dtype == tl.complex128
        assert x.astype("complex64").dtype == tl.complex64


# ---- fuzz -----------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_fuzz_broadcast_mixed_dtypes(data):
    sa, sb = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)).input_shapes
    da = data.draw(st.sampled_from(COMPLEX))
    db = data.draw(st.sampled_from(ALL))
    name = data.draw(st.sampled_from(["add", "subtract", "multiply", "divide", "equal", "not_equal", "power"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    a = sample(sa, da, rng)
    b = (sample(sb, db, rng) if db in COMPLEX else
         (rng.integers(1, 4, size=sb) if db != "bool" else rng.integers(0, 2, size=sb)).astype(db))
    if data.draw(st.booleans()):
        a, b = b, a
    want_dtype = np.result_type(a, b)
    with np.errstate(all="ignore"):
        want = getattr(np, name)(a, b)
    got = getattr(tl, name)(tl.asarray(a), tl.asarray(b))
    key = "complex64" if want_dtype == np.complex64 else "complex128"
    assert_close(got, want, key, exact_specials=False)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
def test_fuzz_unary_and_reduce_layouts(data, shape):
    dtype = data.draw(st.sampled_from(COMPLEX))
    a = sample(shape, dtype, np.random.default_rng(len(shape)))
    t = tl.asarray(a)
    if data.draw(st.booleans()) and len(shape) >= 2:
        a, t = a.T, tl.transpose(t)
    name = data.draw(st.sampled_from(["exp", "log", "sqrt", "tanh", "arcsinh", "abs", "square", "sign"]))
    with np.errstate(all="ignore"):
        assert_close(getattr(tl, name)(t), getattr(np, name)(a), dtype)
    axis = data.draw(st.sampled_from([None, 0, -1]))
    red = data.draw(st.sampled_from(["sum", "prod", "mean"]))
    if red == "mean" and (a.size == 0 or (axis is not None and a.shape[axis] == 0)):
        return
    assert_close(getattr(tl, red)(t, axis=axis), getattr(np, red)(a, axis=axis), dtype)


# ---- the per-ISA contiguous loops (complex_simd.h) ---------------------------------------------

def _with_specials(n, dtype, rng):
    a = sample((n,), dtype, rng)
    r = np.finfo("float32" if dtype == "complex64" else "float64")
    specials = [complex(np.inf, 1), complex(np.nan, np.inf), complex(r.max, r.max), complex(0, 0),
                complex(-0.0, np.nan), complex(np.inf, np.nan), complex(r.tiny, r.tiny / 4), complex(0, -np.inf)]
    a[3:3 + len(specials)] = np.array(specials, dtype)
    a[n - 5:] = np.array(specials[:5], dtype)  # in the last, partial block too
    return a


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("n", [9, 256, 1000])
def test_contiguous_loops_equal_the_general_path(dtype, n):
    # The vector loops must give the scalar formulas' bits: the strided (general) path computes
    # the same elements one at a time. NumPy agrees except where `*` recovers infinities.
    rng = np.random.default_rng(n)
    a, b = _with_specials(2 * n, dtype, rng), _with_specials(2 * n, dtype, rng)[::-1].copy()
    ta, tb = tl.asarray(a), tl.asarray(b)
    with np.errstate(all="ignore"):
        for name in ("add", "subtract", "multiply"):
            fast = npa(getattr(tl, name)(ta[:n], tb[:n]))
            slow = npa(getattr(tl, name)(ta[::2], tb[::2]))
            np.testing.assert_array_equal(fast, npa(getattr(tl, name)(tl.asarray(a[:n]), tl.asarray(b[:n]))))
            np.testing.assert_array_equal(npa(getattr(tl, name)(tl.asarray(a[::2].copy()), tl.asarray(b[::2].copy()))),
                                          slow)
            finite = np.isfinite(fast)
            np.testing.assert_allclose(fast[finite], getattr(np, name)(a[:n], b[:n])[finite], rtol=2e-6)
        got = npa(tl.abs(tl.asarray(a)))
        np.testing.assert_array_equal(got, npa(tl.abs(ta[::-1]))[::-1])
        np.testing.assert_allclose(got, np.abs(a), rtol=2e-7 if dtype == "complex64" else 1e-15)  # hypot's accuracy
        assert np.isinf(got[np.isinf(a)]).all()  # inf beats NaN, no overflow at the largest finite parts


@pytest.mark.parametrize("dtype", COMPLEX)
def test_in_place_product_reads_before_it_writes(dtype):
    rng = np.random.default_rng(5)
    a, b = _with_specials(600, dtype, rng), sample((600,), dtype, rng)
    with np.errstate(all="ignore"):
        want = npa(tl.multiply(tl.asarray(a), tl.asarray(b)))
        t = tl.asarray(a.copy())
        t *= tl.asarray(b)
        np.testing.assert_array_equal(npa(t), want)
        t2 = tl.asarray(a.copy())
        t2 *= t2  # out aliases both inputs
        np.testing.assert_array_equal(npa(t2), npa(tl.multiply(tl.asarray(a), tl.asarray(a))))


@pytest.mark.parametrize("dtype", COMPLEX)
def test_full_sum_is_pairwise_in_double(dtype):
    import math
    rng = np.random.default_rng(6)
    a = sample((100_003,), dtype, rng) * 1e3 + (1e4 + 1e4j)
    got = complex(tl.sum(tl.asarray(a)))
    exact = complex(math.fsum(a.real.astype(float)), math.fsum(a.imag.astype(float)))
    err, np_err = abs(got - exact), abs(complex(np.sum(a)) - exact)
    assert err <= np_err * 1.0001 + 1e-9 * abs(exact)  # at least NumPy's accuracy
    if dtype == "complex128":
        assert got == complex(np.sum(a))  # NumPy's own pairwise order: the same bits
    assert complex(tl.sum(tl.asarray(a[::-1]))) == pytest.approx(exact, rel=1e-6)
