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


class Configurable:
    """Keras's config protocol for small objects (schedules, regularizers, constraints):
    ``get_config()``, ``from_config(config)`` and a repr showing the config."""

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_config().items())})"


def serialize(obj) -> dict:
    """``{"class_name": ..., "config": ...}``, as keras.saving.serialize_keras_object writes it."""
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(kind: str, config, classes: Dict[str, type], custom_objects=None):
    """The object a ``serialize`` dict describes, from ``classes`` (plus ``custom_objects``)."""
    classes = {**classes, **(custom_objects or {})}
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in classes:
        raise ValueError(f"Unknown {kind} {name!r}; expected one of {sorted(classes)}")
    return classes[name].from_config(config.get("config", {}))
