"""Property-based fuzz of the captured step (issue #12: "the captured step equals the eager path").

hypothesis draws small random programs and runs each twice on separate copies of its weights,
optimizer and random generator: eagerly (CapturedFunction(enabled=False)) and through
CapturedFunction (an eager call, the capture, then three replays), with fresh input values on
every call. Every returned tensor, every leaf's .grad, every weight and every optimizer slot is
compared after every call BIT FOR BIT (NaN where NaN, the sign of zeros too): the recorder's
lowering, the rewrites (gemm_epilogue, activation_grad, mean_xent_grad, mean_grad,
elementwise_chain) and buffer sharing all claim the separate kernels' bits.

Two program families:
- elementwise: unary chains from the op table, binaries with a Python scalar, a 0-d tensor
  argument, a same-shape tensor or weight and a broadcast row / column / one-element operand,
  comparisons with where, casts to float64 / float32 / int32 and back, clip, in-place updates of
  intermediates (also through an index), unary ops on transposed views, a mean broadcast back,
  softmax, Dropout, then a reduction (sum / mean / max over an axis or all); sizes below, at and
  past the 4096-element chunk;
- dense: linear / matmul layers with and without bias, relu epilogues, activations, elementwise
  ops and Dropout (also with a broadcast noise_shape) between layers, 2-D or 3-D inputs, sparse or
  one-hot softmax cross-entropy, mean-squared error or a plain sum;
each with or without a backward and an optimizer step (SGD, SGD+momentum, RMSprop, centered
RMSprop with momentum, Adam, AdamW, Nadam), in
float32 and float64, with or without fusion and buffer sharing, at 1 or 2 threads. A few explicit
cases add sizes past the 65536 elements where chains split over the pool, at both thread counts.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tensorlet as tl
from tensorlet import optimizers
from tensorlet.capture import CapturedFunction
from tensorlet.layers import Dropout

CALLS = 5  # an eager call, the capture, three replays
FUZZ = settings(derandomize=True, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

UNARY = {
    "exp": tl.exp, "tanh": tl.tanh, "sigmoid": tl.sigmoid, "relu": tl.relu, "negative": tl.negative,
    "square": tl.square, "abs": tl.abs, "sin": tl.sin, "arctan": tl.arctan, "erf": tl.erf, "expm1": tl.expm1,
    "floor": tl.floor, "sign": tl.sign,
    "log_abs1": lambda h: tl.log(tl.abs(h) + 1.0), "sqrt_abs": lambda h: tl.sqrt(tl.abs(h)),
    "log1p_relu": lambda h: tl.log1p(tl.relu(h)),
}
BINARY = {"add": tl.add, "subtract": tl.subtract, "multiply": tl.multiply, "divide": tl.divide,
          "maximum": tl.maximum, "minimum": tl.minimum}
ACTIVATIONS = {"tanh": tl.tanh, "sigmoid": tl.sigmoid, "relu": tl.relu, "linear": lambda h: h}
OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.05), "momentum": lambda: optimizers.SGD(0.05, momentum=0.9),
    "rmsprop": lambda: optimizers.RMSprop(0.01), "adam": lambda: optimizers.Adam(0.01),
    "adamw": lambda: optimizers.AdamW(0.01), "nadam": lambda: optimizers.Nadam(0.01),  # the catalog step
    "rmsprop-centered": lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
}
MODES = [(True, True), (True, False), (False, True)]  # (fuse, share_buffers)


# -- comparing ----------------------------------------------------------------------------------

def snapshot(x):
    return None if x is None else np.array(np.asarray(x), copy=True)


def assert_same_bits(a, b, what):
    """a and b are equal as the bits tell: NaN where NaN, the same sign on every other value."""
    assert (a is None) == (b is None), what
    if a is None:
        return
    assert a.dtype == b.dtype and a.shape == b.shape, (what, a.dtype, a.shape, b.dtype, b.shape)
    if a.dtype.kind != "f":
        assert np.array_equal(a, b), what
        return
    nan = np.isnan(a)
    bad = (nan != np.isnan(b)) | (~nan & ((a != b) | (np.signbit(a) != np.signbit(b))))
    if bad.any():
        at = np.argwhere(bad)[:5].tolist() if a.ndim else []
        raise AssertionError(f"{what}: {int(bad.sum())} of {a.size} values differ, e.g. at {at}: "
                             f"eager {a[bad][:5]} vs captured {b[bad][:5]}")


def assert_runs_equal(eager, captured):
    assert len(eager) == len(captured) == CALLS
    for call, (e, c) in enumerate(zip(eager, captured)):
        assert e.keys() == c.keys()
        for name in e:
            assert len(e[name]) == len(c[name]), (call, name)
            for k, (a, b) in enumerate(zip(e[name], c[name])):
                assert_same_bits(a, b, f"call {call} ({['eager', 'capture', 'replay', 'replay', 'replay'][call]}), "
                                       f"{name}[{k}]")


def run_both(make, inputs, threads, mode=(True, True)):
    """make() -> (step, weights, optimizer or None), fresh state each time; runs the step eagerly and
    captured over `inputs` (one argument tuple per call) at `threads` threads and compares."""
    fuse, share = mode
    prev = tl.get_num_threads()
    runs = []
    try:
        tl.set_num_threads(threads)
        for capture in (False, True):
            step, weights, opt = make()
            f = CapturedFunction(step, enabled=capture, fuse=fuse, share_buffers=share)
            calls = []
            for args in inputs:
                out = f(*args)
                outs = out if isinstance(out, tuple) else (out,)
                calls.append({"out": [snapshot(o) for o in outs],
                              "grad": [snapshot(w.grad) for w in weights],
                              "weight": [snapshot(w) for w in weights],
                              "slot": [snapshot(v) for v in (opt.variables if opt is not None else [])]})
            runs.append(calls)
            if capture:
                assert f.stats()["replays"] == CALLS - 2 and f.stats()["plans"] == 1, f.stats()
    finally:
        tl.set_num_threads(prev)
    assert_runs_equal(*runs)
    return f


# -- elementwise programs -----------------------------------------------------------------------

SHAPES = [(), (1,), (7,), (3, 5), (2, 1, 3), (4095,), (4097,), (3, 1365), (17, 241)]


def other_shapes(shape):
    """Broadcast operands for `shape`: one element, a row, a column."""
    out = [(1,) * len(shape)]
    if len(shape) >= 1:
        out.append(shape[-1:])
    if len(shape) >= 2:
        out.append(shape[:-1] + (1,))
    return out


@st.composite
def operands(draw):
    """Where a binary op's second operand comes from."""
    kind = draw(st.sampled_from(["py", "py", "zero_d", "x", "w", "row", "wrow", "prev"]))
    if kind == "py":
        return ("py", draw(st.sampled_from([0.5, -1.25, 2.0, 3.0, 1e-3, 0.0])))
    return (kind, draw(st.integers(0, 7)))


