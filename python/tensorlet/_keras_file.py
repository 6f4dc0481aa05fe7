"""``.keras`` files and ``.weights.h5`` files in Keras 3's layout (``keras.src.saving.saving_lib``).

A ``.keras`` file is a zip of ``metadata.json``, ``config.json`` (``_keras_format``) and
``model.weights.h5``. In the h5 file each layer's own weights are datasets ``<path>/vars/0``,
``1``, ... (trainable ones first, then the others, in creation order), where the path of a layer
of a Sequential or functional model is ``layers/<snake_case class name>`` made unique in order
(``layers/dense``, ``layers/dense_1``: not the layer's name), and a sublayer held in an
attribute is ``<parent path>/<attribute name>``. h5py is needed (the optional ``keras`` extra).

The optimizer's state is ``optimizer/vars``: the step count, the learning rate, then the slots
in Keras's order (for the optimizers whose slot order is known here: SGD, RMSprop, Adam), so
training resumes after a round trip through Keras.

Loading checks every dataset's presence, shape and dtype before assigning anything, so a
damaged or foreign file leaves the model unchanged.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from typing import Dict, List, Tuple

import numpy as np

from . import _keras_format
from ._saving import atomic_write, check_path
from .layers.layer import _snake_case

__all__ = ["save_model", "load_model", "save_weights_h5", "load_weights_h5"]

KERAS_VERSION = "3.0.0"  # the format version Keras checks for; tensorlet writes what Keras 3 reads
_MAX_JSON = 64 * 1024 * 1024
_MAX_WEIGHTS = 4 * 1024 * 1024 * 1024


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("Saving and loading .keras and .weights.h5 files needs h5py: "
                          "pip install 'tensorlet[keras]' (or pip install h5py)") from None
    return h5py


def _unique(name: str, used: Dict[str, int]) -> str:
    if name not in used:
        used[name] = 0
        return name
    used[name] += 1
    return f"{name}_{used[name]}"


def _own_weights(layer) -> List:
    entries = layer._weights
    return [w for _, w, t in entries if t] + [w for _, w, t in entries if not t]


def _attr_key(name: str) -> str:
    return "~" + name if name.startswith("_") else name


def _walk(obj, path: str, out: List[Tuple[str, object]], seen: set) -> None:
    """(path, layer) for ``obj`` and everything under it, in Keras's order."""
    from .layers.layer import Layer
    from .models.functional import Functional
    from .models.sequential import Sequential
    if id(obj) in seen:
        return
    seen.add(id(obj))
    out.append((path, obj))
    children = []
    if isinstance(obj, (Sequential, Functional)):
        children.append(("layers", obj.layers))
    skip = {"_layers", "_input_layer", "_inbound_nodes", "_nodes", "optimizer"}
    for attr in sorted(vars(obj), key=_attr_key):
        if attr in skip:
            continue
        value = vars(obj)[attr]
        if isinstance(value, Layer) or (isinstance(value, (list, tuple, dict)) and any(
                isinstance(v, Layer) for v in (value.values() if isinstance(value, dict) else value))):
            children.append((attr, value))
    for attr, value in children:
        child_path = f"{path}/{attr}" if path else attr
        if isinstance(value, Layer):
            _walk(value, child_path, out, seen)
            continue
        used: Dict[str, int] = {}
        items = list(value.values()) if isinstance(value, dict) else list(value)
        for item in items:
            if isinstance(item, Layer):
                _walk(item, f"{child_path}/{_unique(_snake_case(type(item).__name__), used)}", out, seen)


def _layer_paths(model) -> List[Tuple[str, object]]:
    out: List[Tuple[str, object]] = []
    _walk(model, "", out, set())
    return out


# Keras's optimizer variables: each add_optimizer_variables call adds, per model variable, one
# slot per name in its group (so Adam's are interleaved, RMSprop's grouped by kind).
_KERAS_SLOT_GROUPS = {"SGD": (("momentum",),), "Adam": (("momentum", "velocity"),),
                      "RMSprop": (("velocity",), ("momentum",), ("average_gradient",))}


def _optimizer_slots(optimizer):
    """The optimizer's slot tensors in Keras's order, or None when that order is not known."""
    groups = _KERAS_SLOT_GROUPS.get(type(optimizer).__name__)
    if groups is None or not getattr(optimizer, "built", False) or callable(optimizer._learning_rate):
        return None
    names = list(optimizer._slot_names())
    return [slots[names.index(n)] for group in groups for slots in optimizer._slots for n in group if n in names]


def write_weights(model, h5file) -> None:
    for path, layer in _layer_paths(model):
        group = h5file.create_group(f"{path}/vars" if path else "vars")
        group.attrs["name"] = layer.name
        for i, w in enumerate(_own_weights(layer)):
            group.create_dataset(str(i), data=np.asarray(w.detach().numpy()))
    optimizer = getattr(model, "optimizer", None)
    slots = None if optimizer is None else _optimizer_slots(optimizer)
    if slots is not None:
        group = h5file.create_group("optimizer/vars")
        group.attrs["name"] = optimizer.name
        group.create_dataset("0", data=np.int64(optimizer.iterations))
        group.create_dataset("1", data=np.float32(optimizer.learning_rate))
        for i, slot in enumerate(slots):
            group.create_dataset(str(i + 2), data=np.asarray(slot.numpy()))


