"""Invalid arguments across the public API (tests/invalid_cases.py, one subprocess for the whole
table, so a crash fails the test naming the case), and a hypothesis suite of random op
sequences on random shapes, dtypes, strides and views compared with NumPy.

TL_FUZZ_EXAMPLES raises the hypothesis budget (default 200)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorlet as tl

HERE = Path(__file__).parent
EXAMPLES = int(os.environ.get("TL_FUZZ_EXAMPLES", "200"))
MIN_CASES = 200


def test_invalid_input_table_in_one_subprocess():
    env = dict(os.environ)
    # The package this run imports (installed in CI, python/ in a source build, build-sanitize/py under ASan).
    env["PYTHONPATH"] = os.pathsep.join([str(Path(tl.__file__).resolve().parent.parent), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, str(HERE / "invalid_cases.py")], capture_output=True, text=True,
                          env=env, timeout=240)
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    started = [line[6:] for line in proc.stderr.splitlines() if line.startswith("START ")]
    if proc.returncode != 0:
        done = {r["name"] for r in results}
        crashed = [name for name in started if name not in done]
        pytest.fail(f"the case table's process died (exit {proc.returncode}) in case {crashed[-1:] or '?'}; "
                    f"stderr tail: {proc.stderr[-2000:]}")
    failures = [f"{r['name']}: {r['detail']}" for r in results if not r["ok"]]
    assert not failures, f"{len(failures)} of {len(results)} invalid-input cases failed:\n" + "\n".join(failures)
    assert len(results) == len(started) >= MIN_CASES
    print(f"{len(results)} invalid-input cases passed")


# -- random op sequences against NumPy -------------------------------------------------------------
DTYPES = ["float32", "float64", "int32", "int64", "float16", "int8", "int16", "uint8", "uint16", "uint32", "uint64"]


@st.composite
def operand(draw):
    """A NumPy array and a view of it: sliced with steps (possibly negative), transposed,
    or a big-endian / Fortran-order / non-contiguous input."""
    dtype = draw(st.sampled_from(DTYPES))
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim)))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    base = (rng.integers(-5, 6, size=shape) if np.dtype(dtype).kind in "iu" else rng.normal(size=shape) * 3).astype(dtype)
    layout = draw(st.sampled_from(["c", "T", "step", "rev", "F", "be"]))
    if layout == "T":
        base = np.ascontiguousarray(base.T).T
    elif layout == "step":
        big = np.repeat(base, 2, axis=0)
        base = big[::2]
    elif layout == "rev":
        base = np.ascontiguousarray(base[::-1])[::-1]
    elif layout == "F":
        base = np.asfortranarray(base)
    elif layout == "be":
        base = base.astype(base.dtype.newbyteorder(">"))
    return base


UNARY = ["negative", "abs", "square", "tanh", "exp", "sqrt_abs", "transpose", "reverse", "slice", "flatten"]
BINARY = ["add", "subtract", "multiply", "maximum", "minimum", "scalar_add", "scalar_mul"]
REDUCE = ["sum", "max", "min", "mean"]


def apply(lib, op, x, axis=None):
    if op == "negative":
        return -x
    if op == "abs":
        return lib.abs(x)
    if op == "square":
        return x * x
    if op in ("tanh", "exp"):
        return getattr(lib, op)(lib.clip(x, -5, 5) if op == "exp" else x)
    if op == "sqrt_abs":
        return lib.sqrt(lib.abs(x))
    if op == "transpose":
        return lib.transpose(x)
    if op == "reverse":
        return x[::-1]
    if op == "slice":
        return x[1::2] if x.shape[0] > 1 else x[:]
    if op == "flatten":
        return lib.reshape(x, (-1,))
    if op in REDUCE:
        return getattr(lib, op)(x, axis=axis)
    raise AssertionError(op)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=operand(), data=st.data())
def test_random_op_sequences_match_numpy(a, data):
    x_np = a.astype(a.dtype.newbyteorder("="))
    x_tl = tl.array(a)
    np.testing.assert_array_equal(x_tl.numpy(), x_np)
    floats = a.dtype.kind == "f"
    for _ in range(data.draw(st.integers(1, 5), label="length")):
        kind = data.draw(st.sampled_from(["unary", "binary", "reduce"]), label="kind")
        if kind == "unary":
            op = data.draw(st.sampled_from(UNARY if floats else UNARY[:3] + UNARY[6:]), label="op")
            x_tl, x_np = apply(tl, op, x_tl), apply(np, op, x_np)
        elif kind == "binary":
            op = data.draw(st.sampled_from(BINARY), label="op")
            if op == "scalar_add":
                x_tl, x_np = x_tl + 2, x_np + 2
            elif op == "scalar_mul":
                x_tl, x_np = x_tl * 3, x_np * 3
            else:
                # the other operand: the same shape, or broadcast from a trailing slice / size-1 dims
                form = data.draw(st.sampled_from(["same", "row", "ones"]), label="form")
                shape = x_np.shape if form == "same" else (x_np.shape[-1:] if form == "row" else (1,) * x_np.ndim)
                other = np.asarray(np.random.default_rng(len(shape)).integers(-3, 4, size=shape), dtype=x_np.dtype)
                x_tl, x_np = getattr(tl, op)(x_tl, tl.array(other)), getattr(np, op)(x_np, other)
        else:
            if x_np.size == 0:
                continue
            op = data.draw(st.sampled_from(REDUCE if floats else REDUCE[:3]), label="op")
            axis = data.draw(st.sampled_from([None] + list(range(-x_np.ndim, x_np.ndim))), label="axis")
            x_tl, x_np = apply(tl, op, x_tl, axis), apply(np, op, x_np, axis)
            x_np = np.asarray(x_np)
            if x_np.ndim == 0:
                break
        assert tuple(x_tl.shape) == x_np.shape
    got = np.asarray(x_tl.numpy() if isinstance(x_tl, tl.Tensor) else x_tl)
    assert got.dtype.kind == np.asarray(x_np).dtype.kind
    if floats:
        rtol = {2: 1e-2, 4: 1e-4}.get(a.dtype.itemsize, 1e-10)  # itemsize: a big-endian >f4 is not == np.float32
        np.testing.assert_allclose(got, x_np, rtol=rtol, atol=rtol * (1 + np.abs(x_np).max(initial=0)))
    else:
        np.testing.assert_array_equal(got, x_np)
