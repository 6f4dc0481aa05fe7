"""Binary elementwise ops against NumPy beyond the registry's checks (tests/test_op_registry.py):
promotion with weak Python scalars, operators and reflected forms, NumPy's integer / float
division semantics, bitwise / logical / comparison details, large and many-dim layouts, where,
clip, astype and the in-place forms."""
import operator
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tensorlet as tl
from conftest import assert_tensor_equal
from elementwise_util import DTYPES, FLOATS, INTS, NUMERIC, check, np_ref, rand
from op_registry import by_family

# --------------------------------------------------------------------------------------------
# Binary ops: every op x dtype pair x broadcasting shape pair against NumPy.

SHAPES = [((), ()), ((1,), ()), ((5,), (5,)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)),
          ((0, 3), (3,)), ((2, 0), (1, 1)), ((4, 1, 3), (1, 5, 1))]
BINARY = {op.name: op for op in by_family("binary")}  # the op table (tests/op_registry.py)


def make_pair(name, sa, sb, da, db, rng):
    a = rand(sa, da, rng)
    b = rand(sb, db, rng, nonneg=(name == "power"))
    if name == "power":
        a = rand(sa, da, rng, low=-4, high=5)
        if np.dtype(db).kind in "iu":
            b = (rng.randint(0, 5, size=sb)).astype(db)
        if np.dtype(da).kind in "iu" and np.dtype(db).kind == "f":
            a = np.abs(a)
    return a, b


# Wider values and more shapes / dtype pairs than the registry's (tests/test_op_registry.py):
# integer division by zero, wrap-around, both operand orders.
@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("da,db", [(d, d) for d in DTYPES] + [("uint8", "int32"), ("int32", "float32"),
                                                              ("uint8", "float32"), ("int64", "float64"),
                                                              ("float32", "float64"), ("bool", "int32"),
                                                              ("bool", "float32")])
def test_binary_ops_match_numpy(name, da, db):
    rng = np.random.RandomState(zlib.crc32(f"{name}{da}{db}".encode()))
    op = BINARY[name]
    for sa, sb in SHAPES:
        a, b = make_pair(name, sa, sb, da, db, rng)
        status, want = op.expected(a, b)
        if status == "TypeError":  # NumPy has no loop (bool subtract, bitwise ops on floats)
            with pytest.raises(TypeError, match=rf"\[{name}\]"):
                op.fn(tl.array(a), tl.array(b))
            return
        check(op.fn(tl.array(a), tl.array(b)), want)
        # reversed operand order exercises the scalar-op-tensor inner path
        if name != "power":
            check(op.fn(tl.array(b), tl.array(a)), op.expected(b, a)[1])


OPERATORS = [("+", operator.add, np.add), ("-", operator.sub, np.subtract), ("*", operator.mul, np.multiply),
             ("/", operator.truediv, np.divide), ("//", operator.floordiv, np.floor_divide),
             ("%", operator.mod, np.remainder), ("**", operator.pow, np.power),
             ("==", operator.eq, np.equal), ("!=", operator.ne, np.not_equal), ("<", operator.lt, np.less),
             ("<=", operator.le, np.less_equal), (">", operator.gt, np.greater), (">=", operator.ge, np.greater_equal)]


@pytest.mark.parametrize("sym,op,npf", OPERATORS, ids=[o[0] for o in OPERATORS])
@pytest.mark.parametrize("dtype", NUMERIC)
def test_operators_and_reflected_forms_with_weak_scalars(sym, op, npf, dtype):
    rng = np.random.RandomState(1)
    a = rand((3, 4), dtype, rng, low=1, high=9, nonneg=True)
    if dtype in INTS:
        a = a % 9 + 1
    t = tl.array(a)
    scalars = [True, 2, 3.5] if sym != "**" else [2, 0.5]
    for s in scalars:
        with np.errstate(all="ignore"):
            check(op(t, s), op(a, s))
            if sym != "**" or dtype in FLOATS:
                check(op(s, t), op(s, a))
    b = rand((4,), dtype, rng, nonneg=True)
    if dtype in INTS:
        b = b % 3 + 1
    with np.errstate(all="ignore"):
        check(op(t, tl.array(b)), op(a, b))
        check(op(t, b), op(a, b))  # a NumPy array operand


