"""Every real dtype of the Array API standard plus float16 (issue 15): names, creation, NumPy
promotion and interop, printing, pickling, and the float16 conversions bit for bit against
np.float16. The per-op checks over these dtypes are in test_op_registry.py and
test_casting_rules.py."""
import itertools
import pickle

import numpy as np
import pytest

import tensorlet as tl

INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
FLOATS = ["float16", "float32", "float64"]
DTYPES = ["bool"] + INTS + FLOATS


def test_dtype_objects_are_numpys():
    for name in DTYPES:
        assert getattr(tl, name if name != "bool" else "bool_") == np.dtype(name)


@pytest.mark.parametrize("dt", DTYPES)
def test_creation_functions(dt):
    assert tl.zeros((2, 3), dtype=dt).dtype == np.dtype(dt)
    np.testing.assert_array_equal(tl.ones(3, dtype=dt).numpy(), np.ones(3, dt))
    np.testing.assert_array_equal(tl.full(2, 1, dtype=dt).numpy(), np.full(2, 1, dt))
    if dt != "bool":
        np.testing.assert_array_equal(tl.arange(0, 7, 2, dtype=dt).numpy(), np.arange(0, 7, 2, dtype=dt))
    x = np.array([0, 1, 5], dtype=dt)
    for t in (tl.asarray(x), tl.array(x.tolist(), dtype=dt), tl.asarray(x.tolist(), dtype=dt)):
        assert t.dtype == np.dtype(dt)
        np.testing.assert_array_equal(t.numpy(), x)
    assert tl.asarray(x).tolist() == x.tolist()
    assert tl.asarray(x)[2].item() == x[2].item() and type(tl.asarray(x)[2].item()) is type(x[2].item())


def test_float16_arange_rounds_like_numpy():
    np.testing.assert_array_equal(tl.arange(0, 10, 0.3, dtype="float16").numpy(), np.arange(0, 10, 0.3, dtype=np.float16))


@pytest.mark.parametrize("dt", DTYPES)
def test_numpy_interop_is_zero_copy_both_ways(dt):
    x = np.arange(6).astype(dt).reshape(2, 3)
    t = tl.asarray(x)
    assert np.shares_memory(np.asarray(t), x)
    back = np.asarray(t)
    assert back.dtype == np.dtype(dt)
    t2 = tl.zeros(3, dtype=dt)
    np.asarray(t2)[1] = 1
    assert t2.tolist()[1] == 1


@pytest.mark.parametrize("dt", DTYPES)
def test_pickle_round_trip(dt):
    t = tl.asarray(np.array([[0, 1, 3]], dtype=dt))
    r = pickle.loads(pickle.dumps(t))
    assert r.dtype == t.dtype
    np.testing.assert_array_equal(r.numpy(), t.numpy())


def test_promotion_table_is_numpys():
    for a, b in itertools.product(DTYPES, DTYPES):
        x, y = np.ones(2, a), np.ones(2, b)
        got = (tl.asarray(x) + tl.asarray(y)).dtype
        assert got == np.result_type(x, y), (a, b, got)


def test_uint64_with_int64_is_float64_as_numpy():
    r = tl.asarray(np.array([2**64 - 1], np.uint64)) + tl.asarray(np.array([-1], np.int64))
    assert r.dtype == np.float64 and r.item() == float(2**64 - 2)


@pytest.mark.parametrize("dt", INTS + FLOATS)
@pytest.mark.parametrize("value", [1, -1, 2.5, True, 200, 2**63])
def test_weak_python_scalars(dt, value):
    def run(mod):
        return mod.asarray(np.array([3, 1], dtype=dt)) * value
    try:
        want = np.asarray(run(np))
    except OverflowError:
        with pytest.raises(OverflowError):
            run(tl)
        return
    got = run(tl).numpy()
    assert got.dtype == want.dtype, (dt, value)
    np.testing.assert_array_equal(got, want)


def test_uint64_values_above_int64():
    big = 2**64 - 5
    t = tl.asarray(np.array([big, 7], np.uint64))
    assert t.tolist() == [big, 7] and t[0].item() == big and int(t[0]) == big
    t[1] = 2**63
    assert t.tolist() == [big, 2**63]
    assert (t + 1).tolist() == [big + 1, 2**63 + 1]
    assert tl.sum(t).item() == (big + 2**63) % 2**64 and tl.sum(t).dtype == np.uint64
    assert tl.max(t).item() == big
    with pytest.raises(OverflowError):
        tl.zeros(1, dtype="int64") + 2**63
    with pytest.raises(OverflowError):
        tl.zeros(1, dtype="uint64") + 2**64


