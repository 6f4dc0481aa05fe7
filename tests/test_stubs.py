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


def test_creation_signatures_are_stubbed():
    funcs = {n.name: n for n in _stub_tree().body if isinstance(n, ast.FunctionDef)}
    for name in ["zeros", "ones", "full", "empty", "zeros_like", "arange", "linspace", "eye"]:
        assert name in funcs, name
        expected = "Tensor | tuple[Tensor, float]" if name == "linspace" else "Tensor"  # retstep=True adds the step
        assert ast.unparse(funcs[name].returns) == expected