@pytest.mark.parametrize("dtype,scalar", [("uint8", 3), ("uint8", 2.5), ("int32", 7), ("int32", 1.5),
                                          ("float32", 2), ("float32", 1e-3), ("bool", 1), ("bool", 2.0),
                                          ("int64", True), ("float32", True)])
def test_weak_scalar_promotion(dtype, scalar):
    a = rand((4,), dtype, np.random.RandomState(0), nonneg=True)
    for npf, tlf in [(np.add, tl.add), (np.multiply, tl.multiply), (np.maximum, tl.maximum),
                     (np.less, tl.less)]:
        want = npf(a, scalar)
        check(tlf(tl.array(a), scalar), want)
        check(tlf(scalar, tl.array(a)), npf(scalar, a))


def test_python_int_out_of_range_is_an_overflow_error_except_in_comparisons():
    u = tl.array([1, 2, 250], dtype="uint8")
    for bad in (300, -1):
        with pytest.raises(OverflowError, match=f"Python integer {bad} out of bounds for uint8"):
            u + bad
        with pytest.raises(OverflowError):
            tl.multiply(u, bad)
    with pytest.raises(OverflowError, match="int32"):
        tl.array([1], dtype="int32") + 2**40
    with pytest.raises(OverflowError):
        tl.array([1]) + 2**70
    a = np.array([1, 2, 250], np.uint8)
    assert_tensor_equal(u < 300, a < 300)
    assert_tensor_equal(u == -1, a == -1)
    assert_tensor_equal(u > -1, a > -1)
    assert_tensor_equal(tl.array([1], dtype="int32") != 2**40, np.array([1], np.int32) != 2**40)


def test_both_python_scalars_are_strong():
    assert_tensor_equal(tl.add(1, 2.5), np.add(1, 2.5))
    assert_tensor_equal(tl.multiply(2, 3), np.asarray(np.multiply(2, 3)))


# --------------------------------------------------------------------------------------------
# Integer and float division semantics.

@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_floor_divide_and_remainder_edge_cases(dtype):
    info = np.iinfo(dtype)
    a = np.array([7, -7, 7, -7, 0, 5, info.min, info.min, info.max, -1], dtype)
    b = np.array([2, 2, -2, -2, 3, 0, -1, 1, -1, 0], dtype)
    with np.errstate(all="ignore"):
        assert_tensor_equal(tl.floor_divide(tl.array(a), tl.array(b)), np.floor_divide(a, b))
        assert_tensor_equal(tl.remainder(tl.array(a), tl.array(b)), np.remainder(a, b))
        assert_tensor_equal(tl.array(a) // tl.array(b), a // b)
        assert_tensor_equal(tl.array(a) % tl.array(b), a % b)


def test_uint8_division_by_zero_gives_zero():
    a = np.array([5, 0, 255], np.uint8)
    z = np.zeros(3, np.uint8)
    with np.errstate(all="ignore"):
        assert_tensor_equal(tl.array(a) // tl.array(z), a // z)
        assert_tensor_equal(tl.array(a) % tl.array(z), a % z)


@pytest.mark.parametrize("dtype", FLOATS)
def test_float_floor_divide_and_remainder_special_values(dtype):
    vals = np.array([7.5, -7.5, 0.0, -0.0, np.inf, -np.inf, np.nan, 1e30, 3.0, -3.0], dtype)
    a, b = np.meshgrid(vals, vals)
    a, b = a.ravel(), b.ravel()
    with np.errstate(all="ignore"):
        want_fd, want_m = np.floor_divide(a, b), np.remainder(a, b)
    got_fd = np.asarray(tl.floor_divide(tl.array(a), tl.array(b)))
    got_m = np.asarray(tl.remainder(tl.array(a), tl.array(b)))
    np.testing.assert_array_equal(got_fd, want_fd)
    np.testing.assert_array_equal(got_m, want_m)
    np.testing.assert_array_equal(np.signbit(got_m), np.signbit(want_m))


def test_integer_power():
    a = np.array([-3, -2, 0, 1, 2, 3, 7], np.int64)
    b = np.array([3, 2, 0, 5, 10, 0, 30], np.int64)
    assert_tensor_equal(tl.power(tl.array(a), tl.array(b)), np.power(a, b))  # wraps like NumPy
    assert_tensor_equal(tl.array(a) ** 2, a ** 2)
    u = np.array([2, 3, 255], np.uint8)
    assert_tensor_equal(tl.array(u) ** 3, u ** 3)


def test_negative_integer_power_is_a_value_error():
    with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed"):
        tl.array([1, 2]) ** tl.array([1, -1])
    with pytest.raises(ValueError, match="negative integer powers"):
        tl.array([2], dtype="int32") ** -1
    with pytest.raises(ValueError):
        tl.power(2, tl.array([-2]))
    t = tl.array([1, 2])
    with pytest.raises(ValueError):
        t **= -1
    assert_tensor_equal(tl.array([2]) ** -1.0, np.array([2]) ** -1.0)  # float exponent: fine


def test_float_power_special_exponents():
    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0, np.inf, -np.inf, np.nan], np.float32)
    for e in [2, 2.0, 0.5, -1, 0, 3, -0.5]:
        with np.errstate(all="ignore"):
            check(tl.array(x) ** e, x ** e)


