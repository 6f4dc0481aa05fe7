"""Configs in Keras 3's serialization format (``keras.src.saving.serialization_lib``): every
object as ``{"module", "class_name", "config", "registered_name"}``, layers with a
``build_config``, functional layers with their ``inbound_nodes`` and ``__keras_tensor__``
references. ``to_config`` makes them, ``from_config`` rebuilds layers and models from them.

Rebuilding never imports a module named in the file or runs code from it: classes are looked up
among tensorlet's own and the ``custom_objects`` given; a Lambda's stored bytecode is only loaded
with ``safe_mode=False``, as in Keras.
"""

from __future__ import annotations

import base64
import inspect
import marshal
import types
from typing import Dict, Optional


__all__ = ["serialize_object", "serialize_function", "to_config", "from_config", "layer_classes"]

_DTYPE_KEYS = ("dtype",)


def _dtype_policy(name: str) -> Dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


def _dtype_name(value) -> Optional[str]:
    if isinstance(value, dict):
        return value.get("config", {}).get("name")
    return value


def serialize_object(obj):
    """An initializer / regularizer / constraint as Keras's dict (a name or None as it is)."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    get_config = getattr(obj, "get_config", None)
    module = type(obj).__module__.replace("tensorlet.", "keras.")
    return {"module": module, "class_name": type(obj).__name__, "config": get_config() if get_config else {},
            "registered_name": None}


def serialize_function(fn):
    """A function as Keras stores it: a lambda as its marshalled bytecode (``__lambda__``), a
    named function by module and name."""
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
        closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": fn.__defaults__, "closure": closure}}
    return {"module": getattr(fn, "__module__", None), "class_name": "function", "config": fn.__name__,
            "registered_name": "function"}


def _load_function(config, custom_objects: Dict, safe_mode: bool, owner: str):
    if isinstance(config, dict) and config.get("class_name") == "__lambda__":
        if safe_mode:
            raise ValueError(
                f"{owner}: the file holds a Lambda layer's Python bytecode, and loading it would run that code. "
                "Requested the deserialization of a `lambda` function in safe mode: pass `safe_mode=False` to "
                "load_model only if you trust the source of this file.")
        inner = config.get("config", {})
        raw = base64.decodebytes(str(inner.get("code", "")).encode("ascii"))
        try:
            code = marshal.loads(raw)
        except (ValueError, EOFError, TypeError) as e:
            raise ValueError(f"{owner}: the stored lambda cannot be read by this Python ({e})") from e
        defaults = tuple(inner["defaults"]) if inner.get("defaults") else None
        closure = inner.get("closure")
        cells = tuple(types.CellType(c) for c in closure) if closure else None
        import tensorlet
        return types.FunctionType(code, {"tensorlet": tensorlet, "tl": tensorlet}, code.co_name, defaults, cells)
    name = config.get("config") if isinstance(config, dict) else config
    if name in custom_objects:
        return custom_objects[name]
    raise ValueError(f"{owner}: the function {name!r} is not known; pass it in custom_objects={{{name!r}: fn}}")


def layer_classes() -> Dict[str, type]:
    """tensorlet's layer and model classes by Keras class name."""
    from . import layers as layers_module
    from .models import Model, Sequential
    from .models.functional import Functional
    found = {name: obj for name, obj in vars(layers_module).items() if isinstance(obj, type)}
    found.update(Model=Model, Sequential=Sequential, Functional=Functional)
    return found


def _shape_list(shape):
    if shape is None:
        return None
    if isinstance(shape, dict):
        return {k: _shape_list(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [_shape_list(s) for s in shape]
    return list(shape)


def _layer_dict(layer) -> Dict:
    """A layer (or model) in Keras's format, without the functional ``inbound_nodes``."""
    from .layers.input_layer import InputLayer
    from .models.functional import Functional
    from .models.sequential import Sequential
    config = dict(layer.get_config())
    if not isinstance(layer, InputLayer) and isinstance(config.get("dtype"), str):
        config["dtype"] = _dtype_policy(config["dtype"])
    cls = type(layer)
    builtin = cls in layer_classes().values()
    if getattr(cls, "keras_module", None):  # an operation node (keras.src.ops)
        return {"module": cls.keras_module, "class_name": cls.__name__, "config": layer.get_config(),
                "registered_name": None}
    if isinstance(layer, Functional) and builtin:
        module, registered = "keras.src.models.functional", "Functional"
    elif isinstance(layer, Sequential) and builtin:
        module, registered = "keras", None
    elif builtin:
        module, registered = "keras.layers", None
    else:
        module, registered = cls.__module__, cls.__name__
    out = {"module": module, "class_name": cls.__name__, "config": config, "registered_name": registered}
    if not isinstance(layer, InputLayer):
        out["build_config"] = {"input_shape": _shape_list(layer.build_input_shape)
                               if not isinstance(layer, Functional) else None}
    return out


def to_config(obj) -> Dict:
    return _layer_dict(obj)


def _tensor_ref(t, node_ids) -> Dict:
    layer, node_index, tensor_index = t._keras_history
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(t.shape), "dtype": t.dtype.name,
                       "keras_history": [layer.name, node_ids.get((id(layer), node_index), node_index),
                                         tensor_index]}}


