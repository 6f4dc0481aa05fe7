"""Model weights in a NumPy ``.npz`` archive: one array per weight, keyed
``"<layer index>/<weight name>"`` (e.g. ``"0/kernel"``), read back with ``allow_pickle=False``.

Saving is atomic: the archive is written to a temporary file in the same directory, flushed
and fsync'd, then ``os.replace``d over the target, so a failure mid-save leaves any previous
file intact. Loading validates every member's header (dtype, shape, declared size against the
bytes actually stored) before reading data, checks names, shapes and dtypes against the model,
and only then assigns; any problem is a ValueError and the model's weights are unchanged."""

from __future__ import annotations

import os
import tempfile
import zipfile
from typing import Dict, List

import numpy as np

from . import distribution as _distribution

__all__ = ["save_weights", "load_weights"]


def _key(layer_index: int, weight_name: str) -> str:
    return f"{layer_index}/{weight_name}"


def _check_path(path) -> str:
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"The path must be a str or os.PathLike, got {type(path).__name__}") from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if "\x00" in path:
        raise ValueError(f"The filename contains a NUL character: {path!r}")
    if not path.endswith(".npz"):
        raise ValueError(f"The filename must end in `.npz` (a NumPy archive); received: {path!r}")
    return path


def save_weights(model, path) -> None:
    path = _check_path(path)
    arrays: Dict[str, np.ndarray] = {}
    for i, layer in enumerate(model.layers):
        for name, value in zip(layer.weight_names, layer.get_weights()):
            arrays[_key(i, name)] = value
    target = os.path.realpath(path)  # a symlink is followed: its target is replaced, the link kept
    directory = os.path.dirname(target) or "."
    if os.path.isdir(target):
        raise ValueError(f"save_weights: {path!r} is a directory")
    if not _distribution.is_chief():  # under a DataParallel only rank 0 writes (the weights are equal)
        return
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:  # a file object: np.savez must not append a second suffix
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = os.stat(target).st_mode & 0o7777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, expected_dtype: np.dtype, where: str) -> np.ndarray:
    """Reads one ``.npy`` member after checking its header: no object dtype, the expected dtype,
    a shape whose byte size is exactly what the member holds (so a huge declared shape is
    rejected before anything is allocated)."""
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, EOFError, OSError, SyntaxError, TypeError) as e:
            raise ValueError(f"{where}: bad .npy header ({e})") from e
        if dtype.hasobject:
            raise ValueError(f"{where}: holds Python objects (pickled data is never loaded)")
        if dtype != expected_dtype:
            raise ValueError(f"{where}: dtype {dtype}, expected {expected_dtype}")
        nbytes = dtype.itemsize
        for d in shape:
            if not isinstance(d, int) or d < 0:
                raise ValueError(f"{where}: invalid shape {shape}")
            nbytes *= d
        header_len = f.tell()
        if nbytes != info.file_size - header_len:
            raise ValueError(
                f"{where}: declares shape {shape} ({nbytes} bytes) but holds {info.file_size - header_len} bytes")
        data = f.read(nbytes)
    if len(data) != nbytes:
        raise ValueError(f"{where}: truncated ({len(data)} of {nbytes} bytes)")
    order = "F" if fortran else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy()


def load_weights(model, path) -> None:
    """Reads every array, checks names, shapes and dtypes against the model, then assigns them
    all (restoring the previous values if an assignment fails)."""
    path = _check_path(path)
    if not os.path.isfile(path):
        raise ValueError(f"load_weights: no such file: {path!r}")
    expected = [(i, layer, name, tuple(w.shape), np.dtype(v.dtype)) for i, layer in enumerate(model.layers)
                for name, w, v in zip(layer.weight_names, layer.weights, layer.get_weights())]
    wanted = {_key(i, name): dtype for i, _, name, _, dtype in expected}
    stored: Dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = [info.filename for info in infos]
            if len(set(names)) != len(names):
                raise ValueError(f"load_weights: {path!r} has duplicate members")
            keys = {}
            for info in infos:
                if not info.filename.endswith(".npy"):
                    raise ValueError(f"load_weights: {path!r} has a member that is not an array: {info.filename!r}")
                keys[info.filename[:-4]] = info
            missing = sorted(wanted.keys() - keys.keys())
            extra = sorted(keys.keys() - wanted.keys())
            if missing or extra:
                raise ValueError(
                    f"load_weights: {path!r} does not match model {model.name!r}: "
                    f"missing {missing or 'nothing'}, unexpected {extra or 'nothing'}"
                )
            for key, info in keys.items():
                stored[key] = _read_member(zf, info, wanted[key], f"load_weights: {path!r} member {key!r}")
    except ValueError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as e:
        raise ValueError(f"load_weights: {path!r} is not a readable .npz weights archive ({e})") from e
    per_layer: Dict[int, List[np.ndarray]] = {}
    for i, layer, name, shape, _ in expected:
        value = stored[_key(i, name)]
        if value.shape != shape:
            raise ValueError(
                f"load_weights: weight {name!r} of layer {layer.name!r} has shape {shape}, "
                f"but {path!r} holds shape {value.shape}"
            )
        per_layer.setdefault(i, []).append(value)
    previous = {i: model.layers[i].get_weights() for i in per_layer}
    try:
        for i, values in per_layer.items():
            model.layers[i].set_weights(values)
    except BaseException:
        for i, values in previous.items():
            model.layers[i].set_weights(values)
        raise