@st.composite
def elementwise_op(draw):
    kind = draw(st.sampled_from(["unary", "unary", "binary", "binary", "rbinary", "where", "mask", "cast",
                                 "clip", "inplace", "dropout", "center", "softmax", "strided", "setitem"]))
    if kind in ("center", "softmax"):
        return (kind,)
    if kind == "strided":  # a unary op on a transposed view: the kernels' strided paths
        return ("strided", draw(st.sampled_from(sorted(UNARY))))
    if kind == "setitem":
        return ("setitem", draw(st.sampled_from([0.0, -2.5])))
    if kind == "unary":
        return ("unary", draw(st.sampled_from(sorted(UNARY))))
    if kind in ("binary", "rbinary"):
        return (kind, draw(st.sampled_from(sorted(BINARY))), draw(operands()))
    if kind == "where":
        return ("where", draw(st.sampled_from([">", "<", ">="])), draw(operands()), draw(operands()))
    if kind == "mask":  # (h > c).astype(dtype) * h, as a masked loss does
        return ("mask", draw(st.sampled_from([0.0, 0.5, -0.5])))
    if kind == "cast":
        return ("cast", draw(st.sampled_from(["float64", "float32", "int32"])))
    if kind == "clip":
        lo = draw(st.sampled_from([-1.0, -0.25, 0.0]))
        return ("clip", lo, lo + draw(st.sampled_from([0.5, 1.0, 3.0])))
    if kind == "inplace":
        return ("inplace", draw(st.sampled_from(["+=", "-=", "*="])), draw(operands()))
    return ("dropout", draw(st.sampled_from([0.2, 0.5])), draw(st.booleans()))


