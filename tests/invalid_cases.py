"""The table of invalid calls for tests/test_invalid_inputs.py, run as a script in ONE
subprocess: each case is announced on stderr before it runs (so a crash names it) and its
outcome is printed as a JSON line on stdout.

A case is (name, expected, fn): ``expected`` is an exception class (or tuple of them) that
``fn()`` must raise with a non-empty message, or ``None`` for calls that must work; those
return (tensorlet result, NumPy result) to compare."""
import json
import sys

import numpy as np

import tensorlet as tl

E = ValueError
I = IndexError
T = TypeError
M = MemoryError
O = OverflowError
R = RuntimeError  # autograd misuse, as PyTorch
HUGE = (ValueError, MemoryError, OverflowError)  # NumPy: ValueError "too big", or MemoryError
# A Python int beyond int64 as a dim or axis is rejected by the binding's argument conversion
# (TypeError, where NumPy says ValueError/OverflowError): accepted, it names the problem.

a23 = np.arange(6, dtype=np.float32).reshape(2, 3)


def t23():
    return tl.array(a23)


def _alias_case(_optim):
    def run():
        p = tl.ones((3,), dtype="float64")
        _optim.catalog_step("adagrad", [p], [tl.ones((3,), dtype="float64")], [p], [], [],
                            state=_optim.StepState(0.1, 0))
    return run


