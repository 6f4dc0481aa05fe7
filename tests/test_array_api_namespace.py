"""The Array API namespace: version, info, dtype functions, Tensor protocols, NumPy interplay."""
import numpy as np
import pytest

import tensorlet as tl


def test_version_namespace_and_device():
    assert tl.__array_api_version__ == "2024.12"
    t = tl.ones((2, 3))
    assert t.__array_namespace__() is tl
    assert t.__array_namespace__(api_version="2023.12") is tl
    with pytest.raises(ValueError, match="api_version"):
        t.__array_namespace__(api_version="2099.01")
    assert t.device == tl.cpu == tl.device("cpu") == "cpu"
    assert t.to_device("cpu") is t
    with pytest.raises(ValueError, match="device"):
        t.to_device("cuda")
    with pytest.raises(ValueError, match="device"):
        tl.zeros(3, device="cuda")
    assert tl.zeros(3, device=tl.cpu).shape == (3,)


def test_mT():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(np.asarray(tl.asarray(x).mT), np.swapaxes(x, -1, -2))
    with pytest.raises(ValueError, match="mT"):
        tl.ones(3).mT


def test_namespace_info():
    info = tl.__array_namespace_info__()
    assert info.capabilities()["boolean indexing"] is True
    assert info.default_device() == tl.cpu and info.devices() == [tl.cpu]
    d = info.default_dtypes()
    assert d["real floating"] == tl.float64 and d["integral"] == tl.int64 and d["indexing"] == tl.int64
    all_ = info.dtypes()
    assert all_["float32"] == tl.float32 and all_["bool"] == tl.bool_
    assert set(info.dtypes(kind="integral")) >= {"uint8", "int32", "int64"}
    assert set(info.dtypes(kind="real floating")) >= {"float32", "float64"}
    assert "float32" not in info.dtypes(kind=("bool", "integral"))
    # Every standard dtype is listed; float16 (tensorlet's, not the standard's) is not.
    assert set(all_) == {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                         "float32", "float64", "complex64", "complex128"}
    assert set(info.dtypes(kind="complex floating")) == {"complex64", "complex128"}
    assert d["complex floating"] == tl.complex128


def test_finfo_iinfo():
    f = tl.finfo(tl.float32)
    assert (f.bits, f.eps, f.max, f.smallest_normal) == (32, float(np.finfo(np.float32).eps),
                                                         float(np.finfo(np.float32).max), float(np.finfo(np.float32).tiny))
    assert tl.finfo(tl.ones(2)).dtype == tl.float64
    i = tl.iinfo(tl.uint8)
    assert (i.bits, i.min, i.max) == (8, 0, 255)
    for name in ("int8", "int16", "uint16", "uint32", "uint64"):
        i, n = tl.iinfo(getattr(tl, name)), np.iinfo(name)
        assert (i.bits, i.min, i.max) == (n.bits, n.min, n.max), name
    h, n = tl.finfo(tl.float16), np.finfo(np.float16)
    assert (h.bits, h.eps, h.max, h.smallest_normal) == (16, float(n.eps), float(n.max), float(n.tiny))
    with pytest.raises(TypeError, match="finfo"):
        tl.finfo(tl.int32)
    with pytest.raises(TypeError, match="iinfo"):
        tl.iinfo(tl.float32)


def test_isdtype_result_type_can_cast():
    assert tl.isdtype(tl.int32, "signed integer") and tl.isdtype(tl.uint8, "integral")
    assert not tl.isdtype(tl.bool_, "numeric") and tl.isdtype(tl.float32, ("bool", "real floating"))
    assert tl.isdtype(tl.float64, tl.float64)
    with pytest.raises(ValueError, match="kind"):
        tl.isdtype(tl.float64, "floating")
    assert tl.result_type(tl.uint8, tl.int32) == tl.int32
    assert tl.result_type(tl.ones(2, dtype="float32"), 1.0) == tl.float32  # weak scalar
    assert tl.result_type(tl.int32, tl.float32) == tl.float64
    with pytest.raises(ValueError):
        tl.result_type()
    assert tl.can_cast(tl.int32, tl.int64) and not tl.can_cast(tl.float64, tl.float32)
    assert not tl.can_cast("complex64", tl.float32) and tl.can_cast(tl.float32, tl.complex64)
    with pytest.raises(TypeError):
        tl.can_cast("clongdouble", tl.float32)