@st.composite
def elementwise_programs(draw):
    shape = draw(st.sampled_from(SHAPES))
    return {
        "shape": shape,
        "dtype": draw(st.sampled_from(["float32", "float64"])),
        "row": draw(st.sampled_from(other_shapes(shape))) if shape else (),
        "ops": draw(st.lists(elementwise_op(), min_size=1, max_size=7)),
        "head": draw(st.sampled_from(["none", "sum", "mean", "max"])),
        "axis": draw(st.sampled_from([None, 0, -1])) if shape else None,
        "returned": draw(st.lists(st.integers(0, 7), max_size=2)),
        "backward": draw(st.booleans()),
        "opt": draw(st.sampled_from([None] + sorted(OPTIMIZERS))),
        "threads": draw(st.sampled_from([1, 2])),
        "mode": draw(st.sampled_from(MODES)),
        "seed": draw(st.integers(0, 2**16)),
    }


def elementwise_inputs(p, calls=CALLS):
    rng = np.random.default_rng(p["seed"])
    dt = p["dtype"]
    return [(rng.normal(size=p["shape"]).astype(dt), np.asarray(rng.normal() * 2, dt),
             rng.normal(size=p["row"]).astype(dt)) for _ in range(calls)]


def elementwise_step(p):
    """make() for run_both: the program's step over fresh weights, optimizer and generators."""
    def make():
        tl.random.seed(p["seed"])
        rng = np.random.default_rng(p["seed"] + 1)
        dt, train = p["dtype"], p["backward"]
        w = tl.array(rng.normal(size=p["shape"]).astype(dt), requires_grad=train)
        wrow = tl.array(rng.normal(size=p["row"]).astype(dt), requires_grad=train)
        weights = [w, wrow] if train else []
        opt = OPTIMIZERS[p["opt"]]() if train and p["opt"] else None
        drops = [Dropout(op[1], seed=p["seed"] + k if op[2] else None) for k, op in enumerate(p["ops"])
                 if op[0] == "dropout"]

        def step(x, s, r):
            for v in weights:
                v.grad = None
            vals = [x]

            def operand(o):
                kind, k = o
                return {"py": lambda: k, "zero_d": lambda: s, "x": lambda: x, "w": lambda: w, "row": lambda: r,
                        "wrow": lambda: wrow, "prev": lambda: vals[k % len(vals)]}[kind]()

            d = iter(drops)
            for op in p["ops"]:
                h = vals[-1]
                kind = op[0]
                if kind == "unary":
                    h = UNARY[op[1]](h)
                elif kind == "binary":
                    h = BINARY[op[1]](h, operand(op[2]))
                elif kind == "rbinary":
                    b = operand(op[2])
                    h = BINARY[op[1]](tl.full((), b, dtype=dt) if isinstance(b, float) else b, h)
                elif kind == "where":
                    c = operand(op[2])
                    cond = h > c if op[1] == ">" else h < c if op[1] == "<" else h >= c
                    h = tl.where(cond, h, operand(op[3]))
                elif kind == "mask":
                    h = (h > op[1]).astype(dt) * h
                elif kind == "cast":
                    h = (tl.clip(h, -1e6, 1e6) if op[1] == "int32" else h).astype(op[1]).astype(dt)
                elif kind == "clip":
                    h = tl.clip(h, op[1], op[2])
                elif kind == "inplace":
                    h = h * 1.0  # a fresh intermediate: never write an argument or a weight
                    b = operand(op[2])
                    if op[1] == "+=":
                        h += b
                    elif op[1] == "-=":
                        h -= b
                    else:
                        h *= b
                elif kind == "center":  # a reduction broadcast back, as a normalisation does
                    axis = -1 if h.ndim else None
                    h = h - tl.mean(h, axis=axis, keepdims=True)
                elif kind == "softmax":
                    h = tl.softmax(h, axis=-1) if h.ndim else tl.exp(h - h)
                elif kind == "strided":
                    h = tl.swapaxes(UNARY[op[1]](tl.swapaxes(h, 0, -1)), 0, -1) if h.ndim else UNARY[op[1]](h)
                elif kind == "setitem":  # an in-place write through an index into an intermediate
                    h = h * 1.0
                    if h.ndim:
                        h[..., :1] = op[1]
                    else:
                        h[...] = op[1]
                else:
                    h = next(d)(h, training=True)
                assert tuple(h.shape) == p["shape"]  # operands broadcast into the shape, never widen it
                vals.append(h)
            h = vals[-1]
            if p["head"] != "none":
                h = getattr(tl, p["head"])(h, axis=p["axis"])
            outs = [h] + [vals[1 + k % (len(vals) - 1)] for k in p["returned"]]
            if train:
                loss = tl.mean(h) + tl.sum(w * w) * 1e-3 + tl.sum(wrow * wrow) * 1e-3
                loss.backward()
                if opt is not None:
                    opt.apply(weights)
                outs.append(loss)
            return tuple(outs)

        return step, weights, opt
    return make


