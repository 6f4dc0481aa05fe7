"""Every public op must be recordable by a captured step: its definition starts with
TL_CAPTURE_OP (csrc/capture/recorder.h), and bindings compute on tensors only through ops.
A new op without the line fails here, naming it."""

import pathlib
import re

import numpy as np

import tensorlet as tl
from tensorlet.capture import CapturedFunction

CSRC = pathlib.Path(__file__).resolve().parents[1] / "csrc"

# Declared in ops headers but not ops: helpers that read no tensor data, or make constants from
# Python values (a step that uses them gets a constant, which is right).
NOT_OPS = {
    "broadcast_view": "raw view used inside ops (broadcast_to is the op)",
    "check_inplace_target": "validation only",
    "begin_inplace_write": "validation and the version bump, called inside the writing ops",
    "inplace_rebase": "autograd bookkeeping inside in-place ops",
    "inplace_on_view": "autograd bookkeeping inside in-place ops",
    "check_scalar_fits": "validation only",
    "check_same_kind": "validation only",
    "check_int_assign": "validation only",
    "unary_raw": "raw kernel call used inside ops and backward formulas",
    "derivative": "a unary op's derivative formula, called inside its backward node",
    "weak_scalar": "a 0-d constant from a Python scalar (the weak-scalar rule)",
}

DECL = re.compile(r"^(?:Tensor|void|std::vector<Tensor>) (\w+)\(", re.M)


def public_functions():
    names = {}
    for h in sorted(list((CSRC / "ops").glob("*.h")) + list((CSRC / "optim").glob("*.h"))):
        for name in DECL.findall(h.read_text()):
            names.setdefault(name, h.with_suffix(".cpp"))
    return names


def definitions(cpp: pathlib.Path, name: str):
    """The first statement of each top-level definition of `name` in `cpp`."""
    text = cpp.read_text()
    out = []
    for m in re.finditer(r"^(?:Tensor|void|std::vector<Tensor>) " + re.escape(name) + r"\(", text, re.M):
        i, depth = m.end(), 1
        while depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        body = text[text.index("{", i) + 1:]
        out.append(body.lstrip().split(";", 1)[0])
    return out


def test_every_public_op_records_itself():
    missing = []
    funcs = public_functions()
    # the parser still sees the op headers (the table ops, declared by X-macro, are not parsed
    # here: tests/test_op_registry.py replays each of them in a captured step)
    assert len(funcs) > 80
    for name, cpp in funcs.items():
        if name in NOT_OPS:
            continue
        defs = definitions(cpp, name)
        if not defs:
            missing.append(f"{name}: no definition found in {cpp.name}")
        for first in defs:
            if not first.startswith(f"TL_CAPTURE_OP({name},"):
                missing.append(f"{name} ({cpp.name}) starts with {first[:60]!r}")
    assert not missing, "ops without TL_CAPTURE_OP as their first statement:\n" + "\n".join(missing)


# Bindings compute on tensor data only through ops; these direct calls make tensors from Python
# data (constants) or are the capture machinery / test hooks themselves.
ALLOWED_DIRECT = {
    ("capture.cpp", "copy_from"): 1,   # copy_into: the plan's inputs, outside any recording
    ("convert.cpp", "to_dtype"): 1,    # a NumPy array's conversion (Python data)
    ("convert.cpp", "clone"): 1,       # a NumPy array's copy (Python data)
    ("creation.cpp", "copy_from"): 1,  # full() from an array-like fill value (Python data)
}


def test_bindings_compute_through_ops():
    found = {}
    for f in sorted((CSRC / "bindings").glob("*.cpp")):
        for m in re.finditer(r"\.(fill_|clone|copy_from|to_dtype)\(", f.read_text()):
            found[(f.name, m.group(1))] = found.get((f.name, m.group(1)), 0) + 1
    extra = {k: v for k, v in found.items() if v > ALLOWED_DIRECT.get(k, 0)}
    assert not extra, f"direct tensor computation in bindings (call an op so captured steps record it): {extra}"


def test_binding_level_ops_replay():
    # Each of these reaches a different binding path; replayed on new data each must give fresh results.
    cases = {
        "zeros_then_iadd": lambda x: tl.zeros(3).__iadd__(x),
        "ones_like": lambda x: tl.ones_like(x) * x,
        "full": lambda x: tl.full((3,), 2.0) * x,
        "fill": lambda x: tl.exp(x).fill_(1.0) + x,
        "array_copy": lambda x: tl.array(x * 2.0),
        "asarray_cast": lambda x: tl.asarray(x, dtype="float32"),
        "astype_copy": lambda x: x.astype("float64", copy=True),
        "setitem": lambda x: _setitem(x),
        "positive": lambda x: +x,
        "random": lambda x: tl.random.uniform(size=3) * 0 + x,
    }
    for name, fn in cases.items():
        f = CapturedFunction(fn)
        for v in (1.0, 2.0, 3.0, 4.0):
            got = np.asarray(f(np.full(3, v)))
            np.testing.assert_allclose(got, np.asarray(fn(tl.array(np.full(3, v)))), err_msg=name)
        assert f.stats()["replays"] == 2, name


def _setitem(x):
    y = tl.zeros(3)
    y[1:] = x[:2]
    return y
