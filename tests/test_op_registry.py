"""Registry-driven tests: every op of the C++ op tables (tests/op_registry.py reads them from
``_core._op_table()``) against its NumPy oracle over every dtype (values and result dtype),
float64 gradcheck when differentiable, broadcasting, non-contiguous, 0-size and 0-d inputs,
``out=``, methods, captured replay, and its error inputs. Adding a table line adds its tests;
a line whose oracle or domain cannot be resolved fails here."""
import numpy as np
import pytest

import tensorlet as tl
from tensorlet import _core
from tensorlet.capture import CapturedFunction

from gradcheck import gradcheck
from op_registry import DTYPES, by_family, registry, resolve_ref, sample

OPS = registry()
UNARY = by_family("unary")
BINARY = by_family("binary")
REDUCE = by_family("reduce")
ELEMENTWISE = UNARY + BINARY
DIFF_ELEMENTWISE = [op for op in ELEMENTWISE if op.differentiable]
DIFF_REDUCE = [op for op in REDUCE if op.differentiable]

UNARY_SHAPES = [(), (0, 3), (2, 3)]                          # 0-d, 0-size, plain
BROADCAST_PAIRS = [((3,), (3,)), ((2, 3), (3,)), ((4, 1), (1, 3)), ((), (2, 2)), ((2, 1, 3), (4, 1))]
BINARY_SHAPES = [((), ()), ((0, 3), (3,)), ((2, 3), (2, 3)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 3), (3,))]


def ids(ops):
    return [op.name for op in ops]