def check_program(p, make, inputs):
    """Compares the program's eager and captured runs; only programs that run eagerly count (an
    in-place update of a tensor a backward saved is refused, as in PyTorch)."""
    step, _, _ = make()
    try:
        step(*inputs[0])
    except (RuntimeError, ValueError, TypeError):
        assume(False)
    run_both(make, inputs, p["threads"], p["mode"])


@settings(FUZZ, max_examples=120)
@given(elementwise_programs())
def test_elementwise_programs_replay_bit_for_bit(p):
    check_program(p, elementwise_step(p), elementwise_inputs(p))


# -- dense programs -----------------------------------------------------------------------------

@st.composite
def layers(draw):
    return {
        "units": draw(st.integers(1, 13)),
        "bias": draw(st.booleans()),
        "matmul": draw(st.booleans()),  # tl.matmul(h, w) + b instead of tl.linear
        "act": draw(st.sampled_from(["relu!", "tanh", "sigmoid", "relu", "linear"])),  # relu!: the epilogue
        "ew": draw(st.lists(st.sampled_from(["square", "scale", "shift", "exp_neg", "clip", "inplace"]), max_size=2)),
        "dropout": draw(st.sampled_from([None, None, 0.3, "noise_shape"])),
    }


@st.composite
def dense_programs(draw):
    return {
        "batch": draw(st.integers(1, 9)),
        "features": draw(st.integers(1, 11)),
        "classes": draw(st.integers(1, 6)),
        "layers": draw(st.lists(layers(), min_size=0, max_size=2)),
        "last_bias": draw(st.booleans()),
        "loss": draw(st.sampled_from(["sparse", "onehot", "mse", "sum"])),
        "seq": draw(st.sampled_from([1, 1, 3])),  # > 1: 3-D inputs, whose leading dims linear flattens
        "backward": draw(st.sampled_from([True, True, True, False])),
        "opt": draw(st.sampled_from([None] + sorted(OPTIMIZERS))),
        "dtype": draw(st.sampled_from(["float32", "float64"])),
        "threads": draw(st.sampled_from([1, 2])),
        "mode": draw(st.sampled_from(MODES)),
        "seed": draw(st.integers(0, 2**16)),
    }


def dense_inputs(p, calls=CALLS):
    rng = np.random.default_rng(p["seed"])
    dt, lead = p["dtype"], (p["batch"],) if p["seq"] == 1 else (p["batch"], p["seq"])
    out = []
    for _ in range(calls):
        x = rng.normal(size=lead + (p["features"],)).astype(dt)
        if p["loss"] == "sparse":
            y = rng.integers(0, p["classes"], size=lead)
        elif p["loss"] == "onehot":
            y = np.eye(p["classes"], dtype=dt)[rng.integers(0, p["classes"], size=lead)]
        else:
            y = rng.normal(size=lead + (p["classes"],)).astype(dt)
        out.append((x, y))
    return out


EW = {"square": tl.square, "scale": lambda h: h * 0.5, "shift": lambda h: h - 0.25,
      "exp_neg": lambda h: tl.exp(-tl.abs(h)), "clip": lambda h: tl.clip(h, -2.0, 2.0)}