def cases():
    C = []

    def add(name, expected, fn):
        C.append((name, expected, fn))

    # -- creation: dims ----------------------------------------------------------------------
    for ctor in ("zeros", "ones", "empty"):
        f = getattr(tl, ctor)
        add(f"{ctor}(-1)", E, lambda f=f: f(-1))
        add(f"{ctor}((2,-3))", E, lambda f=f: f((2, -3)))
        add(f"{ctor}((2**40,)*3) overflows int64", HUGE, lambda f=f: f((2**40,) * 3))
        add(f"{ctor}((2**62, 4))", HUGE, lambda f=f: f((2**62, 4)))
        add(f"{ctor}(2**64)", (E, O, M, T), lambda f=f: f(2**64))
        add(f"{ctor}(2**45) allocation", HUGE, lambda f=f: f(2**45))
        add(f"{ctor}((2.5,))", T, lambda f=f: f((2.5,)))
        add(f"{ctor}('3')", T, lambda f=f: f("3"))
        add(f"{ctor}(None-in-shape)", T, lambda f=f: f((2, None)))
    add("full((2**40,)*3, 1)", HUGE, lambda: tl.full((2**40,) * 3, 1.0))
    add("full((-1,), 1)", E, lambda: tl.full((-1,), 1.0))
    add("eye(-1)", E, lambda: tl.eye(-1))
    add("eye(2**40)", HUGE, lambda: tl.eye(2**40))
    add("arange(0, 10, 0)", (E, ZeroDivisionError), lambda: tl.arange(0, 10, 0))
    add("arange(0, 2**62, 1e-9)", HUGE, lambda: tl.arange(0, 2.0**62, 1e-9))
    add("arange(nan)", E, lambda: tl.arange(float("nan")))
    add("arange(inf)", (E, O), lambda: tl.arange(float("inf")))
    add("linspace(0,1,-1)", E, lambda: tl.linspace(0, 1, -1))
    add("linspace(0,1,2**62)", HUGE, lambda: tl.linspace(0, 1, 2**62))
    # -- dtypes ------------------------------------------------------------------------------
    for dt in (np.longdouble, np.clongdouble, object, np.str_, np.bytes_, "datetime64[s]"):
        add(f"array(dtype={np.dtype(dt).name})", T, lambda dt=dt: tl.array(np.zeros(3, dtype=dt)))
    add("array(['a','b'])", T, lambda: tl.array(["a", "b"]))
    add("array([1, 'a'])", T, lambda: tl.array([1, "a"]))
    add("array([[1,2],[3]]) ragged", E, lambda: tl.array([[1, 2], [3]]))
    add("array(object())", T, lambda: tl.array(object()))
    add("zeros(3, dtype='float17')", T, lambda: tl.zeros(3, dtype="float17"))
    add("zeros(3, dtype='clongdouble')", T, lambda: tl.zeros(3, dtype="clongdouble"))
    add("zeros(3, dtype=42)", T, lambda: tl.zeros(3, dtype=42))
    add("astype('float128')", T, lambda: t23().astype("longdouble"))
    # -- the new dtypes (issue 15): bounds of weak Python ints, kernels that stay float32/64 ----
    add("int8 + 200 (out of bounds)", O, lambda: tl.zeros(2, dtype="int8") + 200)
    add("uint16 + -1 (out of bounds)", O, lambda: tl.zeros(2, dtype="uint16") + -1)
    add("uint64 + 2**64", O, lambda: tl.zeros(2, dtype="uint64") + 2**64)
    add("int64 + 2**63", O, lambda: tl.zeros(2, dtype="int64") + 2**63)
    add("uint32 += int8 tensor (same_kind)", T, lambda: inplace(tl.zeros(2, dtype="uint32"), tl.zeros(2, dtype="int8")))
    add("float16 uniform", T, lambda: tl.random.uniform(size=2, dtype="float16"))
    add("float16 softmax", T, lambda: tl.softmax(tl.ones((2, 3), dtype="float16")))
    add("float16 conv computes in float32", None, lambda: (
        tl.conv(tl.ones((1, 4, 4, 1), dtype="float16"), tl.ones((2, 2, 1, 1), dtype="float16")).numpy(),
        np.full((1, 3, 3, 1), 4, np.float16)))
    add("invert float16", T, lambda: tl.invert(tl.ones(2, dtype="float16")))
    add("negative bool", T, lambda: tl.negative(tl.ones(2, dtype="bool")))
    add("uint64 sum wraps like NumPy", None, lambda: (
        tl.sum(tl.asarray(np.array([2**64 - 1, 2], np.uint64))).numpy(), np.sum(np.array([2**64 - 1, 2], np.uint64))))
    add("int8 floor_divide by 0 like NumPy", None, lambda: (
        (tl.arange(4, dtype="int8") // tl.zeros(4, dtype="int8")).numpy(), np.zeros(4, np.int8)))
    add("int8 -128 // -1 wraps like NumPy", None, lambda: (
        (tl.full(1, -128, dtype="int8") // tl.full(1, -1, dtype="int8")).numpy(), np.array([-128], np.int8)))
    for dt in (">u2", ">f2", ">i4", ">u8"):
        add(f"big-endian {dt} input", None, lambda dt=dt: (tl.asarray(np.arange(5, dtype=dt)).numpy(),
                                                           np.arange(5, dtype=dt).astype(np.dtype(dt).newbyteorder("="))))
    add("astype('nope')", T, lambda: t23().astype("nope"))
    # -- axes --------------------------------------------------------------------------------
    for red in ("sum", "mean", "max", "min", "prod", "var", "std", "argmax", "argmin", "any", "all"):
        add(f"{red}(axis=2) out of range", (E, I), lambda red=red: getattr(tl, red)(t23(), axis=2))
        add(f"{red}(axis=-3) out of range", (E, I), lambda red=red: getattr(tl, red)(t23(), axis=-3))
        add(f"{red}(axis=1.0) wrong type", T, lambda red=red: getattr(tl, red)(t23(), axis=1.0))
        add(f"{red}(axis='0') wrong type", T, lambda red=red: getattr(tl, red)(t23(), axis="0"))
        add(f"{red}(axis=2**63)", (E, I, O, T), lambda red=red: getattr(tl, red)(t23(), axis=2**63))
    for red in ("sum", "mean", "max", "min", "prod", "any", "all"):
        add(f"{red}(axis=(0,0)) repeated", E, lambda red=red: getattr(tl, red)(t23(), axis=(0, 0)))
        add(f"{red}(axis=(0,-2)) repeated", E, lambda red=red: getattr(tl, red)(t23(), axis=(0, -2)))
    for red in ("max", "min", "argmax", "argmin"):
        add(f"{red} of empty (no identity)", E, lambda red=red: getattr(tl, red)(tl.zeros((0,))))
        add(f"{red}(axis=0) of (0,3)", E, lambda red=red: getattr(tl, red)(tl.zeros((0, 3)), axis=0))
    add("transpose repeated axes", E, lambda: tl.transpose(t23(), (0, 0)))
    add("transpose wrong length", E, lambda: tl.transpose(t23(), (0,)))
    add("transpose out of range", (E, I), lambda: tl.transpose(t23(), (0, 2)))
    add("swapaxes out of range", (E, I), lambda: tl.swapaxes(t23(), 0, 5))
    add("expand_dims out of range", (E, I), lambda: tl.expand_dims(t23(), 4))
    add("squeeze non-1 axis", E, lambda: tl.squeeze(t23(), 0))
    add("squeeze out of range", (E, I), lambda: tl.squeeze(t23(), 3))
    add("concatenate axis out of range", (E, I), lambda: tl.concatenate([t23(), t23()], axis=2))
    add("stack axis out of range", (E, I), lambda: tl.stack([t23(), t23()], axis=4))
    add("softmax axis out of range", (E, I), lambda: tl.softmax(t23(), axis=3))
    add("take axis out of range", (E, I), lambda: tl.take(t23(), tl.array([0]), axis=2))
    # -- indices -----------------------------------------------------------------------------
    add("t[2] out of range", I, lambda: t23()[2])
    add("t[-3] out of range", I, lambda: t23()[-3])
    add("t[0, 3] out of range", I, lambda: t23()[0, 3])
    add("t[0,0,0] too many", I, lambda: t23()[0, 0, 0])
    add("t[2**63]", I, lambda: t23()[2**63])
    add("t[2**70]", I, lambda: t23()[2**70])
    add("t[1.0]", I, lambda: t23()[1.0])
    add("t['a']", I, lambda: t23()["a"])
    add("t[None-type object()]", I, lambda: t23()[object()])
    add("t[::0] zero step", E, lambda: t23()[::0])
    add("t[0, ::0] zero step", E, lambda: t23()[0, ::0])
    add("t[[0, 5]] fancy out of range", I, lambda: t23()[[0, 5]])
    add("t[[0.5]] float fancy", I, lambda: t23()[[0.5]])
    add("t[bool mask wrong shape]", I, lambda: t23()[np.array([True, False, True])])
    add("t[2] = 1 out of range", I, lambda: t23().__setitem__(2, 1.0))
    add("t[:] = wrong shape", E, lambda: t23().__setitem__(slice(None), np.zeros((3, 2), np.float32)))
    add("take index out of range", I, lambda: tl.take(t23(), tl.array([7])))
    add("take float indices", (T, I), lambda: tl.take(t23(), tl.array([0.5])))
    add("item() on size 6", E, lambda: t23().item())
    # -- shapes ------------------------------------------------------------------------------
    add("add (2,3)+(3,2)", E, lambda: t23() + tl.zeros((3, 2)))
    add("multiply (2,3)*(4,)", E, lambda: t23() * tl.zeros((4,)))
    add("where mismatched", E, lambda: tl.where(tl.zeros((2,), dtype="bool"), t23(), t23()))
    add("matmul (2,3)@(2,3)", E, lambda: tl.matmul(t23(), t23()))
    add("matmul 0-d", E, lambda: tl.matmul(tl.array(1.0), t23()))
    add("matmul batch mismatch", E, lambda: tl.matmul(tl.zeros((2, 2, 3)), tl.zeros((3, 3, 4))))
    add("dot mismatch", E, lambda: tl.dot(tl.zeros((3,)), tl.zeros((4,))))
    add("concatenate mismatch", E, lambda: tl.concatenate([t23(), tl.zeros((2, 4))], axis=0))
    add("concatenate ndim mismatch", E, lambda: tl.concatenate([t23(), tl.zeros((3,))]))
    add("concatenate []", E, lambda: tl.concatenate([]))
    add("stack mismatch", E, lambda: tl.stack([t23(), tl.zeros((3, 2))]))
    add("stack []", E, lambda: tl.stack([]))
    add("reshape 6 -> 4", E, lambda: tl.reshape(t23(), (4,)))
    add("reshape two -1", E, lambda: tl.reshape(t23(), (-1, -1)))
    add("reshape -2", E, lambda: tl.reshape(t23(), (-2, 3)))
    add("reshape huge", E, lambda: tl.reshape(t23(), (2**40, 2**40, 2**40)))
    add("reshape huge with -1", E, lambda: tl.reshape(t23(), (2**62, 2**62, -1)))
    add("reshape (0,-1)", E, lambda: tl.reshape(t23(), (0, -1)))
    add("broadcast_to smaller", E, lambda: tl.broadcast_to(t23(), (3,)))
    add("broadcast_to mismatch", E, lambda: tl.broadcast_to(t23(), (2, 4)))
    add("broadcast_to (2**40,)*3 overflows int64", HUGE, lambda: tl.broadcast_to(tl.zeros((1,)), (2**40,) * 3))
    add("broadcast_to bytes overflow int64", HUGE, lambda: tl.broadcast_to(tl.zeros((1,)), (2**31, 2**31)))
    add("broadcast_to negative", E, lambda: tl.broadcast_to(t23(), (-1, 3)))
    add("split unequal", E, lambda: tl.split(t23(), 4, axis=1))
    add("split 0 sections", (E, ZeroDivisionError), lambda: tl.split(t23(), 0, axis=1))
    add("array_split 0 sections", E, lambda: tl.array_split(t23(), 0, axis=1))
    # -- operands ----------------------------------------------------------------------------
    add("t + 'a'", T, lambda: t23() + "a")
    add("t * None", T, lambda: t23() * None)
    add("t + object()", T, lambda: t23() + object())
    add("t + [1, 'x']", T, lambda: t23() + [1, "x"])
    add("t + 2**70", (O, T), lambda: tl.zeros((2,), dtype="int64") + 2**70)
    add("tl.exp('x')", T, lambda: tl.exp("x"))
    add("tl.matmul(t, 'x')", T, lambda: tl.matmul(t23(), "x"))
    add("clip(t, 'a', 1)", T, lambda: tl.clip(t23(), "a", 1))
    add("bitwise_and float", T, lambda: tl.bitwise_and(t23(), t23()))
    add("invert float", T, lambda: tl.invert(t23()))
    add("sign bool", T, lambda: tl.sign(tl.array([True])))  # NumPy has no bool loop (reciprocal: int8)
    add("erf(None)", T, lambda: tl.erf(None))
    add("hypot(t, 'x')", T, lambda: tl.hypot(t23(), "x"))
    add("hypot shape mismatch", E, lambda: tl.hypot(t23(), tl.ones((4,))))
    add("logaddexp(None, t)", T, lambda: tl.logaddexp(None, t23()))
    add("logaddexp out= int for float", T, lambda: tl.logaddexp(t23(), t23(), out=tl.zeros((2, 3), dtype="int64")))
    add("logical_and(u8, 2**70)", (O, T), lambda: tl.logical_and(tl.zeros(2, dtype="uint8"), 2**70))
    add("arctanh out= wrong shape", E, lambda: tl.arctanh(t23(), out=tl.zeros((3,))))
    add("round out= int for float", T, lambda: tl.round(t23(), out=tl.zeros((2, 3), dtype="int64")))
    add("int // 0 elementwise", None, lambda: (
        (tl.arange(4) // tl.zeros((4,), dtype="int64")).numpy(),
        np.zeros(4, np.int64)))
    ro = np.arange(4, dtype=np.float32)
    ro.setflags(write=False)
    # -- writes: casting, NaN, read-only (issue 11) ---------------------------------------------
    def iset(dt, v, fill=False):
        x = tl.zeros(3, dtype=dt)
        if fill:
            x.fill(v)
        else:
            x[0] = v

    def inplace(dst, src, op="__iadd__"):
        getattr(dst, op)(src)

    add("uint8 += int64 tensor (same_kind)", T, lambda: inplace(tl.array([250], dtype="uint8"), tl.array([10])))
    add("int32 += 1.5 (same_kind)", T, lambda: inplace(tl.zeros(2, dtype="int32"), 1.5))
    add("bool += 1 (same_kind)", T, lambda: inplace(tl.zeros(2, dtype="bool"), 1))
    add("int64 /= 2 (true divide into int)", T, lambda: inplace(tl.zeros(2, dtype="int64"), 2, "__itruediv__"))
    add("add(out=) float into int", T, lambda: tl.add(t23(), t23(), out=tl.zeros((2, 3), dtype="int64")))
    add("add(out=) wrong shape", E, lambda: tl.add(t23(), t23(), out=tl.zeros((3,), dtype="float32")))
    add("exp(out=) read-only", E, lambda: tl.exp(tl.ones(4, dtype="float32"), out=tl.asarray(ro)))
    add("exp(out=) broadcast view", E, lambda: tl.exp(tl.ones(3), out=tl.broadcast_to(tl.zeros(3), (2, 3))))
    add("add(out=list)", T, lambda: tl.add(t23(), 1, out=[0]))
    add("take(out=) float into int", T, lambda: tl.take(t23(), [0], out=tl.zeros(1, dtype="int64")))
    for dt in ("uint8", "int32", "int64", "int8", "int16", "uint16", "uint32", "uint64"):
        add(f"{dt}[0] = nan", E, lambda dt=dt: iset(dt, float("nan")))
        add(f"{dt}[0] = inf", O, lambda dt=dt: iset(dt, float("inf")))
        add(f"{dt}.fill(nan)", E, lambda dt=dt: iset(dt, float("nan"), True))
        add(f"{dt}.fill(-inf)", O, lambda dt=dt: iset(dt, -float("inf"), True))
        add(f"{dt}[0] = 1e20", O, lambda dt=dt: iset(dt, 1e20))
        add(f"{dt}[0] = 2**64", O, lambda dt=dt: iset(dt, 2**64))
        add(f"{dt}[0] = 1j", T, lambda dt=dt: iset(dt, 1j))
        add(f"{dt}[:] = float tensor with NaN", E,
            lambda dt=dt: tl.zeros(2, dtype=dt).__setitem__(slice(None), tl.array([1.0, np.nan])))
        add(f"{dt}[[0]] = float32 array with inf", E,
            lambda dt=dt: tl.zeros(2, dtype=dt).__setitem__([0], np.array([np.inf], np.float32)))
    add("uint8[0] = -1.5", O, lambda: iset("uint8", -1.5))
    add("array([nan], dtype=int64)", E, lambda: tl.array([float("nan")], dtype="int64"))
    add("full(2, nan, dtype=int32)", E, lambda: tl.full(2, float("nan"), dtype="int32"))
    add("int32.fill(2**40)", O, lambda: iset("int32", 2**40, True))
    add("float64[0] = 1j", T, lambda: iset("float64", 1j))
    add("int32[:] = 1e20 array (out of range)", E,
        lambda: tl.zeros(2, dtype="int32").__setitem__(slice(None), np.array([1e20, 0.0])))
    add("setitem into read-only", E, lambda: tl.asarray(ro).__setitem__(0, 1.0))
    add("fill read-only", E, lambda: tl.asarray(ro).fill(1.0))
    add("+= into read-only", E, lambda: inplace(tl.asarray(ro), 1.0))
    add("+= into broadcast view", E, lambda: inplace(tl.broadcast_to(tl.zeros(3), (2, 3)), 1.0))
    add("numpy view of broadcast is read-only", E,
        lambda: np.asarray(tl.broadcast_to(tl.zeros(3), (2, 3))).__setitem__((0, 0), 9.0))
    add("sum(dtype='int32') wraps like NumPy", None, lambda: (
        tl.sum(tl.array([2**31 - 1, 1]), dtype="int32").numpy(), np.sum(np.array([2**31 - 1, 1]), dtype=np.int32)))
    # -- autograd API and unpickling -----------------------------------------------------------
    from tensorlet._pickle import rebuild_tensor

    R = RuntimeError

    def leaf():
        return tl.array([1.0, 2.0], requires_grad=True)

    add("backward(gradient=, grad=)", T, lambda: (leaf() * 2).backward(gradient=tl.ones(2), grad=tl.ones(2)))
    add("backward(gradient of wrong shape)", E, lambda: (leaf() * 2).backward(tl.ones(3)))
    add("autograd.grad unused input", R, lambda: tl.autograd.grad((leaf() * 2).sum(), [leaf()]))
    add("autograd.grad input without grad", R, lambda: tl.autograd.grad((leaf() * 2).sum(), tl.ones(2)))
    add("autograd.grad of a non-tensor", T, lambda: tl.autograd.grad("x", leaf()))
    add("register_hook returning a string", T, lambda: (lambda y: (y.register_hook(lambda g: "x"),
                                                                   y.sum().backward()))(leaf() * 2))
    add("register_hook on int tensor", R, lambda: tl.arange(3).register_hook(lambda g: g))
    add("requires_grad_ on int tensor", T, lambda: tl.arange(3).requires_grad_())
    add("deepcopy of a non-leaf", R, lambda: __import__("copy").deepcopy(leaf() * 2))
    add("unpickle: short bytes", E, lambda: rebuild_tensor(b"\0" * 3, "float32", (1,)))
    add("unpickle: object dtype", T, lambda: rebuild_tensor(b"\0" * 8, "object", (1,)))
    add("unpickle: bool byte 2", E, lambda: rebuild_tensor(b"\2", "bool", ()))
    add("unpickle: huge shape", HUGE, lambda: rebuild_tensor(b"", "float64", (2**40, 2**40)))
    # -- must work (compared with NumPy) -------------------------------------------------------
    be = np.arange(12, dtype=">f4").reshape(3, 4)
    add("big-endian float32 input", None, lambda: (tl.array(be).numpy(), be.astype("<f4")))
    add("big-endian float64 sum", None, lambda: (tl.sum(tl.array(be.astype(">f8")), axis=0).numpy(), be.astype("<f8").sum(0)))
    bi = np.arange(12, dtype=">i8").reshape(3, 4)
    add("big-endian int64 add", None, lambda: ((tl.array(bi) + 1).numpy(), bi + 1))
    nc = np.arange(24, dtype=np.float32).reshape(4, 6)[::2, ::-3]
    add("non-contiguous reversed input", None, lambda: (tl.array(nc).numpy(), nc))
    add("non-contiguous matmul", None, lambda: (tl.matmul(tl.array(nc), tl.array(nc.T)).numpy(), nc @ nc.T))
    fo = np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4))
    add("Fortran-order input", None, lambda: ((tl.array(fo) * 2).numpy(), fo * 2))
    bs = np.lib.stride_tricks.as_strided(np.arange(4, dtype=np.float32), (3, 4), (0, 4))
    add("zero-stride (broadcast) input", None, lambda: (tl.sum(tl.array(bs), axis=1).numpy(), bs.sum(1)))
    un = np.frombuffer(b"\0" + np.arange(4, dtype=np.float32).tobytes(), dtype=np.float32, offset=1)
    add("unaligned input", None, lambda: ((tl.array(un) + 0).numpy(), un + 0))
    add("read-only input", None, lambda: ((tl.array(ro) + 1).numpy(), ro + 1))
    nan = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
    add("NaN/Inf elementwise", None, lambda: ((tl.exp(tl.array(nan)) * 0).numpy(), np.exp(nan) * 0))
    add("NaN/Inf sum", None, lambda: (np.array(tl.sum(tl.array(nan)).item()), np.array(nan.sum(), np.float64)))
    add("NaN max", None, lambda: (np.array(tl.max(tl.array(nan)).item()), np.array(nan.max(), np.float64)))
    add("NaN/Inf astype int is defined (no crash)", None, lambda: (tl.array(nan).astype("int32").shape, (4,)))
    add("empty sum", None, lambda: (np.array(tl.sum(tl.zeros((0, 3)), axis=0).numpy()), np.zeros(3, np.float32)))
    add("empty prod", None, lambda: (np.array(tl.prod(tl.zeros((0,))).item()), np.array(1.0)))
    add("empty matmul", None, lambda: (tl.matmul(tl.zeros((2, 0)), tl.zeros((0, 3))).numpy(), np.zeros((2, 3), np.float32)))
    add("zeros((0, 2**62))", None, lambda: (tl.zeros((0, 2**62)).shape, (0, 2**62)))
    # -- conv and pooling: checked before any memory is touched ---------------------------------
    x4 = lambda shape=(2, 8, 8, 3), dt=np.float32: tl.array(np.ones(shape, dt))  # noqa: E731
    k4 = lambda shape=(3, 3, 3, 4), dt=np.float32: tl.array(np.ones(shape, dt))  # noqa: E731
    add("conv x rank 2", E, lambda: tl.conv(x4((8, 3)), k4((3, 3, 4))))
    add("conv x rank 5", E, lambda: tl.conv(x4((1, 2, 8, 8, 3)), k4((1, 3, 3, 3, 4))))
    add("conv kernel rank != x rank", E, lambda: tl.conv(x4(), k4((3, 3, 4))))
    add("conv channel mismatch", E, lambda: tl.conv(x4(), k4((3, 3, 2, 4))))
    add("conv kernel larger than input (valid)", E, lambda: tl.conv(x4((1, 2, 8, 3)), k4()))
    add("conv dilated kernel larger than input", E, lambda: tl.conv(x4(), k4(), dilation_rate=4))
    add("conv dilation overflows", E, lambda: tl.conv(x4(), k4(), dilation_rate=2**62, padding="same"))
    add("conv strides 0", E, lambda: tl.conv(x4(), k4(), strides=0))
    add("conv strides -1", E, lambda: tl.conv(x4(), k4(), strides=(1, -1)))
    add("conv strides of 3 values for 2-D", E, lambda: tl.conv(x4(), k4(), strides=(1, 1, 1)))
    add("conv dilation 0", E, lambda: tl.conv(x4(), k4(), dilation_rate=0))
    add("conv padding 'full'", E, lambda: tl.conv(x4(), k4(), padding="full"))
    add("conv data_format 'nhwc'", E, lambda: tl.conv(x4(), k4(), data_format="nhwc"))
    add("conv kernel with 0 filters", E, lambda: tl.conv(x4(), k4((3, 3, 3, 0))))
    add("conv int32 x", T, lambda: tl.conv(x4(dt=np.int32), k4()))
    add("conv int64 kernel", T, lambda: tl.conv(x4(), k4(dt=np.int64)))
    add("conv bool x", T, lambda: tl.conv(x4(dt=bool), k4()))
    add("conv strides 1.5", T, lambda: tl.conv(x4(), k4(), strides=1.5))
    add("conv same padding, stride larger than input", None,
        lambda: (tuple(tl.conv(x4(), k4(), strides=20, padding="same").shape), (2, 1, 1, 4)))
    for pool in ("max_pool", "average_pool"):
        f = getattr(tl, pool)
        add(f"{pool} x rank 2", E, lambda f=f: f(x4((8, 3)), 2))
        add(f"{pool} pool_size 0", E, lambda f=f: f(x4(), 0))
        add(f"{pool} pool_size (2, -2)", E, lambda f=f: f(x4(), (2, -2)))
        add(f"{pool} strides 0", E, lambda f=f: f(x4(), 2, strides=0))
        add(f"{pool} pool larger than input (valid)", E, lambda f=f: f(x4((1, 3, 8, 2)), 4))
        add(f"{pool} padding 'causal'", E, lambda f=f: f(x4(), 2, padding="causal"))
        add(f"{pool} int64 x", T, lambda f=f: f(x4(dt=np.int64), 2))
        add(f"{pool} same on 1x1", None, lambda f=f: (tuple(f(x4((1, 1, 1, 2)), 3, padding="same").shape),
                                                      (1, 1, 1, 2)))
    # grouped conv and depthwise_conv (issue 13)
    add("conv grouped: channels not a multiple of the kernel's", E, lambda: tl.conv(x4((1, 5, 5, 6)), k4((3, 3, 4, 4))))
    add("conv grouped: groups do not divide the filters", E, lambda: tl.conv(x4((1, 5, 5, 6)), k4((3, 3, 2, 4))))
    add("conv groups= disagrees with the kernel", E, lambda: tl.conv(x4(), k4((3, 3, 1, 3)), groups=2))
    add("conv zero input channels", E, lambda: tl.conv(x4((1, 5, 5, 0)), k4((3, 3, 1, 3))))
    add("depthwise_conv x rank 2", E, lambda: tl.depthwise_conv(x4((8, 3)), k4((3, 3, 1))))
    add("depthwise_conv kernel rank != x rank", E, lambda: tl.depthwise_conv(x4(), k4((3, 3, 1))))
    add("depthwise_conv channel mismatch", E, lambda: tl.depthwise_conv(x4(), k4((3, 3, 2, 1))))
    add("depthwise_conv kernel larger than input", E, lambda: tl.depthwise_conv(x4((1, 2, 8, 3)), k4((3, 3, 3, 1))))
    add("depthwise_conv multiplier 0", E, lambda: tl.depthwise_conv(x4(), k4((3, 3, 3, 0))))
    add("depthwise_conv output size overflows", HUGE, lambda: tl.depthwise_conv(
        tl.broadcast_to(tl.ones((1, 1, 1, 1)), (1, 2**20, 2**20, 1)),
        tl.broadcast_to(tl.ones((1, 1, 1, 1)), (1, 1, 1, 2**40))))
    add("depthwise_conv strides 0", E, lambda: tl.depthwise_conv(x4(), k4((3, 3, 3, 1)), strides=0))
    add("depthwise_conv dilation overflows", E, lambda: tl.depthwise_conv(x4(), k4((3, 3, 3, 1)), dilation_rate=2**62,
                                                                          padding="same"))
    add("depthwise_conv padding 'full'", E, lambda: tl.depthwise_conv(x4(), k4((3, 3, 3, 1)), padding="full"))
    add("depthwise_conv int32 x", T, lambda: tl.depthwise_conv(x4(dt=np.int32), k4((3, 3, 3, 1))))
    # batch normalisation (issue 13)
    v3 = lambda n=3, dt=np.float32: tl.array(np.ones(n, dt))  # noqa: E731
    add("batch_normalization mean of the wrong length", E, lambda: tl.batch_normalization(x4(), v3(4), v3(), -1))
    add("batch_normalization 2-D variance", E, lambda: tl.batch_normalization(x4(), v3(), tl.ones((3, 1)), -1))
    add("batch_normalization axis out of range", E, lambda: tl.batch_normalization(x4(), v3(), v3(), 4))
    add("batch_normalization 0-d x", E, lambda: tl.batch_normalization(tl.array(1.0), v3(1), v3(1), 0))
    add("batch_normalization int x", T, lambda: tl.batch_normalization(x4(dt=np.int64), v3(), v3(), -1))
    add("batch_normalization int scale", T, lambda: tl.batch_normalization(x4(), v3(), v3(), -1,
                                                                          scale=v3(dt=np.int32)))
    add("batch_normalization negative epsilon", E, lambda: tl.batch_normalization(x4(), v3(), v3(), -1, epsilon=-1.0))
    add("batch_norm_train empty batch", E, lambda: tl.batch_norm_train(x4((0, 4, 4, 3)), v3(), v3()))
    add("batch_norm_train moving_mean of the wrong length", E, lambda: tl.batch_norm_train(x4(), v3(2), v3()))
    add("batch_norm_train broadcast moving_variance", E, lambda: tl.batch_norm_train(
        x4(), v3(), tl.broadcast_to(tl.ones(1), (3,))))
    add("batch_norm_train moving stats requiring grad", R, lambda: tl.batch_norm_train(
        x4(), v3(), tl.ones(3, requires_grad=True)))
    add("batch_norm_train NaN momentum", E, lambda: tl.batch_norm_train(x4(), v3(), v3(), momentum=float("nan")))
    add("batch_norm_train int moving_mean", T, lambda: tl.batch_norm_train(x4(), v3(dt=np.int32), v3()))

    # -- autograd and in-place writes (issue 11) ----------------------------------------------
    def leaf3():
        return tl.array([1.0, 2.0, 3.0], requires_grad=True)

    def written_after_save(op, write):
        def run():
            w = leaf3()
            loss = tl.sum(op(w))
            with tl.no_grad():
                write(w)
            loss.backward()
        return run

    def isub(w):
        w -= 0.5

    add("backward after saved input written (w*w, w -= .5)", R, written_after_save(lambda w: w * w, isub))
    def matmul_right_operand_written():
        a = tl.array(np.ones((2, 3)), requires_grad=True)
        v = tl.array([1.0, 2.0, 3.0])
        loss = tl.sum(a @ v)
        v *= 10.0  # the gradient of a is computed from v
        loss.backward()
    add("backward after saved right matmul operand written", R, matmul_right_operand_written)
    def saved_output_written():
        y = tl.exp(leaf3())
        with tl.no_grad():
            y *= 2.0
        tl.sum(y).backward()
    add("backward after saved output written (exp)", R, saved_output_written)
    add("in-place on a leaf requiring grad", R, lambda: leaf3().__iadd__(1.0))
    add("setitem on a leaf requiring grad", R, lambda: leaf3().__setitem__(0, 1.0))
    add("fill_ on a leaf requiring grad", R, lambda: leaf3().fill_(1.0))
    add("in-place on a view of a leaf requiring grad", R, lambda: leaf3()[0:2].__imul__(3.0))
    add("floor_divide in place on a graph tensor", R, lambda: (leaf3() * 1.0).__ifloordiv__(2.0))
    add("shuffle of a graph tensor", R, lambda: tl.random.shuffle(leaf3() * 1.0))
    add("take(out=) from a tensor requiring grad", R,
        lambda: tl.take(leaf3(), tl.array([0, 1]), out=tl.zeros(2, dtype="float64")))
    add("setitem repeated index, value requiring grad", R,
        lambda: (leaf3() * 1.0).__setitem__(tl.array([0, 0]), tl.array([1.0, 2.0], requires_grad=True)))

    # -- the catalog's fused optimizer step (optim.catalog_step): checked before any write --------
    from tensorlet._core import _optim

    def catalog(rule="adagrad", params=None, grads=None, slots=None, state=True, **kw):
        def run():
            ps = params() if params else [tl.ones((3,), dtype="float64")]
            gs = grads() if grads else [tl.ones((3,), dtype="float64")]
            ss = slots() if slots else ([tl.zeros((3,), dtype="float64")], [], [])
            st = _optim.StepState(0.1, 0) if state else None
            _optim.catalog_step(rule, ps, gs, *ss, state=st, **kw)
            return tuple(float(v) for v in np.asarray(ps[0])), (0.9,) * 3 if rule == "lion" else None
        return run

    add("catalog_step unknown rule", E, catalog(rule="adamm"))
    add("catalog_step without state", E, catalog(state=False))
    add("catalog_step grad shape", E, catalog(grads=lambda: [tl.ones((2,), dtype="float64")]))
    add("catalog_step grad dtype", E, catalog(grads=lambda: [tl.ones((3,), dtype="float32")]))
    add("catalog_step int64 param", E, catalog(params=lambda: [tl.ones((3,), dtype="int64")],
                                               grads=lambda: [tl.ones((3,), dtype="int64")],
                                               slots=lambda: ([tl.zeros((3,), dtype="int64")], [], [])))
    add("catalog_step missing slot list", E, catalog(rule="adadelta"))
    add("catalog_step extra slot list", E, catalog(slots=lambda: ([tl.zeros((3,), dtype="float64")],
                                                                   [tl.zeros((3,), dtype="float64")], [])))
    add("catalog_step slot aliasing the param", E, _alias_case(_optim))
    add("catalog_step amsgrad on lion", E, catalog(rule="lion", amsgrad=True))
    add("catalog_step negative beta_1", E, catalog(rule="lion", beta_1=-0.5))
    add("catalog_step nan epsilon", E, catalog(epsilon=float("nan")))
    add("catalog_step weight_decay count", E, catalog(weight_decay=[0.1, 0.2]))
    add("catalog_step negative weight_decay", E, catalog(weight_decay=[-0.1]))
    add("catalog_step unknown clip", E, catalog(clip="norms", clip_value=1.0))
    add("catalog_step zero clip_value", E, catalog(clip="norm", clip_value=0.0))
    add("catalog_step nan clip_value", E, catalog(clip="value", clip_value=float("nan")))
    add("catalog_step lion works", None, catalog(rule="lion"))

    def view_inplace():
        x = leaf3()
        z = x * 1.0
        v = z[0]
        v *= 3.0
        tl.sum(z).backward()
        return x.grad.numpy(), np.array([3.0, 1.0, 1.0])
    add("in-place on a view of a non-leaf (CopySlices)", None, view_inplace)

    def setitem_non_leaf():
        x = leaf3()
        z = x * 1
        z[0] = 0.0
        tl.sum(z).backward()
        return x.grad.numpy(), np.array([0.0, 1.0, 1.0])
    add("setitem on a non-leaf (rebased history)", None, setitem_non_leaf)
    # -- Array API: sorting, cumulative, DLPack (issue 15) ------------------------------------
    f3 = lambda: tl.asarray(np.array([3.0, 1.0, 2.0]))  # noqa: E731
    add("_sort_values(0-d)", E, lambda: tl._core._sort_values(tl.asarray(1.0), -1, False))
    add("_argsort(axis=5)", (E, I), lambda: tl._core._argsort(f3(), 5, False))
    add("sort(list) needs a tensor", T, lambda: tl.sort([3, 1]))
    add("unique_values(list) needs a tensor", T, lambda: tl.unique_values([3, 1]))
    add("_unique_values(float16)", T, lambda: tl._core._unique_values(tl.asarray(np.array([1.0, 2.0], np.float16))))
    add("_unique_counts(complex64)", T, lambda: tl._core._unique_counts(tl.asarray(np.array([1j, 2.0], np.complex64))))
    add("unique_counts(list) needs a tensor", T, lambda: tl.unique_counts([3, 1]))
    add("_cumsum(0-d)", E, lambda: tl._core._cumsum(tl.asarray(1.0), 0, False))
    add("_cumsum(axis=-3)", (E, I), lambda: tl._core._cumsum(t23(), -3, False))
    add("_cumprod(axis=2)", (E, I), lambda: tl._core._cumprod(t23(), 2))
    add("cumulative_sum(2-d, no axis)", E, lambda: tl.cumulative_sum(t23()))
    add("cumulative_sum(axis=1.5)", T, lambda: tl.cumulative_sum(t23(), axis=1.5))
    add("_searchsorted(2-d x1)", E, lambda: tl._core._searchsorted(t23(), f3(), False))
    add("_searchsorted(dtype mismatch)", T,
        lambda: tl._core._searchsorted(f3(), tl.asarray(np.array([1], np.int64)), False))
    add("searchsorted(side='up')", E, lambda: tl.searchsorted(f3(), f3(), side="up"))
    add("searchsorted(sorter out of range)", I, lambda: tl.searchsorted(f3(), f3(), sorter=tl.asarray([0, 1, 7])))
    add("nonzero(0-d)", E, lambda: tl.nonzero(tl.asarray(1.0)))
    add("_nonzero(float mask)", T, lambda: tl._core._nonzero(f3()))
    add("_nonzero(0-d mask)", E, lambda: tl._core._nonzero(tl.asarray(True)))
    add("_count_true(float mask)", T, lambda: tl._core._count_true(f3()))
    add("take_along_axis(float indices)", T, lambda: tl.take_along_axis(f3(), f3(), axis=0))
    add("take_along_axis(index out of range)", I,
        lambda: tl.take_along_axis(f3(), tl.asarray(np.array([5], np.int64)), axis=0))
    add("_from_dlpack_capsule(not a capsule)", T, lambda: tl._core._from_dlpack_capsule(3))
    add("from_dlpack(list)", T, lambda: tl.from_dlpack([1.0]))
    add("__dlpack__(dl_device=(2, 0))", BufferError, lambda: f3().__dlpack__(dl_device=(2, 0)))
    add("__dlpack__(max_version=(1,))", E, lambda: f3().__dlpack__(max_version=(1,)))
    add("__dlpack__(stream=0)", E, lambda: f3().__dlpack__(stream=0))
    add("atan2(bool, bool) -> float16", None,
        lambda: (tl.atan2(tl.asarray([True]), tl.asarray([True])), np.arctan2(np.asarray([True]), np.asarray([True]))))
    add("finfo(int32)", T, lambda: tl.finfo(tl.int32))
    add("isdtype(kind='floating')", E, lambda: tl.isdtype(tl.float32, "floating"))

    # -- complex64 / complex128 (issue 15): ops the standard leaves undefined raise TypeError ------
    def c3():
        return tl.asarray(np.array([1 + 2j, -3j, 0.5], np.complex64))
    for name in ("less", "greater_equal", "maximum", "minimum", "remainder", "floor_divide", "atan2", "hypot",
                 "copysign", "logaddexp", "bitwise_and"):
        add(f"{name}(complex64, complex64)", T, lambda name=name: getattr(tl, name)(c3(), c3()))
    for name in ("floor", "ceil", "trunc", "signbit", "sort", "argsort", "argmax", "max", "min", "var", "std",
                 "relu", "sigmoid"):
        add(f"{name}(complex64)", T, lambda name=name: getattr(tl, name)(c3()))
    add("complex64 < 1", T, lambda: c3() < 1)
    add("softmax(complex64)", T, lambda: tl.softmax(c3()))
    add("complex64 % 2", T, lambda: c3() % 2)
    add("float(complex64 tensor)", T, lambda: float(tl.asarray(1j)))
    add("int(complex128 tensor)", T, lambda: int(tl.asarray(1j)))
    add("int(NaN tensor)", E, lambda: int(tl.asarray(np.float32("nan"))))  # as int(float('nan'))
    add("int(inf tensor)", O, lambda: int(tl.asarray(np.float64("-inf"))))
    add("requires_grad on complex", T, lambda: tl.zeros(2, dtype="complex64").requires_grad_(True))
    add("complex result of a grad input", T,
        lambda: tl.ones(2, requires_grad=True) * 1j)
    add("full(2, 1j, dtype=float32)", T, lambda: tl.full(2, 1j, dtype="float32"))
    add("complex64 + 1j must work", None,
        lambda: (c3() + 1j, np.asarray(c3()) + 1j))
    add("complex128 matmul must work", None,
        lambda: (tl.matmul(c3()[:, None], c3()[None]), np.matmul(np.asarray(c3())[:, None], np.asarray(c3())[None])))

    # -- capture: replaying part of a plan (tensorlet.distribution's overlapped step) ------------
    _C = tl._core._capture
    add("Plan.replay_range past the end", I, lambda: _C.Plan().replay_range(0, 1))
    add("Plan.replay_range begin > end", I, lambda: _C.Plan().replay_range(2, 1))
    add("Plan.replay_range(-1, 0)", T, lambda: _C.Plan().replay_range(-1, 0))
    add("capture.run end past the plan", I, lambda: _C.run(_C.Plan(), [], [], 3))
    add("capture.host_access(False) unpaired", E, lambda: _C.host_access(False))
    add("capture.host_access('yes')", T, lambda: _C.host_access("yes"))
    # capture.run_rows: a batch's rows gathered straight into a plan's inputs (fit's replays)
    src, dst = tl.zeros((6, 3), dtype="float32"), [tl.zeros((2, 3), dtype="float32")]
    perm = tl.asarray(np.array([5, 0, 2, 1, 4, 3]))

    def rows(dst=dst, srcs=(src,), index=perm, start=0, stop=2):
        return _C.run_rows(_C.Plan(), dst, list(srcs), index, start, stop, 0)
    add("capture.run_rows two sources for one input", E, lambda: rows(srcs=(src, src)))
    add("capture.run_rows no sources", E, lambda: rows(dst=[], srcs=()))
    add("capture.run_rows 0-d source", E, lambda: rows(srcs=(tl.asarray(np.float32(1)),)))
    add("capture.run_rows float index", E, lambda: rows(index=tl.asarray(np.zeros(6, np.float32))))
    add("capture.run_rows 2-d index", E, lambda: rows(index=tl.zeros((2, 3), dtype="int64")))
    add("capture.run_rows index value out of range", I, lambda: rows(index=tl.asarray(np.array([0, 6, 1]))))
    add("capture.run_rows negative index value", I, lambda: rows(index=tl.asarray(np.array([-1, 0, 1]))))
    add("capture.run_rows stop past the index", I, lambda: rows(start=5, stop=7))
    add("capture.run_rows start > stop", I, lambda: rows(start=2, stop=1))
    add("capture.run_rows stop past the rows (no index)", I, lambda: rows(index=None, start=5, stop=7))
    add("capture.run_rows rows for another shape", E, lambda: rows(stop=3))
    add("capture.run_rows float64 rows into float32", E, lambda: rows(srcs=(tl.zeros((6, 3), dtype="float64"),)))
    add("capture.run_rows sources of other lengths", E,
        lambda: rows(dst=dst * 2, srcs=(src, tl.zeros((5, 3), dtype="float32"))))
    add("capture.run_rows non-contiguous source", E, lambda: rows(srcs=(tl.zeros((6, 6), dtype="float32")[:, ::2],)))
    add("capture.run_rows a NumPy source", T, lambda: rows(srcs=(np.zeros((6, 3), np.float32),)))
    add("capture.run_rows gathers (index and slice)", None, lambda: (
        (rows(), np.asarray(dst[0]).copy())[1],
        np.asarray(src)[[5, 0]]))
    add("Plan.fuse([1.0])", T, lambda: _C.Plan().fuse([1.0]))
    add("Plan.fuse(None)", T, lambda: _C.Plan().fuse(None))
    return C


def classify(expected, fn):
    try:
        out = fn()
    except BaseException as e:  # noqa: BLE001 - we report what was raised
        if expected is None:
            return False, f"raised {type(e).__name__}: {e}"
        if isinstance(e, expected) and str(e).strip():
            return True, f"{type(e).__name__}: {str(e)[:200]}"
        return False, f"raised {type(e).__name__}: {str(e)[:200]}"
    if expected is not None:
        return False, f"returned {out!r:.200} instead of raising"
    got, want = out
    try:
        if isinstance(got, tuple):
            ok = got == want
        else:
            ok = np.array_equal(np.asarray(got), np.asarray(want), equal_nan=True) and \
                 np.asarray(got).dtype == np.asarray(want).dtype or \
                 (np.asarray(got).dtype.kind == np.asarray(want).dtype.kind and
                  np.array_equal(np.asarray(got), np.asarray(want), equal_nan=True))
    except Exception as e:  # noqa: BLE001
        return False, f"comparison failed: {e}"
    return bool(ok), "ok" if ok else f"got {got!r:.200}, NumPy {want!r:.200}"


def main():
    table = cases()
    only = set(sys.argv[1:])
    for name, expected, fn in table:
        if only and name not in only:
            continue
        print("START", name, file=sys.stderr, flush=True)
        ok, detail = classify(expected, fn)
        print(json.dumps({"name": name, "ok": ok, "detail": detail}), flush=True)


if __name__ == "__main__":
    main()