def check(got, want):
    """got (a Tensor) equals NumPy's want in shape, dtype and values (NaN where NumPy has NaN)."""
    assert isinstance(got, tl.Tensor)
    g = np.asarray(got)
    assert g.shape == want.shape, (g.shape, want.shape)
    assert g.dtype == want.dtype, (g.dtype, want.dtype)
    if want.dtype.kind == "f":
        # float16: both compute in float32 and round; libm differences move the last bit.
        rtol, atol = {np.dtype("float16"): (2e-3, 1e-3), np.dtype("float32"): (1e-5, 1e-6)}.get(want.dtype,
                                                                                                  (1e-12, 1e-13))
        np.testing.assert_allclose(g.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(g, want)


def work_dtype(op):
    """A dtype every op of the row accepts (and that float64 gradients make sense for)."""
    return "int64" if op.dtypes == "Integral" else "float64"


def call(op, arrays, **kw):
    return op.fn(*[tl.asarray(a) for a in arrays], **kw)


def test_table_is_complete():
    """Each row has a resolvable oracle, a known domain and dtype class, and is bound."""
    assert len(UNARY) >= 36 and len(BINARY) >= 21 and len(REDUCE) >= 11
    names = [op.name for op in OPS]
    assert len(names) == len(set(names)), "an op is in two tables"
    for op in OPS:
        resolve_ref(op.numpy_ref)  # LookupError names the row
        sample(op.domain, "float64", (2,), np.random.RandomState(0))
        assert op.dtypes in {"unary": {"Same", "NoBool", "Integral", "Float", "Round", "ToBool"},
                             "binary": {"Same", "NoBool", "TrueDiv", "Float", "Integral", "Compare", "Logical"},
                             "reduce": {"Sum", "Mean", "Same", "ToBool", "Index"}}[op.family], op
        assert callable(getattr(tl, op.name, None)), f"tl.{op.name} is not bound"
        if op.method:
            assert callable(getattr(tl.Tensor, op.method, None)), f"Tensor.{op.method} is not bound"
        if op.operator:
            assert callable(getattr(tl.Tensor, f"__{op.operator}__", None)), f"Tensor.__{op.operator}__ is not bound"


def test_binary_ops_added_as_table_lines_are_bound_with_their_gradients():
    # hypot and logaddexp were added as one table line + kernel case + formula each (issue 12).
    binary = {op.name: op for op in BINARY}
    for name in ("hypot", "logaddexp"):
        assert binary[name].differentiable and binary[name].dtypes == "Float"


def test_the_new_activation_and_array_api_ops_are_in_the_table():
    wanted = {"tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "expm1",
              "log1p", "log2", "log10", "floor", "ceil", "trunc", "round", "reciprocal", "erf", "negative",
              "positive"}
    assert wanted <= {op.name for op in UNARY}


# ---------------------------------------------------------------------------------------------
# Forward against NumPy over every dtype; TypeError naming the op and dtype where NumPy has no
# loop (or gives a dtype tensorlet lacks).

def _forward(op, arrays, kw=None):
    kw = kw or {}
    status, want = op.expected(*arrays, **kw)
    if status == "TypeError":
        with pytest.raises(TypeError) as e:
            call(op, arrays, **kw)
        msg = str(e.value)
        assert f"[{op.name}]" in msg, msg
        assert any(str(a.dtype) in msg for a in arrays), msg
        return None
    got = call(op, arrays, **kw)
    check(got, want)
    return want


@pytest.mark.parametrize("op", UNARY, ids=ids(UNARY))
def test_unary_forward_matches_numpy_over_dtypes(op):
    rng = np.random.RandomState(1)
    for dtype in DTYPES:
        for (x,) in op.samples(dtype, UNARY_SHAPES, rng):
            _forward(op, [x])


@pytest.mark.parametrize("op", BINARY, ids=ids(BINARY))
def test_binary_forward_and_broadcasting_match_numpy_over_dtypes(op):
    rng = np.random.RandomState(2)
    for dtype in DTYPES:
        for a, b in op.samples(dtype, BINARY_SHAPES, rng):
            _forward(op, [a, b])
    # mixed dtypes promote as NumPy 2
    for da, db in [("uint8", "int32"), ("int32", "float32"), ("int64", "float32"), ("bool", "float64"),
                   ("uint64", "int64"), ("int8", "uint8"), ("uint16", "float16"), ("int8", "float16"),
                   ("uint32", "int16")]:
        a = sample(op.domain, da, (2, 3), rng, 0)
        b = sample(op.domain, db, (3,), rng, 1)
        _forward(op, [a, b])


@pytest.mark.parametrize("op", REDUCE, ids=ids(REDUCE))
def test_reduce_forward_matches_numpy_over_dtypes_and_axes(op):
    rng = np.random.RandomState(3)
    axes = [None, 0, -1] + ([] if op.dtypes == "Index" else [(0, 1)])
    for dtype in DTYPES:
        x = sample(op.domain, dtype, (3, 4), rng)
        for axis in axes:
            for keepdims in (False, True):
                _forward(op, [x], dict(axis=axis, keepdims=keepdims))
        _forward(op, [x[1, 1].copy()])  # 0-d


# ---------------------------------------------------------------------------------------------
# Layouts: non-contiguous (transposed, strided) and 0-size inputs.

def _views(x):
    """(tensor, array) pairs of shape (4, 6) cut from x (8, 12) in other layouts: strided,
    transposed, negative strides, broadcast (stride 0) rows and columns."""
    t = tl.asarray(x)
    return [(t[::2, ::2], x[::2, ::2]), (t[:6, :4].T, x[:6, :4].T), (t[:4, :6][::-1, ::-1], x[:4, :6][::-1, ::-1]),
            (tl.broadcast_to(t[0, :6], (4, 6)), np.broadcast_to(x[0, :6], (4, 6))),
            (tl.broadcast_to(t[:4, :1], (4, 6)), np.broadcast_to(x[:4, :1], (4, 6)))]


@pytest.mark.parametrize("op", ELEMENTWISE + REDUCE, ids=ids(ELEMENTWISE + REDUCE))
def test_non_contiguous_inputs(op):
    rng = np.random.RandomState(4)
    for dtype in ("int32", "float32", "float64", "int8", "uint64", "float16"):
        x = sample(op.domain, dtype, (8, 12), rng, 0)
        y = sample(op.domain, dtype, (8, 12), rng, 1)
        vx, vy = _views(x), _views(y)
        for (tx, nx), (ty, ny) in zip(vx + vx[:1] * len(vy), vy + vy[::-1]):
            args = [nx, ny][:op.arity]
            status, want = op.expected(*args)
            if status == "ok":
                check(op.fn(*[tx, ty][:op.arity]), want)


@pytest.mark.parametrize("op", REDUCE, ids=ids(REDUCE))
def test_reduce_zero_size(op):
    x = np.zeros((0, 3), np.float64)
    for axis in (0, 1, None):
        if op.domain == "nonempty" and axis in (0, None):
            with pytest.raises(ValueError, match=r"zero-size|empty|attempt to get"):
                op.fn(tl.asarray(x), axis=axis)
        else:
            _forward(op, [x], dict(axis=axis))


# ---------------------------------------------------------------------------------------------
# out=, methods, errors.

@pytest.mark.parametrize("op", ELEMENTWISE, ids=ids(ELEMENTWISE))
def test_out_argument(op):
    rng = np.random.RandomState(5)
    args = [sample(op.domain, work_dtype(op), (2, 3), rng, k) for k in range(op.arity)]
    _, want = op.expected(*args)
    out = tl.empty((2, 3), dtype=want.dtype)
    assert op.fn(*[tl.asarray(a) for a in args], out=out) is out
    check(out, want)
    assert op.fn(*[tl.asarray(a) for a in args], out=(out,)) is out
    with pytest.raises(ValueError, match=r"\(3,?\).*\(2, ?3\)|\(2, ?3\).*\(3,?\)"):
        op.fn(*[tl.asarray(a) for a in args], out=tl.empty((3,), dtype=want.dtype))


@pytest.mark.parametrize("op", [op for op in OPS if op.method], ids=ids([op for op in OPS if op.method]))
def test_method_matches_function(op):
    rng = np.random.RandomState(6)
    x = tl.asarray(sample(op.domain, work_dtype(op), (2, 3), rng))
    check(getattr(x, op.method)(), np.asarray(op.fn(x)))


@pytest.mark.parametrize("op", BINARY, ids=ids(BINARY))
def test_binary_shape_mismatch_names_both_shapes(op):
    a, b = tl.ones((2, 3), dtype=work_dtype(op)), tl.ones((4,), dtype=work_dtype(op))
    with pytest.raises(ValueError) as e:
        op.fn(a, b)
    msg = str(e.value)
    assert op.name in msg and "(2,3)" in msg.replace(" ", "") and "(4,)" in msg.replace(" ", ""), msg


@pytest.mark.parametrize("op", UNARY, ids=ids(UNARY))
def test_unary_rejects_non_arrays_with_a_type_error(op):
    with pytest.raises(TypeError):
        op.fn("x")


@pytest.mark.parametrize("op", REDUCE, ids=ids(REDUCE))
def test_reduce_bad_axis_is_an_error_naming_the_op(op):
    with pytest.raises((ValueError, IndexError)) as e:
        op.fn(tl.ones((2, 3)), axis=5)
    assert op.name in str(e.value) or "axis" in str(e.value)


# ---------------------------------------------------------------------------------------------
# Python scalars: ONE weak-scalar rule (NumPy 2, NEP 50) for every binary op, its operator and
# its reflected operator: the scalar takes the tensor's dtype within its kind; an int that does
# not fit is an OverflowError except in comparisons (exact) and float loops (divide, hypot, ...).

SCALARS = [3, -2, 300, 2.5, True]
ERRORS = (TypeError, ValueError, OverflowError)


def _expected_with_scalar(op, args):
    """NumPy's result for operands mixing an array and a Python scalar, as tensorlet gives it:
    ("ok", array) or (exception class, None)."""
    try:
        want = np.asarray(op.ref(*args))
    except ERRORS as e:
        return next(k for k in ERRORS if isinstance(e, k)), None
    return "ok", want


def _check_call(status, want, fn):
    if status != "ok":
        with pytest.raises(status):
            fn()
        return
    check(fn(), want)


@pytest.mark.parametrize("op", BINARY, ids=ids(BINARY))
def test_weak_python_scalars_follow_numpy2(op):
    rng = np.random.RandomState(12)
    for dtype in DTYPES:
        x = sample(op.domain, dtype, (2, 3), rng, 0)
        for s in SCALARS:
            for args in ((x, s), (s, x)):
                status, want = _expected_with_scalar(op, args)
                _check_call(status, want, lambda: op.fn(*[tl.asarray(a) if isinstance(a, np.ndarray) else a
                                                          for a in args]))


OPERATOR_OPS = [op for op in BINARY if op.operator]


@pytest.mark.parametrize("op", OPERATOR_OPS, ids=ids(OPERATOR_OPS))
def test_operators_match_the_function(op):
    """t.__op__(other), the reflected other.__rop__ and the in-place t.__iop__ (NumPy's same_kind
    rule), with tensor, array and weak scalar operands."""
    rng = np.random.RandomState(13)
    fwd, refl, inpl = f"__{op.operator}__", f"__r{op.operator}__", f"__i{op.operator}__"
    compare = op.dtypes == "Compare"
    assert compare != hasattr(tl.Tensor, refl) and compare != hasattr(tl.Tensor, inpl)
    for dtype in DTYPES:
        x = sample(op.domain, dtype, (2, 3), rng, 0)
        y = sample(op.domain, dtype, (3,), rng, 1)
        for other in (y, tl.asarray(y), 3, 2.5, True):
            o = other if not isinstance(other, tl.Tensor) else np.asarray(other)
            status, want = _expected_with_scalar(op, (x, o))
            _check_call(status, want, lambda: getattr(tl.asarray(x), fwd)(other))
            if compare:
                continue
            if not isinstance(other, np.ndarray):  # the reflected operator of a tensor or scalar
                status, want = _expected_with_scalar(op, (o, x))
                _check_call(status, want, lambda: getattr(tl.asarray(x), refl)(other))
            # in place: NumPy's x op= other (same_kind casting into x's dtype)
            xi = x.copy()
            try:
                with np.errstate(all="ignore"):
                    op.ref(xi, o, out=xi)
                status = "ok"
            except ERRORS as e:
                status = next(k for k in ERRORS if isinstance(e, k))
            t = tl.array(x)
            if status == "ok" and _expected_with_scalar(op, (x, o))[0] == "ok":
                assert getattr(t, inpl)(other) is t
                check(t, xi)
            elif status != "ok":
                with pytest.raises(ERRORS):
                    getattr(t, inpl)(other)


# ---------------------------------------------------------------------------------------------
# Gradients (float64, finite differences), broadcasting ones included.

@pytest.mark.parametrize("op", DIFF_ELEMENTWISE, ids=ids(DIFF_ELEMENTWISE))
def test_gradcheck(op):
    rng = np.random.RandomState(7)
    shapes = UNARY_SHAPES[::2] if op.arity == 1 else BROADCAST_PAIRS
    for args in op.samples("float64", shapes, rng):
        gradcheck(op.fn, *args)


@pytest.mark.parametrize("op", DIFF_REDUCE, ids=ids(DIFF_REDUCE))
def test_reduce_gradcheck(op):
    rng = np.random.RandomState(8)
    x = sample(op.domain, "float64", (3, 4), rng)
    for axis in (None, 0, (0, 1)):
        gradcheck(lambda t: op.fn(t, axis=axis), x)


NON_DIFF = [op for op in ELEMENTWISE + REDUCE if not op.differentiable and op.dtypes != "Integral"]


@pytest.mark.parametrize("op", NON_DIFF, ids=ids(NON_DIFF))  # (integer-only ops cannot see grads)
def test_non_differentiable_ops_record_nothing(op):
    args = [tl.array(sample(op.domain, "float64", (2, 3), np.random.RandomState(9), k), requires_grad=True)
            for k in range(op.arity)]
    out = op.fn(*args)
    assert not out.requires_grad and out.grad_fn is None


# ---------------------------------------------------------------------------------------------
# Every op is recordable by a captured step (its generated function opens with TL_CAPTURE_OP).

@pytest.mark.parametrize("op", ELEMENTWISE + REDUCE, ids=ids(ELEMENTWISE + REDUCE))
def test_captured_replay_recomputes(op):
    rng = np.random.RandomState(10)
    f = CapturedFunction(lambda *xs: op.fn(*xs) * 1)
    for _ in range(4):
        args = [sample(op.domain, work_dtype(op), (2, 3), rng, k) for k in range(op.arity)]
        status, want = op.expected(*args)
        got = f(*args)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want) * 1, rtol=1e-12, equal_nan=True)
    assert f.stats()["replays"] == 2, op.name


def test_op_table_rows_are_plain_data():
    row = next(r for r in _core._op_table() if r["name"] == "exp")
    assert row == {"name": "exp", "family": "unary", "arity": 1, "dtypes": "Float", "differentiable": True,
                   "numpy_ref": "np.exp", "domain": "real", "method": "exp", "operator": None}
    row = next(r for r in _core._op_table() if r["name"] == "subtract")
    assert row["operator"] == "sub" and row["dtypes"] == "NoBool" and row["arity"] == 2