def dense_step(p):
    def make():
        tl.random.seed(p["seed"])
        rng = np.random.default_rng(p["seed"] + 1)
        dt, train = p["dtype"], p["backward"]
        sizes = [p["features"]] + [layer["units"] for layer in p["layers"]] + [p["classes"]]
        biases = [layer["bias"] for layer in p["layers"]] + [p["last_bias"]]
        ws, bs = [], []
        for k, n, has_bias in zip(sizes[:-1], sizes[1:], biases):
            ws.append(tl.array((rng.normal(size=(k, n)) * 0.4).astype(dt), requires_grad=train))
            bs.append(tl.array((rng.normal(size=n) * 0.1).astype(dt), requires_grad=train) if has_bias else None)
        weights = [v for pair in zip(ws, bs) for v in pair if v is not None] if train else []
        opt = OPTIMIZERS[p["opt"]]() if train and p["opt"] else None
        drops = [Dropout(0.3, noise_shape=(1,) * (1 + (p["seq"] > 1)) + (None,) if layer["dropout"] == "noise_shape" else None)
                 if layer["dropout"] else None for layer in p["layers"]]

        def dense(h, w, b, act, matmul):
            if matmul:
                h = tl.matmul(h, w)
                h = h + b if b is not None else h
                return tl.relu(h) if act == "relu!" else ACTIVATIONS[act](h)
            if act == "relu!":
                return tl.linear(h, w, b, activation="relu")
            return ACTIVATIONS[act](tl.linear(h, w, b))

        def step(x, y):
            for v in weights:
                v.grad = None
            h = x
            for k, layer in enumerate(p["layers"]):
                h = dense(h, ws[k], bs[k], layer["act"], layer["matmul"])
                for name in layer["ew"]:
                    if name == "inplace":
                        h = h * 1.0
                        h += 0.125
                    else:
                        h = EW[name](h)
                if drops[k] is not None:
                    h = drops[k](h, training=True)
            z = dense(h, ws[-1], bs[-1], "linear", False)
            if p["loss"] == "sparse":
                loss = tl.mean(tl.sparse_softmax_cross_entropy(z, y))
            elif p["loss"] == "onehot":
                loss = tl.mean(tl.softmax_cross_entropy(z, y))
            elif p["loss"] == "mse":
                loss = tl.mean(tl.mean_squared_error(z, y))
            else:
                loss = tl.sum(z * y)
            if train:
                loss.backward()
                if opt is not None:
                    opt.apply(weights)
            return loss, z, h

        return step, weights, opt
    return make


@settings(FUZZ, max_examples=80)
@given(dense_programs())
def test_dense_programs_replay_bit_for_bit(p):
    check_program(p, dense_step(p), dense_inputs(p))


# -- explicit cases -----------------------------------------------------------------------------

def explicit(shape, ops, head="sum", backward=True, opt="adam", dtype="float32", row=None, returned=()):
    return {"shape": shape, "dtype": dtype, "row": row if row is not None else shape[-1:], "ops": ops,
            "head": head, "axis": None, "returned": list(returned), "backward": backward, "opt": opt,
            "threads": 1, "mode": (True, True), "seed": 3}


# Past 65536 elements a chain's chunks split over the pool, as the separate kernels split theirs.
LARGE = {
    "chain-70000": explicit((70000,), [("binary", "multiply", ("w", 0)), ("unary", "tanh"),
                                       ("binary", "add", ("zero_d", 0)), ("unary", "sigmoid"),
                                       ("inplace", "*=", ("py", 0.5))]),
    "dropout-where-cast-70001": explicit((7, 10001), [("dropout", 0.5, True), ("where", ">", ("py", 0.0), ("x", 0)),
                                                      ("cast", "float64"), ("unary", "exp")], dtype="float64",
                                         row=(1, 1), returned=(0,)),
    "row-broadcast-and-mask-65537": explicit((65537,), [("mask", 0.0), ("binary", "add", ("wrow", 0)),
                                                        ("clip", -1.0, 0.0), ("unary", "log_abs1")], opt="rmsprop",
                                             row=(1,), head="max"),
}


@pytest.mark.parametrize("name", sorted(LARGE))
@pytest.mark.parametrize("threads", [1, 2])
def test_large_chains_replay_bit_for_bit(name, threads):
    p = LARGE[name]
    f = run_both(elementwise_step(p), elementwise_inputs(p), threads, p["mode"])
    assert f.fused.get("elementwise_chain", 0) >= 1  # the chunked path really ran


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm_epilogue_gives_the_unary_kernels_bits(act, dtype, every_isa):
    """Found by this fuzz: the gemm_epilogue rewrite (linear -> tanh in one GEMM) computed float64
    tanh with std::tanh while the tanh op runs vmath::tanh_f64's per-ISA loop, so a fused float64
    replay differed from eager in the last bit (kernels/gemm.cpp apply_activation)."""
    rng = np.random.default_rng(0)
    w = tl.array(rng.normal(size=(12, 37)).astype(dtype))
    fn = getattr(tl, act)
    f = CapturedFunction(lambda x: fn(tl.linear(x, w)))
    for _ in range(4):
        x = rng.normal(size=(9, 12)).astype(dtype)
        assert_same_bits(np.asarray(fn(tl.linear(tl.array(x), w))), snapshot(f(x)), act)
    assert f.fused["gemm_epilogue"] == 1 and f.stats()["replays"] == 2