def _read_optimizer(model, h5file, where: str):
    """What to assign to the optimizer (built here for the model's weights), or None when the
    file has no optimizer state this optimizer can take (then it starts fresh, as Keras does)."""
    import warnings
    optimizer = getattr(model, "optimizer", None)
    group = h5file.get("optimizer/vars")
    if optimizer is None or group is None or not len(group):
        return None
    optimizer.build(model.trainable_weights)
    slots = _optimizer_slots(optimizer)
    if slots is None or sorted(group.keys(), key=lambda k: (len(k), k)) != [str(i) for i in range(len(slots) + 2)]:
        warnings.warn(f"{where}: the optimizer state in the file does not fit {type(optimizer).__name__} "
                      f"({len(group)} variables): the optimizer starts fresh", stacklevel=4)
        return None
    values = [np.asarray(group[str(i)][()]) for i in range(len(slots) + 2)]
    for slot, value in zip(slots, values[2:]):
        if tuple(value.shape) != tuple(slot.shape):
            raise ValueError(f"{where}: an optimizer slot has shape {tuple(slot.shape)}, but the file holds "
                             f"{tuple(value.shape)}")
    if values[0].shape != () or values[1].shape != () or not np.isfinite(values[1]) or int(values[0]) < 0:
        raise ValueError(f"{where}: invalid optimizer step count or learning rate")
    return optimizer, int(values[0]), float(values[1]), list(zip(slots, values[2:]))


def read_weights(model, h5file, where: str) -> None:
    """Reads and checks every layer's weights, then assigns them all."""
    h5py = _h5py()
    plan = []
    for path, layer in _layer_paths(model):
        weights = _own_weights(layer)
        key = f"{path}/vars" if path else "vars"
        if not weights:
            continue
        group = h5file.get(key)
        if not isinstance(group, h5py.Group):
            raise ValueError(f"{where}: no weights for layer {layer.name!r} (expected the group {key!r})")
        names = sorted(group.keys(), key=lambda k: (len(k), k))
        if names != [str(i) for i in range(len(weights))]:
            raise ValueError(f"{where}: layer {layer.name!r} has {len(weights)} weights, but {key!r} holds "
                             f"{len(names)} ({names})")
        for i, w in enumerate(weights):
            ds = group[str(i)]
            if not isinstance(ds, h5py.Dataset) or ds.dtype.kind not in "biuf":
                raise ValueError(f"{where}: {key}/{i} is not a numeric array")
            if tuple(ds.shape) != tuple(w.shape):
                raise ValueError(f"{where}: weight {i} of layer {layer.name!r} has shape {tuple(w.shape)}, but "
                                 f"{key}/{i} holds shape {tuple(ds.shape)}")
            value = np.asarray(ds[()])
            if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
                raise ValueError(f"{where}: {key}/{i} holds NaN or infinite values")
            plan.append((w, value.astype(w.dtype, copy=False)))
    opt_plan = _read_optimizer(model, h5file, where)
    for w, value in plan + (opt_plan[3] if opt_plan else []):
        np.copyto(w.detach().numpy(), value, casting="unsafe")
    if opt_plan:
        optimizer, iterations, learning_rate, _ = opt_plan
        optimizer.iterations = iterations
        optimizer.learning_rate = learning_rate


def _check_path(path, suffix: str, what: str) -> str:
    try:
        return check_path(path, suffix, f"`{suffix}`")
    except (TypeError, ValueError) as e:
        raise type(e)(f"{what}: {e}") from None


def _weights_bytes(model) -> bytes:
    h5py = _h5py()
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        write_weights(model, h5)
    return buf.getvalue()


def save_weights_h5(model, path) -> None:
    path = _check_path(path, ".weights.h5", "save_weights")
    atomic_write(path, lambda f: f.write(_weights_bytes(model)), "save_weights")


def load_weights_h5(model, path) -> None:
    path = _check_path(path, ".weights.h5", "load_weights")
    h5py = _h5py()
    try:
        with h5py.File(path, "r") as h5:
            read_weights(model, h5, f"load_weights: {path!r}")
    except (OSError, KeyError) as e:
        raise ValueError(f"load_weights: {path!r} is not a readable .weights.h5 file ({e})") from e


def _loss_entry(loss):
    if loss is None:
        return None
    return {"module": "keras.losses", "class_name": type(loss).__name__, "config": loss.get_config(),
            "registered_name": None}


