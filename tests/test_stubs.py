"""The type stubs never claim what the extension does not have (regenerate them with
tools/make_stubs.py after adding bindings)."""
import ast
import pathlib

import tensorlet as tl
from tensorlet import _core

PKG = pathlib.Path(tl.__file__).parent
STUB = PKG / "_core.pyi"


def _stub_tree():
    return ast.parse(STUB.read_text())


def test_package_is_typed():
    assert (PKG / "py.typed").exists()
    assert STUB.exists()


def test_every_stubbed_name_exists_at_runtime():
    tree = _stub_tree()
    missing = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if not hasattr(_core, node.name):
                missing.append(node.name)
            if isinstance(node, ast.ClassDef):
                cls = getattr(_core, node.name, None)
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and cls is not None and not hasattr(cls, item.name):
                        missing.append(f"{node.name}.{item.name}")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and t.id != "__all__" and not hasattr(_core, t.id):
                    missing.append(t.id)
    assert not missing, f"stubbed but not in tensorlet._core: {missing}"


def test_every_table_op_is_stubbed():
    """Each op of the op tables has its module function (and Tensor method) in the stubs; after
    adding a table line run `PYTHONPATH=python python tools/make_stubs.py --table-only`."""
    tree = _stub_tree()
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    methods = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    missing = [row["name"] for row in _core._op_table() if row["name"] not in funcs]
    missing += [f"Tensor.{row['method']}" for row in _core._op_table() if row["method"] and row["method"] not in methods]
    assert not missing, f"table ops without a stub (run tools/make_stubs.py --table-only): {missing}"


def test_table_stubs_adds_what_is_missing():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_stubs", pathlib.Path(__file__).resolve().parents[1] / "tools" / "make_stubs.py")
    make_stubs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_stubs)
    text = "class Tensor:\n    def abs(self) -> Tensor:\n        ...\ndef abs(x):\n    ...\ndef zeta(x):\n    ...\n"
    rows = [{"name": "erf", "family": "unary", "method": "erf"}, {"name": "abs", "family": "unary", "method": "abs"}]
    out = make_stubs.table_stubs(text, rows)
    assert "    def erf(self) -> Tensor:" in out and "def erf(x: typing.Any, *, out: typing.Any = None)" in out
    assert out.index("def erf(x") < out.index("def zeta(") and out.count("def abs(") == 2
    assert make_stubs.table_stubs(out, rows) == out  # idempotent


def test_creation_signatures_are_stubbed():
    funcs = {n.name: n for n in _stub_tree().body if isinstance(n, ast.FunctionDef)}
    for name in ["zeros", "ones", "full", "empty", "zeros_like", "arange", "linspace", "eye"]:
        assert name in funcs, name
        expected = "Tensor | tuple[Tensor, float]" if name == "linspace" else "Tensor"  # retstep=True adds the step
        assert ast.unparse(funcs[name].returns) == expected