@pytest.mark.parametrize("dt", DTYPES)
def test_repr_and_str_match_numpy(dt):
    for x in (np.array([0, 1, 100], dtype=dt), np.array([[1, 0], [0, 1]], dtype=dt), np.array(7, dtype=dt)):
        t = tl.asarray(x)
        assert str(t) == str(x)
        want = repr(x).replace("array(", "tensor(").replace("\n      ", "\n       ")
        assert repr(t) == want


def test_repr_of_extreme_integers_and_float16():
    for x in (np.array([np.iinfo(np.uint64).max, 0], np.uint64), np.array([-128, 127], np.int8),
              np.array([0.1, 1000.0, 2.5], np.float16), np.array([np.nan, -np.inf, 1e-5, 65504], np.float16),
              np.array([1 / 3, 0.5], np.float16)):
        assert str(tl.asarray(x)) == str(x)
    for v in (0.1, 999.0, 1000.0, 1 / 3, 6e4, 1e-5, -0.0):
        assert str(tl.asarray(np.float16(v))) == str(np.float16(v))


def test_bool_ops_numpy_computes_in_int8():
    b = tl.asarray(np.array([True, False]))
    assert tl.square(b).dtype == np.int8
    assert tl.floor_divide(b, b).dtype == np.int8
    assert tl.round(b).dtype == np.float16
    assert tl.exp(b).dtype == np.float16 and tl.sin(tl.ones(2, dtype="int16")).dtype == np.float32
    with pytest.raises(TypeError, match=r"\[negative\].*bool"):
        tl.negative(b)


# ---- float16 conversions, bit for bit --------------------------------------------------------

ALL_HALF = np.arange(65536, dtype=np.uint16).view(np.float16)


def same_bits(got, want):
    """Equal as float16 bit patterns, any NaN matching any NaN."""
    g, w = np.asarray(got, np.float16), np.asarray(want, np.float16)
    nan = np.isnan(w)
    np.testing.assert_array_equal(np.isnan(g), nan)
    np.testing.assert_array_equal(g[~nan].view(np.uint16), w[~nan].view(np.uint16))


def test_float16_to_float32_and_float64_for_all_65536_patterns():
    t = tl.asarray(ALL_HALF)
    for dt in ("float32", "float64"):
        got = t.astype(dt).numpy()
        want = ALL_HALF.astype(dt)
        np.testing.assert_array_equal(got, want)  # NaN == NaN in assert_array_equal
    same_bits(t.astype("float32").astype("float16").numpy(), ALL_HALF)
    same_bits(t.astype("float64").astype("float16").numpy(), ALL_HALF)


def _float32_probes():
    """Every float16 value's neighbours as float32: the exact midpoints to the next float16
    (ties), one float32 ulp either side of them, and a spread of random bit patterns."""
    h = ALL_HALF[np.isfinite(ALL_HALF)].astype(np.float64)
    h = np.unique(h)
    mids = (h[:-1] + h[1:]) / 2  # exact in float64, and in float32 (12 significant bits)
    m32 = mids.astype(np.float32)
    up = np.nextafter(m32, np.float32(np.inf))
    down = np.nextafter(m32, np.float32(-np.inf))
    rnd = np.random.default_rng(0).integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    beyond = np.array([65504, 65519.99, 65520, 65536, 1e10, np.inf, -np.inf, np.nan, 2**-25, 2**-24, 3 * 2**-26,
                       -2**-25, 1e-30], np.float32)
    return np.concatenate([m32, up, down, rnd, beyond])


def test_float32_to_float16_rounds_to_nearest_even_like_numpy():
    x = _float32_probes()
    with np.errstate(all="ignore"):
        same_bits(tl.asarray(x).astype("float16").numpy(), x.astype(np.float16))


def test_float64_to_float16_rounds_once_like_numpy():
    h = np.unique(ALL_HALF[np.isfinite(ALL_HALF)].astype(np.float64))
    mids = (h[:-1] + h[1:]) / 2
    x = np.concatenate([mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf),
                        # a float64 just above a tie whose float32 rounding is the tie itself
                        mids + np.abs(mids) * 2.0**-40,
                        np.random.default_rng(1).standard_normal(50_000) * 10.0 ** np.random.default_rng(2).integers(
                            -9, 6, 50_000)])
    with np.errstate(all="ignore"):
        same_bits(tl.asarray(x).astype("float16").numpy(), x.astype(np.float16))


def test_float16_to_integers_like_numpy():
    finite = ALL_HALF[np.isfinite(ALL_HALF)]
    for dt in INTS:
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(tl.asarray(finite).astype(dt).numpy(), finite.astype(dt), err_msg=dt)


def test_integers_to_float16_like_numpy():
    for dt in INTS:
        info = np.iinfo(dt)
        x = np.unique(np.concatenate([np.arange(-3000, 3000), [info.min, info.max, 65504, 65519, 65520, 70000]])
                      .clip(info.min, info.max)).astype(dt)
        with np.errstate(all="ignore"):
            same_bits(tl.asarray(x).astype("float16").numpy(), x.astype(np.float16))