def _compile_config(model):
    """Keras's compile_config: the optimizer, the loss(es) with their settings, the loss
    weights and the metric names as they were given to compile."""
    from ._compile_utils import CompileLosses, MultiOutputMetrics
    if not getattr(model, "compiled", False):
        return {}
    opt = model.optimizer
    compile_loss, compile_metrics = model._compile_loss, model._compile_metrics
    loss_weights = None
    if isinstance(compile_loss, CompileLosses):
        loss = dict(zip(compile_loss.output_names, (_loss_entry(x) for x in compile_loss.losses)))
        loss_weights = dict(zip(compile_loss.output_names, compile_loss.loss_weights))
    else:
        loss = _loss_entry(model.loss)

    def names(ids):
        return [m for m in ids if isinstance(m, str)] if all(isinstance(m, str) for m in ids) else None

    metrics = None
    if isinstance(compile_metrics, MultiOutputMetrics):
        metrics = {n: names(c._identifiers) for n, c in zip(compile_metrics.output_names, compile_metrics._per_output)
                   if c is not None}
        metrics = None if any(v is None for v in metrics.values()) else metrics
    elif compile_metrics is not None:
        metrics = names(compile_metrics._identifiers)
    return {"optimizer": {"module": "keras.optimizers", "class_name": type(opt).__name__,
                          "config": opt.get_config(), "registered_name": None},
            "loss": loss, "loss_weights": loss_weights, "metrics": metrics, "weighted_metrics": None,
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def save_model(model, path) -> None:
    path = _check_path(path, ".keras", "save")
    config = _keras_format.to_config(model)
    config["compile_config"] = _compile_config(model)
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("metadata.json", json.dumps(metadata))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", _weights_bytes(model), compress_type=zipfile.ZIP_STORED)
    atomic_write(path, lambda f: f.write(buf.getvalue()), "save")


def _read_member(zf: zipfile.ZipFile, name: str, limit: int, where: str) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ValueError(f"{where}: the archive has no {name}") from None
    if info.file_size > limit:
        raise ValueError(f"{where}: {name} declares {info.file_size} bytes, more than the {limit} allowed")
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{where}: {name} is larger than the {limit} bytes allowed")
    return data


def load_model(path, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """A model from a ``.keras`` file written by tensorlet or by Keras 3."""
    path = _check_path(path, ".keras", "load_model")
    where = f"load_model: {path!r}"
    h5py = _h5py()
    if not os.path.isfile(path):
        raise ValueError(f"{where}: no such file")
    try:
        with zipfile.ZipFile(path) as zf:
            config = json.loads(_read_member(zf, "config.json", _MAX_JSON, where))
            weights = _read_member(zf, "model.weights.h5", _MAX_WEIGHTS, where)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, UnicodeDecodeError,
            json.JSONDecodeError, NotImplementedError, RecursionError) as e:
        raise ValueError(f"{where}: not a readable .keras file ({type(e).__name__}: {e})") from e
    if not isinstance(config, dict):
        raise ValueError(f"{where}: config.json must hold a dict")
    try:
        model = _keras_format.from_config(config, custom_objects, safe_mode)
    except RecursionError as e:
        raise ValueError(f"{where}: config.json is nested too deeply") from e
    except MemoryError as e:  # shapes in the file too large to build (checked by the core before allocating)
        raise ValueError(f"{where}: the model described in config.json is too large to build ({e})") from e
    compile_config = config.get("compile_config") or {}
    if compile and compile_config:
        _compile_from_config(model, compile_config)
    try:
        with h5py.File(io.BytesIO(weights), "r") as h5:
            read_weights(model, h5, where)
    except (OSError, KeyError) as e:
        raise ValueError(f"{where}: model.weights.h5 is not readable ({e})") from e
    return model


def _loss_from_entry(entry):
    from . import losses
    if not isinstance(entry, dict):
        return entry
    cls = getattr(losses, str(entry.get("class_name")), None)
    if not (isinstance(cls, type) and issubclass(cls, losses.Loss)):
        raise ValueError(f"unknown loss {entry.get('class_name')!r}")
    return _keras_format._construct(cls, dict(entry.get("config") or {}), "loss", strict=False)


def _compile_from_config(model, compile_config) -> None:
    import warnings
    from . import optimizers
    opt = compile_config.get("optimizer")
    try:
        if isinstance(opt, dict):
            cls = getattr(optimizers, str(opt.get("class_name")), None)
            if not (isinstance(cls, type) and issubclass(cls, optimizers.Optimizer)):
                raise ValueError(f"unknown optimizer {opt.get('class_name')!r}")
            opt = _keras_format._construct(cls, dict(opt.get("config") or {}), "optimizer", strict=False)
        loss = compile_config.get("loss")
        if isinstance(loss, dict) and "class_name" not in loss:
            loss = {k: _loss_from_entry(v) for k, v in loss.items()}
        elif isinstance(loss, list):
            loss = [_loss_from_entry(v) for v in loss]
        else:
            loss = _loss_from_entry(loss)
        metrics = compile_config.get("metrics")
        model.compile(optimizer=opt or "rmsprop", loss=loss, loss_weights=compile_config.get("loss_weights"),
                      metrics=metrics if isinstance(metrics, (list, dict)) else None)
    except (ValueError, TypeError) as e:
        warnings.warn(f"load_model: the model was loaded uncompiled: its compile settings cannot be restored ({e})",
                      stacklevel=3)
