"""Model weights in a NumPy ``.npz`` archive: one array per weight, keyed
``"<layer index>/<weight name>"`` (e.g. ``"0/kernel"``), read back with ``allow_pickle=False``."""

from __future__ import annotations

import os
import zipfile
from typing import Dict, List

import numpy as np

__all__ = ["save_weights", "load_weights"]


def _key(layer_index: int, weight_name: str) -> str:
    return f"{layer_index}/{weight_name}"


def _check_path(path) -> str:
    path = os.fspath(path)
    if not path.endswith(".npz"):
        raise ValueError(f"The filename must end in `.npz` (a NumPy archive); received: {path!r}")
    return path


def save_weights(model, path) -> None:
    path = _check_path(path)
    arrays: Dict[str, np.ndarray] = {}
    for i, layer in enumerate(model.layers):
        for name, value in zip(layer.weight_names, layer.get_weights()):
            arrays[_key(i, name)] = value
    with open(path, "wb") as f:  # a file object: np.savez must not append a second suffix
        np.savez(f, **arrays)


def load_weights(model, path) -> None:
    """Reads every array, checks names and shapes against the model, then assigns them all."""
    path = _check_path(path)
    if not os.path.isfile(path):
        raise ValueError(f"load_weights: no such file: {path!r}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            stored = {k: archive[k] for k in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise ValueError(f"load_weights: {path!r} is not a readable .npz weights archive ({e})") from e
    expected = [(i, layer, name, tuple(w.shape)) for i, layer in enumerate(model.layers)
                for name, w in zip(layer.weight_names, layer.weights)]
    wanted = {_key(i, name) for i, _, name, _ in expected}
    missing = sorted(wanted - stored.keys())
    extra = sorted(stored.keys() - wanted)
    if missing or extra:
        raise ValueError(
            f"load_weights: {path!r} does not match model {model.name!r}: "
            f"missing {missing or 'nothing'}, unexpected {extra or 'nothing'}"
        )
    per_layer: Dict[int, List[np.ndarray]] = {}
    for i, layer, name, shape in expected:
        value = stored[_key(i, name)]
        if value.shape != shape:
            raise ValueError(
                f"load_weights: weight {name!r} of layer {layer.name!r} has shape {shape}, "
                f"but {path!r} holds shape {value.shape}"
            )
        per_layer.setdefault(i, []).append(value)
    for i, values in per_layer.items():
        model.layers[i].set_weights(values)