# --------------------------------------------------------------------------------------------
# Bitwise, logical, comparisons.

def test_bitwise_operators():
    a = np.array([0, 1, 5, -7, 255], np.int64)
    b = np.array([3, 1, 4, 2, 15], np.int64)
    ta, tb = tl.array(a), tl.array(b)
    assert_tensor_equal(ta & tb, a & b)
    assert_tensor_equal(ta | tb, a | b)
    assert_tensor_equal(ta ^ tb, a ^ b)
    assert_tensor_equal(~ta, ~a)
    assert_tensor_equal(ta & 6, a & 6)
    assert_tensor_equal(6 | ta, 6 | a)
    m, n = np.array([True, False, True]), np.array([True, True, False])
    assert_tensor_equal(tl.array(m) & tl.array(n), m & n)
    assert_tensor_equal(tl.array(m) ^ tl.array(n), m ^ n)
    assert_tensor_equal(~tl.array(m), ~m)
    u = np.array([0, 7, 200], np.uint8)
    assert_tensor_equal(~tl.array(u), ~u)
    assert_tensor_equal(tl.invert(tl.array(u)), np.invert(u))


@pytest.mark.parametrize("fn", [operator.and_, operator.or_, operator.xor])
def test_bitwise_on_floats_is_a_type_error(fn):
    with pytest.raises(TypeError, match="not supported for the input types"):
        fn(tl.array([1.0]), tl.array([2.0]))
    with pytest.raises(TypeError):
        fn(tl.array([1]), 2.5)
    with pytest.raises(TypeError):
        ~tl.array([1.0])


def test_logical_ops_on_any_dtype():
    a = np.array([0.0, 1.5, -2.0, np.nan])
    b = np.array([0, 0, 3, 1])
    for name in ["logical_and", "logical_or", "logical_xor"]:
        assert_tensor_equal(getattr(tl, name)(tl.array(a), tl.array(b)), getattr(np, name)(a, b))
    assert_tensor_equal(tl.logical_not(tl.array(a)), np.logical_not(a))
    assert_tensor_equal(tl.logical_and(tl.array(a), 2), np.logical_and(a, 2))


