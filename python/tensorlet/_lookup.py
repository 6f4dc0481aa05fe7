"""Name lookup shared by the registries (activations, initializers, losses, metrics,
optimizers): case-insensitive, and an unknown name lists the valid ones."""

from __future__ import annotations

from typing import Dict, TypeVar

T = TypeVar("T")

__all__ = ["by_name"]


def by_name(kind: str, name: str, table: Dict[str, T], extra_names=()) -> T:
    found = table.get(name.lower())
    if found is None:
        valid = ", ".join(repr(n) for n in tuple(extra_names) + tuple(table))
        raise ValueError(f"Unknown {kind}: {name!r}. Valid names are: {valid}")
    return found