def functional_config(model) -> Dict:
    """The ``config`` of a functional model: its layers with their inbound nodes, and the
    references of its inputs and outputs."""
    from .layers.input_layer import InputLayer
    from .layers.keras_tensor import KerasTensor, map_structure
    node_ids = {}
    per_layer: Dict[int, list] = {}
    for node in model._nodes:
        layer = node.layer
        index = layer._inbound_nodes.index(node)
        node_ids[(id(layer), index)] = len(per_layer.setdefault(id(layer), []))
        per_layer[id(layer)].append(node)
    layers = []
    for layer in model.layers:
        entry = _layer_dict(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [] if isinstance(layer, InputLayer) else [
            {"args": [map_structure(lambda t: _tensor_ref(t, node_ids), node.call_args)] + list(node.extra_args),
             "kwargs": map_structure(lambda v: _tensor_ref(v, node_ids) if isinstance(v, KerasTensor) else v,
                                     dict(node.call_kwargs))} for node in per_layer[id(layer)]]
        layers.append(entry)

    def ref(t):
        return _tensor_ref(t, node_ids)["config"]["keras_history"]

    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": map_structure(ref, model._inputs_struct),
            "output_layers": map_structure(ref, model._outputs_struct)}


# -- rebuilding -------------------------------------------------------------------------------------
# Keys Keras writes that tensorlet has no use for when they hold their default.
_IGNORED_DEFAULTS = {"sparse": False, "ragged": False, "quantization_config": None, "lora_rank": None,
                     "lora_alpha": None, "activity_regularizer": None, "kernel_regularizer": None,
                     "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
                     "synchronized": False, "autocast": True, "input_length": None, "data_format": "channels_last",
                     "groups": 1, "renorm": False, "renorm_momentum": 0.99}


def _initializer(value, owner: str):
    from . import initializers
    if not isinstance(value, dict):
        return value
    name = value.get("class_name")
    cls = getattr(initializers, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, initializers.Initializer)):
        raise ValueError(f"{owner}: unknown initializer {name!r}")
    return _construct(cls, dict(value.get("config") or {}), f"{owner} initializer {name}", strict=False)


def _construct(cls, config: Dict, owner: str, strict: bool = True):
    """``cls(**config)`` after dropping the keys ``cls`` does not take: with ``strict``, only
    those holding Keras's default (anything else would change the model and is refused)."""
    params = inspect.signature(cls.__init__).parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
    accepted = set(params) | ({"name", "trainable", "dtype", "input_shape"} if takes_kwargs else set())
    kwargs = {}
    for key, value in config.items():
        if key in accepted:
            kwargs[key] = value
        elif strict and not (key in _IGNORED_DEFAULTS and value == _IGNORED_DEFAULTS[key]) and value is not None:
            raise ValueError(f"{owner}: the setting {key}={value!r} is not supported by tensorlet's "
                             f"{cls.__name__}")
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ValueError(f"{owner}: cannot be rebuilt from its config ({e})") from e


def _class_for(entry: Dict, custom_objects: Dict, owner: str):
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(f"{owner}: expected a dict with a 'class_name', got {type(entry).__name__}")
    name = entry["class_name"]
    registered = entry.get("registered_name")
    for key in (registered, name):
        if isinstance(key, str) and key in custom_objects:
            return custom_objects[key]
    classes = layer_classes()
    if name in classes:
        return classes[name]
    raise ValueError(f"{owner}: unknown class {name!r}; tensorlet does not have it (pass custom_objects="
                     f"{{{name!r}: cls}} for a class of your own)")


def _layer_from_dict(entry: Dict, custom_objects: Dict, safe_mode: bool):
    from .layers.lambda_layer import Lambda
    cls = _class_for(entry, custom_objects, "load_model")
    config = entry.get("config")
    if not isinstance(config, dict):
        raise ValueError(f"load_model: the config of a {cls.__name__} must be a dict")
    owner = f"load_model: layer {config.get('name')!r} ({cls.__name__})"
    if cls.__name__ in ("Sequential", "Functional") or (entry.get("class_name") == "Model"):
        return model_from_dict(entry, custom_objects, safe_mode)
    config = dict(config)
    if "dtype" in config:
        config["dtype"] = _dtype_name(config["dtype"]) or "float32"
    for key in list(config):
        if key.endswith("_initializer"):
            config[key] = _initializer(config[key], owner)
    if issubclass(cls, Lambda):
        config["function"] = _load_function(config.get("function"), custom_objects, safe_mode, owner)
        if isinstance(config.get("output_shape"), dict):
            config["output_shape"] = _load_function(config["output_shape"], custom_objects, safe_mode, owner)
        config.pop("mask", None)
    if isinstance(config.get("activation"), dict):
        config["activation"] = _load_function(config["activation"], custom_objects, safe_mode, owner)
    if cls.__name__ == "InputLayer" or cls not in layer_classes().values():
        if hasattr(cls, "from_config") and cls.from_config.__func__ is not _base_from_config():
            layer = cls.from_config(config)
        else:
            layer = _construct(cls, config, owner, strict=cls in layer_classes().values())
    else:
        layer = _construct(cls, config, owner)
    build = entry.get("build_config") or {}
    shape = build.get("input_shape")
    if shape is not None and not layer.built:
        layer.ensure_built(_shape_tuple(shape))
    return layer