@pytest.mark.parametrize("act", ["relu!", "tanh", "sigmoid"])
def test_one_unit_layer_bias_gradient_gives_the_eager_bits(act):
    """Found by this fuzz: activation_grad's fused sweep sums the bias gradient over the rows in
    order (the column reduction's order), but for one unit the eager sum(gp, axis 0) is a contiguous
    row reduction, summed pairwise: the bias .grad differed in the last bit. The rewrite now leaves a
    one-unit layer with a bias alone (capture/rewrite.cpp fusable_addmm)."""
    p = {"batch": 37, "features": 3, "classes": 3, "loss": "sparse", "seq": 1, "backward": True, "opt": None,
         "dtype": "float32", "threads": 1, "mode": (True, True), "seed": 0, "last_bias": True,
         "layers": [{"units": 1, "bias": True, "matmul": False, "act": act, "ew": [], "dropout": None}]}
    f = run_both(dense_step(p), dense_inputs(p), 1)
    assert f.fused["activation_grad"] == 0


@pytest.mark.parametrize("share", [False, True])
@pytest.mark.parametrize("read", ["gather", "abs"])
def test_view_of_an_in_place_result_replays(read, share):
    """Found by this fuzz: a view of an intermediate written in place, read by an op that re-runs
    at replay (a gather always; any lowered op once, when shared buffers move). The in-place op's
    re-run gives the view's root a new history, so the re-run refreshed the view's history, whose
    allocations are not in the entry's log: a ReplayMismatch at every replay ("shapes depend on the
    data?"), and the signature ran eagerly from then on. Replays now keep the recorded history
    (ops/inplace.cpp refresh_view_history)."""
    idx = tl.array(np.array([2, 0, 2], np.int64))

    def make():
        w = tl.array(np.linspace(-1, 1, 4095 * 2, dtype=np.float32).reshape(4095, 2), requires_grad=True)

        def step(x):
            w.grad = None
            h = x * 1.0
            h -= w
            v = tl.swapaxes(h, 0, 1)
            y = v[:, idx] if read == "gather" else tl.abs(v)
            loss = tl.sum(y * y) + tl.sum(w)  # w read twice: its gradients are summed
            loss.backward()
            return loss, y
        return step, [w], None

    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to eager
        run_both(make, [(rng.normal(size=(4095, 2)).astype(np.float32),) for _ in range(CALLS)], 1, (False, share))


@pytest.mark.parametrize("act", ["relu!", "tanh"])
@pytest.mark.parametrize("threads", [1, 2])
def test_wide_layer_splits_over_threads_bit_for_bit(act, threads):
    """64 x 640 hidden units: the GEMMs and the fused activation / bias-gradient sweep split over
    the pool (past 32768 elements and 32 columns), Dropout's chains over 40960 elements."""
    p = {"batch": 64, "features": 9, "classes": 5, "loss": "sparse", "seq": 1, "backward": True, "opt": "adam",
         "dtype": "float32", "threads": threads, "mode": (True, True), "seed": 4, "last_bias": True,
         "layers": [{"units": 640, "bias": True, "matmul": False, "act": act, "ew": [], "dropout": 0.3}]}
    f = run_both(dense_step(p), dense_inputs(p), threads)
    assert f.fused["activation_grad"] == 1 and f.fused["elementwise_chain"] >= 1


def test_branch_on_tensor_data_runs_eagerly():
    """A step whose Python reads tensor values while it is captured (float(t) here, to branch on)
    cannot be replayed without Python: the capture notices the read, warns, and the step runs
    eagerly from then on, so a later call with other data takes its own branch."""
    def step(x):
        return x * 2.0 if float(tl.sum(x)) > 0 else x * -1.0

    f = CapturedFunction(step)
    pos, neg = np.ones(3, np.float32), -np.ones(3, np.float32)
    np.testing.assert_array_equal(np.asarray(f(pos)), [2, 2, 2])  # eager
    with pytest.warns(RuntimeWarning, match=r"read tensor values in Python \(float\(\)\)"):
        np.testing.assert_array_equal(np.asarray(f(pos)), [2, 2, 2])  # the capture notices the read
    np.testing.assert_array_equal(np.asarray(f(neg)), [1, 1, 1])  # eager: the other branch
    assert f.stats()["replays"] == 0 and not f.plans