def test_comparisons_with_nan_and_mixed_dtypes():
    a = np.array([np.nan, 1.0, 2.0, -np.inf], np.float32)
    b = np.array([1, 1, 3, -5], np.int32)
    for sym, op, npf in OPERATORS[7:]:
        assert_tensor_equal(op(tl.array(a), tl.array(b)), npf(a, b))
        assert_tensor_equal(op(tl.array(a), 1), npf(a, 1))
        assert_tensor_equal(op(1.5, tl.array(b)), op(1.5, b))


def test_tensor_hash_is_identity_although_eq_is_elementwise():
    a = tl.array([1.0, 2.0])
    assert hash(a) == hash(a)
    assert len({a, tl.array([1.0, 2.0])}) == 2
    assert_tensor_equal(a == a, np.array([True, True]))
    assert (a == "text") is False  # NotImplemented, then Python's identity comparison
    with pytest.raises(TypeError):
        a + "text"
    with pytest.raises(TypeError):
        a + None


# --------------------------------------------------------------------------------------------
# Layouts: large (threaded) work, many dims, random broadcasting (non-contiguous views of every
# op: tests/test_op_registry.py).

@pytest.mark.parametrize("shape", [(300001,), (700, 301), (301, 700)])
def test_large_work_matches_numpy(shape):
    rng = np.random.RandomState(0)
    a = rng.randn(*shape).astype(np.float32)
    b = rng.randn(*shape[-1:]).astype(np.float32)
    check(tl.array(a) + tl.array(b), a + b)
    check(tl.exp(tl.array(a)), np.exp(a))
    check(tl.relu(tl.array(a)), np.maximum(a, 0))
    if len(shape) == 2:
        check(tl.asarray(a).T * 2.0, a.T * np.float32(2.0))
        check(tl.asarray(a).T + tl.asarray(a).T, a.T + a.T)


def test_many_dims():
    # the loop keeps at most 32 dims of size > 1 (2^33 elements at least); unit dims are dropped
    a = np.random.randn(*((1,) * 38 + (2, 3)))
    assert_tensor_equal(tl.array(a) + tl.array(a), a + a)
    b = np.random.randn(*((2,) * 12))
    assert_tensor_equal(tl.asarray(b).T * 3.0, b.T * 3.0)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_binary_broadcasting_property(data):
    sa, sb = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)).input_shapes
    dtype = data.draw(st.sampled_from(["uint8", "int64", "float32", "float64"]))
    name = data.draw(st.sampled_from(["add", "subtract", "multiply", "maximum", "greater", "remainder"]))
    rng = np.random.RandomState(data.draw(st.integers(0, 2**16)))
    a, b = rand(sa, dtype, rng), rand(sb, dtype, rng)
    check(getattr(tl, name)(tl.array(a), tl.array(b)), np_ref(getattr(np, name), a, b))


# --------------------------------------------------------------------------------------------
# where, clip, astype.

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint8, np.int16])
def test_where_blends_bits_exactly(dtype):
    """The contiguous paths select without a branch (a bitwise blend): every value, NaN payloads
    and -0.0 included, comes through bit for bit, with either side a broadcast scalar."""
    rng = np.random.default_rng(1)
    n = 1000
    c = rng.random(n) < 0.7
    if np.dtype(dtype).kind == "f":
        x = rng.standard_normal(n).astype(dtype)
        y = rng.standard_normal(n).astype(dtype)
        x[:6] = [np.nan, -0.0, np.inf, -np.inf, 0.0, -np.nan]
        y[3:9] = [-0.0, np.nan, -np.inf, 1e-40, -0.0, np.inf]
    else:
        x = rng.integers(0, 100, n).astype(dtype)
        y = rng.integers(0, 100, n).astype(dtype)
    for got, want in ((tl.where(tl.array(c), tl.array(x), tl.array(y)), np.where(c, x, y)),
                      (tl.where(tl.array(c), tl.array(x), tl.array(y[5])), np.where(c, x, y[5])),
                      (tl.where(tl.array(c), tl.array(x[1]), tl.array(y)), np.where(c, x[1], y))):
        got = np.asarray(got)
        assert got.dtype == want.dtype
        assert got.tobytes() == want.tobytes()