def test_constants_and_aliases():
    assert tl.pi == np.pi and tl.e == np.e and np.isinf(tl.inf) and np.isnan(tl.nan) and tl.newaxis is None
    x = tl.asarray([0.25, 0.5])
    np.testing.assert_allclose(np.asarray(tl.acos(x)), np.arccos([0.25, 0.5]))
    np.testing.assert_array_equal(np.asarray(tl.concat([x, x], axis=None)), [0.25, 0.5, 0.25, 0.5])
    np.testing.assert_array_equal(np.asarray(tl.bitwise_invert(tl.asarray([1], dtype="int32"))), [-2])
    assert not np.shares_memory(np.asarray(tl.asarray(x, copy=True)), np.asarray(x))
    assert np.shares_memory(np.asarray(tl.asarray(x)), np.asarray(x))


def test_isinf_signbit():
    v = np.array([np.inf, -np.inf, np.nan, -np.nan, -0.0, 0.0, -1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(tl.isinf(tl.asarray(v))), np.isinf(v))
    np.testing.assert_array_equal(np.asarray(tl.signbit(tl.asarray(v))), np.signbit(v))
    np.testing.assert_array_equal(np.asarray(tl.signbit(tl.asarray([-3, 3], dtype="int32"))), [True, False])


def test_logaddexp_special_cases_and_gradient():
    from gradcheck import gradcheck
    a = np.array([0.0, 1000.0, -np.inf, np.inf, np.inf, -np.inf, np.nan, 3.0])
    b = np.array([0.0, 1000.0, -np.inf, np.inf, -np.inf, 5.0, 1.0, -2.0])
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(np.asarray(tl.logaddexp(tl.asarray(a), tl.asarray(b))), np.logaddexp(a, b))
    gradcheck(tl.logaddexp, np.array([0.5, -2.0, 3.0, 1.0]), np.array([0.5, 1.0, -3.0, 1.0]))


def test_numpy_functions_on_tensors():
    t = tl.asarray([[1.0, 2.0], [3.0, 4.0]])
    for f in (np.sum, np.mean, np.prod, np.max, np.min, np.std, np.var, np.any, np.all, np.argmax, np.argmin):
        r = f(t)
        assert isinstance(r, tl.Tensor), f.__name__  # NumPy forwards to the method: a tensor
        np.testing.assert_allclose(np.asarray(r), f(np.asarray(t)))
    np.testing.assert_allclose(np.asarray(np.mean(t, axis=0)), [2.0, 3.0])
    out = tl.zeros(2)
    assert np.sum(t, axis=1, out=out) is out
    np.testing.assert_array_equal(np.asarray(out), [3.0, 7.0])
    assert isinstance(np.exp(t), np.ndarray)  # no __array_ufunc__: ufuncs give arrays (as for torch)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_shifts_match_numpy(dtype):
    a = np.array([5, 7, 200, 1, 3], dtype=dtype) if dtype == "uint8" else np.array([5, -7, 100, -1, 3], dtype=dtype)
    b = np.array([0, 1, 3, 7, 9], dtype=dtype) if dtype == "uint8" else np.array([0, 1, 3, 63, 70], dtype=dtype)
    np.testing.assert_array_equal(np.asarray(tl.bitwise_left_shift(tl.asarray(a), tl.asarray(b))), np.left_shift(a, b))
    np.testing.assert_array_equal(np.asarray(tl.asarray(a) >> tl.asarray(b)), np.right_shift(a, b))
    with pytest.raises(TypeError, match="bitwise_left_shift"):
        tl.bitwise_left_shift(tl.ones(2), tl.ones(2))
    # A Python int on the left is weak, as on the right (it was int64 before)
    for f, npf in ((tl.bitwise_left_shift, np.left_shift), (tl.bitwise_right_shift, np.right_shift)):
        got, want = f(1, tl.asarray(b)), npf(1, b)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(np.asarray(got), want)


def test_standard_signatures_of_existing_functions():
    x = np.random.default_rng(5).normal(size=(4, 5))
    np.testing.assert_allclose(np.asarray(tl.std(tl.asarray(x), axis=1, correction=1.5)), np.std(x, axis=1, ddof=1.5))
    np.testing.assert_allclose(np.asarray(tl.var(tl.asarray(x), correction=1)), np.var(x, ddof=1))
    assert tl.repeat(tl.asarray([1.0, 2.0]), tl.asarray([3])).shape == (6,)  # 1-element repeats broadcast
    assert complex(tl.asarray(2.0)) == 2 + 0j
    r = tl.reshape(tl.asarray(x), (5, 4), copy=True)
    assert not np.shares_memory(np.asarray(r), np.asarray(tl.asarray(x)))
    with pytest.raises(ValueError, match="copy=False"):
        tl.reshape(tl.asarray(x).mT, (20,), copy=False)
    np.testing.assert_array_equal(np.asarray(tl.clip(tl.asarray([1.0, 5.0]), max=3)), [1.0, 3.0])