READS = {
    "float()": lambda t: float(tl.sum(t)),
    "int()": lambda t: int(tl.sum(t)),
    "bool()": lambda t: bool(tl.sum(t) > 0),
    "__index__": lambda t: list(range(tl.astype(tl.sum(t), tl.int64))),
    ".item()": lambda t: tl.sum(t).item(),
    ".tolist()": lambda t: (t * 1.0).tolist(),
    ".numpy()": lambda t: (t * 1.0).numpy(),
    "__array__": lambda t: np.asarray(t * 1.0),
    "the buffer protocol": lambda t: memoryview(t * 1.0).tolist(),
    "__dlpack__": lambda t: np.from_dlpack(t * 1.0),
}


@pytest.mark.parametrize("what", sorted(READS))
def test_every_python_read_of_tensor_values_is_noticed(what):
    read = READS[what]

    def step(x):
        read(x)
        return x + 1.0

    f = CapturedFunction(step)
    x = np.arange(3, dtype=np.float32)
    f(x)
    with pytest.warns(RuntimeWarning, match="read tensor values in Python"):
        f(x)
    np.testing.assert_array_equal(np.asarray(f(x + 5)), x + 6)
    assert f.stats()["replays"] == 0


def test_reads_outside_the_step_and_ops_reading_data_keep_the_capture():
    """Reading results after the call, and ops that read data themselves (an index tensor, a
    mask), are not Python reads inside the step: the step still replays."""
    idx = tl.asarray(np.array([2, 0], np.int64))

    def step(x):
        y = x[idx] * 2.0
        return y, tl.where(x > 1.0, x, 0.0)

    f = CapturedFunction(step)
    for k in range(4):
        x = np.arange(3, dtype=np.float32) + k
        y, z = f(x)
        np.testing.assert_array_equal(np.asarray(y), x[[2, 0]] * 2)
        assert float(tl.sum(z)) == float(np.where(x > 1, x, 0).sum())
    assert f.stats()["replays"] == 2


def test_item_results_returned_run_eagerly():
    """The documented guard for a host value returned from the step: a warning, then eager calls."""
    f = CapturedFunction(lambda x: (x * 2.0, float(tl.max(x))))
    f(np.ones(2, np.float32))
    with pytest.warns(RuntimeWarning, match="not tensors"):
        f(np.ones(2, np.float32))
    out, m = f(np.array([1.0, 5.0], np.float32))
    assert m == 5.0 and f.stats()["replays"] == 0


def test_full_with_a_tensor_fill_value_runs_eagerly():
    """tl.full's copy of a tensor fill value is no recorded op: a replay would return the captured
    value, so such a step runs eagerly (with the read warning) and follows its input."""
    f = CapturedFunction(lambda x: tl.full((2,), tl.sum(x)) + 0.0)
    f(np.ones(2, np.float32))
    with pytest.warns(RuntimeWarning, match="full\\(\\) fill value"):
        f(np.ones(2, np.float32))
    np.testing.assert_array_equal(np.asarray(f(np.full(2, 3, np.float32))), [6, 6])
    assert f.stats()["replays"] == 0


def test_a_schedule_computed_with_tensor_ops_keeps_the_step_captured():
    """A learning-rate schedule runs in Python before each replay (not frozen), so its reads of
    tensor values do not count as the step's: the step still replays, and matches eager."""
    class Decay(optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return tl.asarray(np.float32(0.1)) * 0.5 ** (step // 2)

    results = []
    for enabled in (False, True):
        w = tl.array(np.ones(3, np.float32), requires_grad=True)
        opt = optimizers.SGD(Decay())

        def step(x, w=w, opt=opt):
            w.grad = None
            loss = tl.sum(w * x)
            loss.backward()
            opt.apply([w])
            return loss

        f = CapturedFunction(step, enabled=enabled)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            for k in range(6):
                f(np.full(3, k + 1, np.float32))
        results.append(np.asarray(w).copy())
        if enabled:
            assert f.stats()["replays"] == 4
    np.testing.assert_array_equal(results[0], results[1])
