"""float64 tanh (vmath::tanh_f64, the per-ISA loops of unary_simd.h for contiguous runs, the
same function inline for strided ones, compiled without FMA, so the last bit may differ): within 2 ulp of NumPy and of the C library's tanh
(math.tanh) over a dense sweep, special values and signed zeros exactly as NumPy, on every ISA."""
import math

import numpy as np

import tensorlet as tl


def ulp_distance(a, b):
    """|a - b| in float64 ulps, counted as steps between representable values (0 for equal)."""
    def ordered(v):  # the bit pattern as an integer that increases with the value, across zero
        i = v.view(np.int64)
        return np.where(i < 0, np.int64(np.iinfo(np.int64).min) - i, i)
    return np.abs(ordered(a) - ordered(b))


def sweep():
    rng = np.random.default_rng(0)
    x = np.concatenate([
        rng.uniform(-25.0, 25.0, 60000),
        rng.uniform(-1.0, 1.0, 40000),
        np.linspace(0.6, 0.65, 20001),            # both sides of the 0.625 switch
        rng.uniform(0.62, 0.63, 20000),
        np.geomspace(5e-324, 40.0, 40000),        # subnormal, tiny, every binade to saturation
        np.linspace(18.5, 19.5, 4001),            # where the result starts to round to 1
        np.nextafter(0.625, [0.0, 1.0]),
    ])
    return np.concatenate([x, -x])


def check_within_2_ulp(x, got):
    x, got = x.ravel(), got.ravel()
    want = np.tanh(x)
    err = ulp_distance(got, want)
    assert err.max() <= 2, (x[err.argmax()], got[err.argmax()], want[err.argmax()], err.max())
    libm = np.array([math.tanh(v) for v in x[::7]])
    err = ulp_distance(got[::7], libm)
    assert err.max() <= 2, (x[::7][err.argmax()], err.max())


def test_float64_tanh_within_2_ulp_contiguous(every_isa):
    x = sweep()
    got = np.asarray(tl.tanh(tl.asarray(x)))
    assert got.dtype == np.float64
    check_within_2_ulp(x, got)


def test_float64_tanh_within_2_ulp_strided_and_transposed(every_isa):
    x = sweep()[: 2 * 3 * 20000]
    strided = np.asarray(tl.tanh(tl.asarray(x)[::3]))  # not contiguous: the inline path
    check_within_2_ulp(x[::3], strided)
    m = x.reshape(6, 20000)
    transposed = np.asarray(tl.tanh(tl.asarray(m).T))
    check_within_2_ulp(m.T.copy(), transposed)


def test_float64_tanh_special_values_and_signed_zero(every_isa):
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 5e-324, -5e-324, 2.2e-308, 1e-300, 1e-8,
                  19.5, 20.0, 22.0, 22.5, 710.0, 1e300, -1e300, np.finfo(np.float64).max])
    for got in (np.asarray(tl.tanh(tl.asarray(x))), np.asarray(tl.tanh(tl.asarray(np.repeat(x, 2))[::2]))):
        want = np.tanh(x)
        np.testing.assert_array_equal(got, want)  # NaN == NaN here; values exact at these points
        np.testing.assert_array_equal(np.signbit(got[~np.isnan(x)]), np.signbit(want[~np.isnan(x)]))
