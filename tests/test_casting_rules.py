"""NumPy's casting and NaN rules on every write into an existing tensor (issue 11): in-place
operators and ufunc out= (same_kind), setitem and fill (Python scalars as NumPy 2, non-finite
floats into integers refused), read-only tensors and exports, and reductions' dtype=.

The oracle is NumPy itself: each case runs on NumPy and on tensorlet and must give the same
values and dtype, or an exception of the same class (NumPy's UFuncTypeError is a TypeError)."""
import itertools
import warnings

import numpy as np
import pytest

import tensorlet as tl

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
          "float64"]
INPLACE = ["__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__", "__ipow__",
           "__iand__", "__ior__", "__ixor__"]
UFUNCS = ["add", "subtract", "multiply", "divide", "floor_divide", "remainder", "power", "maximum", "minimum",
          "bitwise_and", "equal", "less"]
CLASSES = (OverflowError, TypeError, ValueError, ZeroDivisionError, IndexError)


def outcome(fn):
    """('ok', array) or ('raise', the first of CLASSES the exception is an instance of)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return "ok", np.asarray(fn())
        except CLASSES as e:
            assert str(e), f"{type(e).__name__} without a message"
            return "raise", next(c for c in CLASSES if isinstance(e, c))


def assert_same(got, want, what):
    assert got[0] == want[0], f"{what}: tensorlet {got}, NumPy {want}"
    if got[0] == "raise":
        assert got[1] is want[1], f"{what}: tensorlet raised {got[1].__name__}, NumPy {want[1].__name__}"
        return
    g, w = got[1], want[1]
    assert g.dtype == w.dtype, f"{what}: dtype {g.dtype} vs NumPy {w.dtype}"
    np.testing.assert_array_equal(g, w, err_msg=what)


def pairs(fns):
    return [(f, a, b) for f in fns for a in DTYPES for b in DTYPES]


def base(dt):
    return np.array([3, 1, 2]).astype(dt)


def operand(dt):
    return np.array([1, 2, 1]).astype(dt)


# ---- in-place operators: same_kind ---------------------------------------------------------

# The dtype-pair tests loop over the ops inside one test: 144 pairs times 10 ops as separate
# tests would cost more in pytest's bookkeeping than in the checks.
@pytest.mark.parametrize("dst,src", list(itertools.product(DTYPES, DTYPES)))
def test_inplace_operator_tensor_operand(dst, src):
    def run(mod, op):
        a = mod.array(base(dst))
        r = getattr(a, op)(mod.array(operand(src)))
        if r is NotImplemented:  # NumPy: no loop for these dtypes
            raise TypeError("not implemented")
        return a
    for op in INPLACE:
        assert_same(outcome(lambda: run(tl, op)), outcome(lambda: run(np, op)), f"{dst} {op} {src}")


@pytest.mark.parametrize("op", ["__iadd__", "__imul__", "__isub__", "__ifloordiv__", "__itruediv__", "__ior__"])
@pytest.mark.parametrize("dst", DTYPES)
@pytest.mark.parametrize("value", [1, -1, 300, 2**40, 1.5, True])
def test_inplace_operator_python_scalar(op, dst, value):
    def run(mod):
        a = mod.array(base(dst))
        getattr(a, op)(value)
        return a
    assert_same(outcome(lambda: run(tl)), outcome(lambda: run(np)), f"{dst} {op} {value!r}")


def test_issue_reproducer_uint8_plus_int64_is_a_type_error():
    u = tl.array([250], dtype="uint8")
    with pytest.raises(TypeError, match="same_kind"):
        u += tl.array([10])
    assert u.tolist() == [250]  # nothing written
    u += 10  # a Python int is weak: it becomes uint8 and wraps, as NumPy
    assert u.tolist() == [4]


# ---- ufunc out= ------------------------------------------------------------------------------

@pytest.mark.parametrize("src,dst", list(itertools.product(DTYPES, DTYPES)))
def test_binary_out_dtype_pairs(src, dst):
    def run(mod, fn):
        out = mod.zeros(3, dtype=dst)
        r = getattr(mod, fn)(mod.array(base(src)), mod.array(operand(src)), out=out)
        assert r is out
        return out
    for fn in UFUNCS:
        assert_same(outcome(lambda: run(tl, fn)), outcome(lambda: run(np, fn)), f"{fn}({src}, out={dst})")


@pytest.mark.parametrize("src,dst", list(itertools.product(DTYPES, DTYPES)))
def test_unary_out_dtype_pairs(src, dst):
    def run(mod, fn):
        out = mod.zeros(3, dtype=dst)
        r = getattr(mod, fn)(mod.array(base(src)), out=out)
        assert r is out
        return out
    for fn in ["exp", "sqrt", "negative", "abs", "square", "sign", "isnan", "logical_not"]:
        got, want = outcome(lambda: run(tl, fn)), outcome(lambda: run(np, fn))
        if got[0] == want[0] == "ok" and got[1].dtype.kind == "f":
            np.testing.assert_allclose(got[1], want[1], rtol=1e-3 if got[1].dtype == np.float16 else 1e-6)
            assert got[1].dtype == want[1].dtype
        else:
            assert_same(got, want, f"{fn}({src}, out={dst})")


def test_out_broadcasts_inputs_to_out_and_handles_overlap():
    x = tl.array([1.0, 2.0, 3.0])
    out = tl.zeros((2, 3))
    assert tl.add(x, 1.0, out=out) is out  # inputs broadcast to out's shape, as NumPy
    np.testing.assert_array_equal(out.numpy(), np.add(np.array([1.0, 2.0, 3.0]), 1.0, out=np.zeros((2, 3))))
    # out is an input, read in another order: the result is computed before it is written.
    a = np.arange(6.0)
    t = tl.array(a)
    tl.add(t, t[::-1], out=t)
    np.testing.assert_array_equal(t.numpy(), a + a[::-1])
    assert tl.multiply(t, 2, out=(t,)) is t  # NumPy's tuple spelling
    np.testing.assert_array_equal(t.numpy(), (a + a[::-1]) * 2)


def test_out_rejects_bad_targets():
    with pytest.raises(ValueError, match="non-broadcastable output operand"):
        tl.add(tl.ones((2, 3)), 1.0, out=tl.zeros(3))  # out never broadcasts
    with pytest.raises(ValueError, match="read-only"):
        tl.exp(tl.ones(3), out=tl.broadcast_to(tl.zeros(1), (3,)))
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="assignment destination is read-only"):
        tl.add(tl.ones(3), 1.0, out=tl.asarray(ro))
    with pytest.raises(TypeError):
        tl.add(tl.ones(3), 1.0, out=np.zeros(3))
    with pytest.raises(ValueError, match="exactly one"):
        tl.add(tl.ones(3), 1.0, out=(tl.zeros(3), tl.zeros(3)))


def test_out_refused_under_autograd():
    w = tl.array([1.0, 2.0], requires_grad=True)
    out = tl.zeros(2)
    with pytest.raises(RuntimeError, match="out= is not differentiable"):
        tl.multiply(w, 2.0, out=out)
    with tl.no_grad():
        tl.multiply(w, 2.0, out=out)
    assert out.tolist() == [2.0, 4.0]


def test_take_out_same_kind():
    a = np.arange(6.0).reshape(2, 3)
    out = tl.zeros(2, dtype="float32")  # float64 -> float32 is same_kind
    tl.take(tl.array(a), [4, 1], out=out)
    assert out.tolist() == [4.0, 1.0]
    out_i = tl.zeros(2, dtype="int64")
    tl.take(tl.array(a.astype(np.int32)), [4, 1], out=out_i)
    assert out_i.tolist() == [4, 1]
    with pytest.raises(TypeError, match="same_kind"):
        tl.take(tl.array(a), [0], out=tl.zeros(1, dtype="int64"))


# ---- setitem and fill ------------------------------------------------------------------------

SCALARS = [float("nan"), float("inf"), -float("inf"), 1e20, 2.7, -1.5, 300, -1, 2**40, 2**63, 2**64, -2**63,
           1j, 1 + 0j, True, False, 0.5]


@pytest.mark.parametrize("how", ["item", "slice", "mask", "fill"])
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("value", SCALARS, ids=repr)
def test_python_scalar_assignment(how, dt, value):
    def run(mod):
        a = mod.zeros(3, dtype=dt)
        if how == "item":
            a[0] = value
        elif how == "slice":
            a[1:] = value
        elif how == "mask":
            a[mod.array([True, False, True])] = value
        else:
            a.fill(value)
        return a
    assert_same(outcome(lambda: run(tl)), outcome(lambda: run(np)), f"{dt} {how} {value!r}")


def test_issue_reproducers_nan_and_inf_into_integers():
    i = tl.array([1, 2, 3])
    with pytest.raises(ValueError, match="cannot convert float NaN to integer"):
        i[0] = float("nan")
    j = tl.array([1, 2, 3], dtype="int32")
    with pytest.raises(OverflowError, match="cannot convert float infinity to integer"):
        j.fill(float("inf"))  # NumPy: OverflowError, as Python's int(inf)
    assert i.tolist() == [1, 2, 3] and j.tolist() == [1, 2, 3]


@pytest.mark.parametrize("dst", ["uint8", "int32", "int64", "int8", "int16", "uint16", "uint32", "uint64"])
@pytest.mark.parametrize("src", ["float16", "float32", "float64"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e30])
def test_non_finite_float_values_into_integers_raise(dst, src, bad):
    # NumPy stores an undefined number with a RuntimeWarning; tensorlet refuses (README).
    v = np.array([1.0, bad, 2.0], dtype=src)
    for assign in (lambda x: x.__setitem__(slice(None), tl.array(v)),
                   lambda x: x.__setitem__(slice(None), v),
                   lambda x: x.__setitem__([0, 1, 2], tl.array(v)),
                   lambda x: x.__setitem__(tl.array([True, True, True]), tl.array(v))):
        x = tl.zeros(3, dtype=dst)
        with pytest.raises(ValueError, match=f"{src} values into an {dst} tensor"):
            assign(x)
        assert x.tolist() == [0, 0, 0]  # checked before anything is written


def test_array_values_cast_like_numpy_on_assignment():
    for dst, v in [("uint8", np.array([300, -1])), ("int32", np.array([2.9, -2.9])), ("bool", np.array([np.nan, 0.0])),
                   ("uint8", np.array([255.9, 3.5], np.float32)), ("float32", np.array([1e300, 2]))]:
        x = tl.zeros(2, dtype=dst)
        n = np.zeros(2, dtype=dst)
        with np.errstate(all="ignore"):
            x[:] = v
            n[:] = v
        np.testing.assert_array_equal(x.numpy(), n)
    x = tl.zeros(2, dtype="uint8")
    x.fill(np.int64(300))  # NumPy integers wrap, as NumPy casts arrays
    assert x.tolist() == [44, 44]


def test_astype_keeps_numpys_unsafe_cast():
    # Explicit astype stays NumPy's unsafe cast: NaN / inf become the int's minimum (x86).
    r = tl.array([np.nan, np.inf, 1.5]).astype("int64").tolist()
    assert r == [np.iinfo(np.int64).min, np.iinfo(np.int64).min, 1]


# ---- read-only -------------------------------------------------------------------------------

def test_broadcast_views_export_read_only():
    b = tl.array([1.0, 2.0])
    bc = tl.broadcast_to(b, (2, 2))
    n = np.asarray(bc)
    assert not n.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        n[0, 0] = 9
    assert b.tolist() == [1.0, 2.0]
    assert not bc.numpy().flags.writeable
    assert memoryview(bc).readonly
    assert not np.array(memoryview(bc), copy=False).flags.writeable


def test_ordinary_tensors_export_writable_and_zero_copy():
    t = tl.array([1.0, 2.0, 3.0])
    for n in (np.asarray(t), t.numpy(), np.asarray(memoryview(t))):
        assert n.flags.writeable
        n[0] = 7.0
        assert t.tolist()[0] == 7.0  # same memory
    one = tl.broadcast_to(tl.array([5.0]), (1,))  # a size-1 broadcast dim aliases nothing
    assert np.asarray(one).flags.writeable


def test_tensor_from_read_only_numpy_is_read_only_with_its_views():
    ro = np.arange(6.0).reshape(2, 3)
    ro.flags.writeable = False
    t = tl.asarray(ro)
    views = [t, t[0], t.T, t.reshape(6), t[:, ::2], t.detach()]
    writes = [lambda v: v.__iadd__(1.0), lambda v: v.__setitem__(0, 1.0), lambda v: v.fill(0.0),
              lambda v: tl.add(v, 1.0, out=v), lambda v: v.__imul__(tl.ones(v.shape))]
    for v in views:
        assert not np.asarray(v).flags.writeable
        for w in writes:
            with pytest.raises(ValueError, match="assignment destination is read-only"):
                w(v)
    with pytest.raises(ValueError, match="read-only"):
        tl.random.shuffle(t)
    np.testing.assert_array_equal(ro, np.arange(6.0).reshape(2, 3))
    c = tl.array(ro)  # a copy is writable
    c += 1
    assert np.asarray(c).flags.writeable


# ---- reductions' dtype= ----------------------------------------------------------------------

def reduction_input(dt):
    rng = np.random.default_rng(7)
    x = rng.integers(-5, 120, size=(37, 53))
    if dt == "bool":
        return x % 3 == 0
    return x.astype(dt)


@pytest.mark.parametrize("src,dst", list(itertools.product(DTYPES, DTYPES)))
def test_reduction_dtype_pairs(src, dst):
    for fn, axis in itertools.product(["sum", "prod", "mean"], [None, 0, 1]):
        x = reduction_input(src)
        if fn == "prod":
            x = x[:4, :5]  # small products: the interesting part is the accumulator, not overflow of float
        got = getattr(tl, fn)(tl.array(x), axis=axis, dtype=dst)
        with np.errstate(all="ignore"):
            want = np.asarray(getattr(np, fn)(x, axis=axis, dtype=dst))
        g = got.numpy()
        assert g.dtype == want.dtype, f"{fn}({src}, dtype={dst}): {g.dtype} vs NumPy {want.dtype}"
        if want.dtype.kind == "f":
            # float16 accumulates in float32 in both, but NumPy rounds to float16 between its
            # inner loops (per row for axis=0): a few float16 ulps apart.
            rtol = {np.dtype("float16"): 1e-2, np.dtype("float32"): 2e-6}.get(want.dtype, 1e-12)
            np.testing.assert_allclose(g.astype(np.float64), want.astype(np.float64), rtol=rtol,
                                       err_msg=f"{fn}({src}, dtype={dst}, axis={axis})")
        else:
            np.testing.assert_array_equal(g, want, err_msg=f"{fn}({src}, dtype={dst}, axis={axis})")
        m = getattr(tl.array(x), fn)(axis=axis, dtype=dst, keepdims=True)  # the method, keepdims
        assert m.shape == np.asarray(getattr(np, fn)(x, axis=axis, dtype=dst, keepdims=True)).shape


def test_issue_reproducer_int32_sum_wraps():
    r = tl.sum(tl.array([2**31 - 1, 1]), dtype="int32")
    assert r.dtype == np.int32 and r.item() == -2**31


def test_float32_sum_of_int64_accumulates_in_float32():
    x = np.full(3, 2**24, dtype=np.int64)
    x[1] = 1  # 2**24 + 1 is not a float32: the float32 accumulator drops it, as NumPy's
    assert tl.sum(tl.array(x), dtype="float32").item() == np.sum(x, dtype=np.float32)
    assert tl.sum(tl.array(x)).item() == 2**25 + 1


def test_reductions_without_dtype_keep_numpys_defaults():
    for dt in DTYPES:
        x = reduction_input(dt)
        t = tl.array(x)
        assert tl.sum(t).dtype == np.sum(x).dtype  # unsigned ints: uint64, as NumPy
        assert tl.mean(t).dtype == np.mean(x).dtype
        assert tl.prod(t[:2, :2]).dtype == np.prod(x[:2, :2]).dtype


def test_sum_dtype_keeps_gradient_between_floats():
    w = tl.array([1.0, 2.0, 3.0], requires_grad=True)
    s = tl.sum(w * w, dtype="float32")
    assert s.dtype == np.float32
    s.backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0, 6.0])


def test_creation_with_an_integer_dtype_uses_the_same_rules():
    with pytest.raises(ValueError, match="NaN"):
        tl.array([1.0, float("nan")], dtype="int64")  # NumPy: the same ValueError
    with pytest.raises(OverflowError):
        tl.array([300], dtype="uint8")  # NumPy 2: the same OverflowError
    with pytest.raises(ValueError, match="NaN"):
        tl.full(2, float("nan"), dtype="int32")  # NumPy stores a filler with a RuntimeWarning
    with pytest.raises(OverflowError, match="infinity"):
        tl.full(2, float("inf"), dtype="int64")
    with pytest.raises(ValueError, match="float64 values into an int32 tensor"):
        tl.full(2, np.array([np.nan]), dtype="int32")
    assert tl.full(2, 2.7, dtype="int32").tolist() == np.full(2, 2.7, dtype=np.int32).tolist()
    assert tl.array(np.array([1.9, -1.9]), dtype="int32").tolist() == [1, -1]  # arrays: astype, as NumPy