def test_where_matches_numpy():
    rng = np.random.RandomState(0)
    c = rng.rand(3, 4) > 0.5
    x = rng.randn(3, 4).astype(np.float32)
    y = rng.randint(0, 5, size=(4,)).astype(np.int32)
    assert_tensor_equal(tl.where(tl.array(c), tl.array(x), tl.array(y)), np.where(c, x, y))
    assert_tensor_equal(tl.where(tl.array(c), tl.array(x), 0.5), np.where(c, x, 0.5))
    assert_tensor_equal(tl.where(tl.array(c), 1, 2.0), np.where(c, 1, 2.0))
    assert_tensor_equal(tl.where(tl.array(c), tl.array(y), 7), np.where(c, y, 7))
    assert_tensor_equal(tl.where(tl.array(x) > 0, tl.array(x), 0.0), np.where(x > 0, x, 0.0))
    # a non-bool condition is read as truthiness
    assert_tensor_equal(tl.where(tl.array([0, 2, 0]), 1, 0), np.where(np.array([0, 2, 0]), 1, 0))
    with pytest.raises(ValueError, match="could not be broadcast"):
        tl.where(tl.array(c), tl.array(np.ones(5)), 0.0)


def test_clip_matches_numpy():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, np.nan], np.float32)
    t = tl.array(x)
    assert_tensor_equal(tl.clip(t, -1, 1), np.clip(x, -1, 1))
    assert_tensor_equal(t.clip(0.0, None), np.clip(x, 0.0, None))
    assert_tensor_equal(t.clip(None, 0.25), np.clip(x, None, 0.25))
    assert_tensor_equal(tl.clip(t, min=-0.5, max=0.5), np.clip(x, min=-0.5, max=0.5))
    lo = np.array([-1.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    assert_tensor_equal(tl.clip(t, tl.array(lo), 1.5), np.clip(x, lo, 1.5))
    i = np.array([1, 5, 9], np.uint8)
    assert_tensor_equal(tl.clip(tl.array(i), 2, 7), np.clip(i, 2, 7))
    assert_tensor_equal(tl.clip(tl.array(i), 2.5, 7), np.clip(i, 2.5, 7))
    assert_tensor_equal(tl.clip(tl.array(x), 1, 0), np.clip(x, 1, 0))  # lo > hi: hi wins, like NumPy


def test_astype():
    x = np.array([1.7, -2.2, 300.0])
    t = tl.array(x)
    for d in DTYPES:
        with np.errstate(all="ignore"):
            assert_tensor_equal(t.astype(d), x.astype(d))
    assert t.astype("float64") is not t
    assert t.astype("float64", copy=False) is t
    assert_tensor_equal(tl.astype(t, "float32"), x.astype(np.float32))


# --------------------------------------------------------------------------------------------
# In-place forms.

INPLACE = [("+=", operator.iadd), ("-=", operator.isub), ("*=", operator.imul), ("/=", operator.itruediv),
           ("//=", operator.ifloordiv), ("%=", operator.imod), ("**=", operator.ipow), ("&=", operator.iand),
           ("|=", operator.ior), ("^=", operator.ixor)]


@pytest.mark.parametrize("sym,op", INPLACE, ids=[s for s, _ in INPLACE])
@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float64", "bool", "uint8"])
def test_inplace_matches_numpy_and_writes_into_storage(sym, op, dtype):
    rng = np.random.RandomState(2)
    a = rand((3, 4), dtype, rng, nonneg=True)
    other = rand((4,), dtype, rng, nonneg=True)
    if dtype in INTS:
        other = other % 3 + 1
    for b in [other, 2, 1.5, True]:
        na = a.copy()
        try:
            with np.errstate(all="ignore"):
                want = op(na, b)
        except (TypeError, ValueError) as e:
            t = tl.array(a)
            with pytest.raises(type(e) if not isinstance(e, TypeError) else TypeError):
                op(t, b if np.isscalar(b) else tl.array(b))
            continue
        arr = a.copy()
        t = tl.asarray(arr)  # shares arr's memory
        t2 = op(t, b if np.isscalar(b) else tl.array(b))
        assert t2 is t
        check(t, want)
        np.testing.assert_allclose(arr, np.asarray(want), rtol=1e-6)  # written into the storage


def test_inplace_same_kind_casting():
    t = tl.array([1, 2, 3])
    with pytest.raises(TypeError, match=r"Cannot cast ufunc 'add' output from dtype\('float64'\) to dtype\('int64'\)"):
        t += 1.5
    with pytest.raises(TypeError, match="same_kind"):
        t /= 2
    f = tl.array([1.0, 2.0], dtype="float32")
    f += tl.array([0.5, 0.25])  # float64 into float32: same kind, allowed
    assert f.dtype == np.float32
    assert_tensor_equal(f, np.array([1.5, 2.25], np.float32))
    i = tl.array([1, 2], dtype="int32")
    i += tl.array([10, 20])  # int64 into int32: same kind
    assert_tensor_equal(i, np.array([11, 22], np.int32))
    b = tl.array([True, False])
    with pytest.raises(TypeError):
        b += 1  # int64 into bool is not same_kind
    u = tl.array([1, 2], dtype="uint8")
    with pytest.raises(OverflowError):
        u += 300


def test_inplace_on_views_writes_the_base():
    base = np.arange(12.0).reshape(3, 4)
    t = tl.asarray(base)
    v = t.T  # a view
    v += 100.0
    np.testing.assert_array_equal(base, np.arange(12.0).reshape(3, 4) + 100)
    r = t.reshape(12)
    r *= 2
    np.testing.assert_array_equal(base, (np.arange(12.0).reshape(3, 4) + 100) * 2)


def test_inplace_with_overlapping_operand():
    a = np.arange(9.0).reshape(3, 3)
    t = tl.array(a)
    t += t.T
    assert_tensor_equal(t, a + a.T)
    t2 = tl.array(a)
    t2 += t2
    assert_tensor_equal(t2, a + a)


def test_inplace_broadcast_shape_must_match():
    t = tl.array(np.ones(3))
    with pytest.raises(ValueError, match=r"non-broadcastable output operand with shape \(3,\).*\(2,3\)"):
        t += tl.array(np.ones((2, 3)))
    with pytest.raises(ValueError, match="could not be broadcast"):
        t += tl.array(np.ones(4))


def test_inplace_refuses_leaves_requiring_grad_unless_no_grad():
    # Non-leaf targets and sources with history are rebased instead (tests/test_inplace_autograd.py).
    w = tl.array([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w -= 1.0
    with tl.no_grad():
        w -= 0.5 * tl.array([2.0, 2.0])
    assert_tensor_equal(w, np.array([0.0, 1.0]))
    assert w.requires_grad


def test_inplace_refuses_read_only_storage():
    a = np.ones(3)
    a.flags.writeable = False
    t = tl.asarray(a)
    with pytest.raises(ValueError, match="read-only"):
        t += 1.0
    np.testing.assert_array_equal(a, np.ones(3))
    b = tl.broadcast_to(tl.array([1.0, 2.0]), (3, 2))  # elements share memory: read-only like NumPy's
    with pytest.raises(ValueError, match="read-only"):
        b *= 2.0


def test_numpy_scalars_are_strong_like_in_numpy():
    x = np.ones(3, np.float32)
    t = tl.asarray(x)
    for s in [np.float64(2.0), np.float32(2.0), np.int64(3), np.uint8(3)]:
        assert_tensor_equal(t * s, x * s)  # (s + t: NumPy's scalar answers first, through __array__)
        assert_tensor_equal(tl.add(t, s), np.add(x, s))
    u = tl.array([1, 2], dtype="uint8")
    assert_tensor_equal(u + np.int64(300), np.array([1, 2], np.uint8) + np.int64(300))