def test_float16_arithmetic_rounds_each_result_like_numpy():
    rng = np.random.default_rng(3)
    a = (rng.standard_normal(4000) * 100).astype(np.float16)
    b = (rng.standard_normal(4000) * 100).astype(np.float16)
    ta, tb = tl.asarray(a), tl.asarray(b)
    with np.errstate(all="ignore"):
        for fn in ("add", "subtract", "multiply", "divide", "maximum", "minimum"):
            same_bits(getattr(tl, fn)(ta, tb).numpy(), getattr(np, fn)(a, b))
        same_bits(tl.sqrt(tl.abs(ta)).numpy(), np.sqrt(np.abs(a)))
    assert (ta < tb).tolist() == (a < b).tolist()


def test_float16_reductions_accumulate_in_float32():
    x = np.full(5000, 0.1, np.float16)  # float16 accumulation would stall at 256
    s = tl.sum(tl.asarray(x))
    assert s.dtype == np.float16 and s.item() == np.sum(x).item()
    m = tl.mean(tl.asarray(x))
    assert m.dtype == np.float16 and m.item() == np.mean(x).item()
    v = tl.var(tl.asarray(x[:10] * np.arange(10, dtype=np.float16)))
    assert v.dtype == np.float16
    np.testing.assert_allclose(v.item(), np.var((x[:10] * np.arange(10, dtype=np.float16)).astype(np.float64)),
                               rtol=1e-3)


def test_float16_heavy_kernels_refuse_clearly():
    x = tl.ones((2, 3), dtype="float16")
    with pytest.raises(TypeError, match="float16"):
        tl.random.uniform(size=2, dtype="float16")
    r = tl.matmul(x, tl.ones((3, 2), dtype="float16"))  # computed in float32, as NumPy
    assert r.dtype == np.float16 and r.tolist() == [[3.0, 3.0], [3.0, 3.0]]


@pytest.mark.parametrize("op", ["conv", "conv_same_bias_relu", "depthwise_conv", "max_pool", "average_pool"])
def test_float16_conv_and_pooling_compute_in_float32(op):
    """float16 conv, depthwise conv and pooling compute in float32 and round the result once
    (NumPy's rule for half loops); gradients come back in float16 through the same casts."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float16)
    k = (rng.standard_normal((3, 3, 3, 4)) * 0.5).astype(np.float16)
    kd = (rng.standard_normal((3, 3, 3, 2)) * 0.5).astype(np.float16)
    b = rng.standard_normal(4).astype(np.float16)

    def run(dtype):
        xt = tl.array(x.astype(dtype), requires_grad=True)
        if op == "conv":
            return xt, tl.conv(xt, tl.asarray(k.astype(dtype)), strides=2)
        if op == "conv_same_bias_relu":
            return xt, tl.conv(xt, tl.asarray(k.astype(dtype)), padding="same", bias=tl.asarray(b.astype(dtype)),
                               activation="relu")
        if op == "depthwise_conv":
            return xt, tl.depthwise_conv(xt, tl.asarray(kd.astype(dtype)))
        return xt, getattr(tl, op)(xt, 2)

    x16, y16 = run(np.float16)
    x32, y32 = run(np.float32)
    assert y16.dtype == np.float16
    np.testing.assert_array_equal(y16.numpy(), y32.numpy().astype(np.float16))
    g = rng.standard_normal(tuple(y16.shape)).astype(np.float16)
    y16.backward(tl.asarray(g))
    y32.backward(tl.asarray(g.astype(np.float32)))
    assert x16.grad.dtype == np.float16
    np.testing.assert_array_equal(x16.grad.numpy(), x32.grad.numpy().astype(np.float16))


def test_small_integer_matmul_wraps_like_numpy():
    a = np.array([[100, 100], [-7, 3]], np.int8)
    for dt in ("int8", "int16", "uint16", "uint32", "uint64"):
        x = a.astype(dt)
        np.testing.assert_array_equal(tl.matmul(tl.asarray(x), tl.asarray(x)).numpy(), x @ x)


@pytest.mark.parametrize("toward", [0.0, -0.0, 1.0, -np.inf, np.inf, np.nan])
def test_float16_nextafter_steps_its_own_ulp(toward):
    # Every 7th float16 bit pattern; computed in float32 the step would round away.
    x = np.arange(0, 65536, 7, dtype=np.uint16).view(np.float16)
    y = np.full_like(x, toward)
    got = np.asarray(tl.nextafter(tl.asarray(x), tl.asarray(y)))
    want = np.nextafter(x, y)
    assert got.dtype == np.float16
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(got.view(np.uint16)[ok], want.view(np.uint16)[ok])
