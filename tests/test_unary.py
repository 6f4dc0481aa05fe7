"""Unary elementwise ops beyond the registry's checks (tests/test_op_registry.py runs every
op of csrc/ops/unary.def against NumPy over all dtypes, with gradcheck, layouts, out= and
errors): result dtypes, integer wrap-around, special values, float32 polynomial accuracy per
ISA, rounding ties, derivative conventions at kinks and second derivatives."""
import numpy as np
import pytest

import tensorlet as tl
from conftest import assert_tensor_equal
from elementwise_util import check, np_ref
from gradcheck import gradcheck
from op_registry import by_family

# --------------------------------------------------------------------------------------------
# Unary ops.

def np_unary(name, x):
    if name == "relu":
        return np.maximum(x, np.zeros((), x.dtype))
    if name == "sigmoid":
        y = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
        return y.astype(np.sin(np.zeros(0, x.dtype)).dtype)  # the dtype of NumPy's float loops
    return getattr(np, name)(x)


def test_unary_result_dtypes():
    assert tl.exp(tl.array([1], dtype="int32")).dtype == np.float64
    assert tl.exp(tl.array([1])).dtype == np.float64
    assert tl.sqrt(tl.array([4], dtype="uint8")).dtype == np.float16  # as NumPy
    assert tl.sqrt(tl.array([4], dtype="uint16")).dtype == np.float32
    assert tl.sigmoid(tl.array([True])).dtype == np.float16
    assert tl.abs(tl.array([-1], dtype="int32")).dtype == np.int32
    assert tl.relu(tl.array([-1, 2])).dtype == np.int64


def test_integer_abs_and_negative_wrap_like_numpy():
    a = np.array([np.iinfo(np.int64).min, -3, 0, 4])
    assert_tensor_equal(tl.abs(tl.array(a)), np.abs(a))
    assert_tensor_equal(-tl.array(a), -a)
    assert_tensor_equal(abs(tl.array(a)), abs(a))
    with pytest.raises(TypeError):
        -tl.array([True])


def test_unary_special_values(isa):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 88.8, -104.0, 1e30, -1e30], np.float32)
    for name in ["exp", "tanh", "sign", "abs", "isnan", "isfinite", "relu", "sigmoid"]:
        check(getattr(tl, name)(tl.array(x)), np_ref(lambda v: np_unary(name, v), x))


def ulp_error(got, want_f64, dtype=np.float32):
    """Error in units of the last place of `dtype` at the exact (float64) value."""
    want = want_f64.astype(dtype)
    spacing = np.spacing(np.abs(want).astype(dtype)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want_f64) / spacing