def _base_from_config():
    from .layers.layer import Layer
    return Layer.from_config.__func__


def _shape_tuple(shape):
    if isinstance(shape, dict):
        return {k: _shape_tuple(v) for k, v in shape.items()}
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        return [_shape_tuple(s) for s in shape]
    if not isinstance(shape, (list, tuple)) or not all(d is None or (isinstance(d, int) and d >= 0) for d in shape):
        raise ValueError(f"load_model: invalid shape {shape!r}")
    return tuple(shape)


def _resolve(value, tensors: Dict, owner: str):
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = value.get("config", {}).get("keras_history")
        key = _history_key(history, owner)
        if key not in tensors:
            raise ValueError(f"{owner}: refers to tensor {history} that is not defined before it")
        return tensors[key]
    if isinstance(value, list):
        return [_resolve(v, tensors, owner) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, tensors, owner) for k, v in value.items()}
    return value


def _history_key(history, owner: str):
    if not (isinstance(history, list) and len(history) == 3 and isinstance(history[0], str)
            and all(isinstance(i, int) and not isinstance(i, bool) for i in history[1:])):
        raise ValueError(f"{owner}: invalid tensor reference {history!r}")
    return tuple(history)


def model_from_dict(entry: Dict, custom_objects: Dict, safe_mode: bool):
    from .layers.input_layer import InputLayer
    from .layers.keras_tensor import flatten
    from .models import Model, Sequential
    config = entry.get("config")
    if not isinstance(config, dict):
        raise ValueError("load_model: the model's config must be a dict")
    name = entry.get("class_name")
    layer_entries = config.get("layers")
    if not isinstance(layer_entries, list):
        raise ValueError(f"load_model: the {name} config has no list of layers")
    if name == "Sequential":
        model = Sequential(name=config.get("name"), trainable=bool(config.get("trainable", True)))
        for item in layer_entries:
            model.add(_layer_from_dict(item, custom_objects, safe_mode))
        shape = config.get("build_input_shape")
        if shape is not None and model.layers and not model.built:
            model.build(_shape_tuple(shape))
        return model
    if name not in ("Functional", "Model"):
        raise ValueError(f"load_model: unknown model class {name!r}")
    tensors = {}
    for item in layer_entries:
        if not isinstance(item, dict):
            raise ValueError("load_model: every layer entry must be a dict")
        layer = _layer_from_dict(item, custom_objects, safe_mode)
        owner = f"load_model: layer {layer.name!r}"
        if isinstance(layer, InputLayer):
            tensors[(layer.name, 0, 0)] = layer.output
            continue
        nodes = item.get("inbound_nodes")
        if not isinstance(nodes, list):
            raise ValueError(f"{owner}: missing its inbound_nodes")
        for node_index, node in enumerate(nodes):
            if not isinstance(node, dict) or not isinstance(node.get("args"), list) or not node["args"]:
                raise ValueError(f"{owner}: invalid inbound node {node!r}")
            args = _resolve(node["args"], tensors, owner)
            kwargs = _resolve(node.get("kwargs") or {}, tensors, owner)
            if not isinstance(kwargs, dict):
                raise ValueError(f"{owner}: invalid inbound node kwargs")
            # Keras records `mask=None` for layers that take masks; tensorlet passes no masks.
            kwargs = {k: v for k, v in kwargs.items() if not (k == "mask" and v is None) and k != "training"}
            out = layer(args[0], *args[1:], **kwargs)
            for i, t in enumerate(flatten(out)):
                tensors[(layer.name, node_index, i)] = t

    def lookup(history):
        key = _history_key(history, "load_model: model inputs/outputs")
        if key not in tensors:
            raise ValueError(f"load_model: the model refers to tensor {history} that no layer makes")
        return tensors[key]

    def refs(value):
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
            return lookup(value)
        if isinstance(value, list):
            return [refs(v) for v in value]
        if isinstance(value, dict):
            return {k: refs(v) for k, v in value.items()}
        raise ValueError(f"load_model: invalid input/output reference {value!r}")

    inputs = refs(config.get("input_layers"))
    outputs = refs(config.get("output_layers"))

    return Model(inputs, outputs, name=config.get("name"), trainable=bool(config.get("trainable", True)))


def from_config(entry: Dict, custom_objects: Optional[Dict] = None, safe_mode: bool = True):
    """A layer or model rebuilt from Keras's dict form (``{"class_name", "config", ...}``)."""
    custom_objects = dict(custom_objects or {})
    if isinstance(entry, dict) and entry.get("class_name") in ("Sequential", "Functional", "Model"):
        return model_from_dict(entry, custom_objects, safe_mode)
    return _layer_from_dict(entry, custom_objects, safe_mode)