ISAS = tl.config()["available_isas"]


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs a test once per instruction set this machine can run (the kernels dispatch on it)."""
    before = tl.config()["isa"]
    tl._core._set_isa(request.param)
    yield request.param
    tl._core._set_isa(before)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid"])
def test_float32_polynomials_are_within_2_ulp(name, isa):
    rng = np.random.RandomState(0)
    ranges = {"exp": (-87.0, 88.5), "tanh": (-10.0, 10.0), "sigmoid": (-80.0, 80.0)}
    lo, hi = ranges[name]
    x = np.concatenate([rng.uniform(lo, hi, 200000), rng.uniform(-1, 1, 50000), rng.uniform(-1e-3, 1e-3, 10000),
                        np.linspace(-0.7, 0.7, 20001)]).astype(np.float32)
    x64 = x.astype(np.float64)
    exact = {"exp": np.exp, "tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[name](x64)
    got = np.asarray(getattr(tl, name)(tl.array(x)))
    err = ulp_error(got, exact)
    assert err.max() <= 2.0, (x[err.argmax()], err.max())
    # and close to NumPy's own float32 result where NumPy has the function
    if name != "sigmoid":
        np.testing.assert_allclose(got, getattr(np, name)(x), rtol=3e-7 * 4, atol=1e-38)


def test_exp_float32_subnormal_and_overflow_edges(isa):
    x = np.array([-87.3, -90.0, -100.0, -103.9, -103.98, -120.0, 88.7, 88.73, 100.0], np.float32)
    got = np.asarray(tl.exp(tl.array(x)))
    want = np.exp(x.astype(np.float64))
    finite = want < 3.4e38
    np.testing.assert_allclose(got[finite], want[finite].astype(np.float32), rtol=2.5e-7, atol=2e-45)
    assert np.all(np.isinf(got[~finite]))


def test_round_is_half_to_even_and_floor_family_keeps_integers():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997, -0.0, np.inf, np.nan])
    for dtype in ("float32", "float64"):
        xd = x.astype(dtype)
        for name in ("round", "floor", "ceil", "trunc"):
            check(getattr(tl, name)(tl.array(xd)), np_ref(getattr(np, name), xd))
    for dtype in ("uint8", "int32", "int64"):
        i = np.array([0, 3, 200], dtype)
        for name in ("round", "floor", "ceil", "trunc"):
            assert_tensor_equal(getattr(tl, name)(tl.array(i)), getattr(np, name)(i))  # NumPy 2: keeps ints
    assert tl.round(tl.array([True])).dtype == np.float16  # as NumPy
    assert tl.floor(tl.array([True])).dtype == np.bool_


def test_integer_reciprocal_truncates_and_zero_gives_zero():
    x = np.array([1, -1, 2, -3, 7], np.int32)
    assert_tensor_equal(tl.reciprocal(tl.array(x)), np.reciprocal(x))
    u = np.array([1, 2, 254, 255], np.uint8)  # 255 is not -1
    assert_tensor_equal(tl.reciprocal(tl.array(u)), np.reciprocal(u))
    # NumPy leaves 1 / 0 undefined for integers (INT_MIN here, 0 for uint8); tensorlet gives 0
    assert_tensor_equal(tl.reciprocal(tl.array([0], dtype="int64")), np.array([0]))
    r = tl.reciprocal(tl.array([True]))  # NumPy's bool loop is int8's
    assert r.dtype == np.int8 and r.tolist() == [1]


def test_inverse_functions_outside_their_domain_give_nan_like_numpy():
    x = np.array([-2.0, 2.0, 0.5])
    for name in ("arcsin", "arccos", "arctanh", "arccosh", "log", "log2", "log10", "log1p", "sqrt"):
        check(getattr(tl, name)(tl.array(x)), np_ref(getattr(np, name), x))


def test_errors_name_the_op_and_the_dtype():
    with pytest.raises(TypeError, match=r"\[negative\].*bool"):
        tl.negative(tl.array([True]))
    with pytest.raises(TypeError, match=r"\[invert\].*float32"):
        tl.invert(tl.array([1.0], dtype="float32"))


# ---------------------------------------------------------------------------------------------
# Gradients (every differentiable op's first derivative: tests/test_op_registry.py).

def test_unary_gradients_through_a_chain_and_methods():
    rng = np.random.RandomState(4)
    x = rng.randn(3, 4)
    gradcheck(lambda t: tl.sigmoid(tl.tanh(t) * 2.0) + tl.exp(-t.square()) + abs(t + 5.0), x)
    gradcheck(lambda t: t.exp().sqrt() + t.tanh() + t.sigmoid() + t.relu() + t.abs(), x + 3.0)


def test_relu_and_abs_at_zero_have_zero_gradient():
    x = tl.array([-1.0, 0.0, 2.0], requires_grad=True)
    tl.relu(x).sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), [0.0, 0.0, 1.0])
    y = tl.array([-1.0, 0.0, 2.0], requires_grad=True)
    tl.abs(y).sum().backward()
    np.testing.assert_array_equal(np.asarray(y.grad), [-1.0, 0.0, 1.0])




DIFF_UNARY = [op for op in by_family("unary") if op.differentiable]


@pytest.mark.parametrize("op", DIFF_UNARY, ids=[op.name for op in DIFF_UNARY])
def test_second_derivatives_through_create_graph(op):
    """d/dx of the create_graph gradient, against finite differences of that gradient."""
    x = op.samples("float64", [(4,)], np.random.RandomState(11))[0][0]

    def first_derivative(t):
        if not t.requires_grad:  # gradcheck's finite-difference calls
            t = tl.array(np.asarray(t), requires_grad=True)
        (g,) = tl.autograd.grad(op.fn(t).sum(), [t], create_graph=True)
        return g

    g = first_derivative(tl.array(x, requires_grad=True))
    if g.requires_grad:
        gradcheck(first_derivative, x, rtol=1e-4, atol=1e-6)
    else:  # a piecewise-constant derivative (abs, relu, floor, ...): the second derivative is 0
        np.testing.assert_array_equal(np.asarray(first_derivative(tl.array(x + 1e-4))), np.asarray(g))
