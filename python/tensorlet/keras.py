"""``tensorlet.keras``: Keras's namespace over tensorlet, so a Keras program runs with only its
imports changed::

    from tensorlet import keras                      # was: from tensorflow import keras
    from tensorlet.keras import layers               # was: from tensorflow.keras import layers
    from tensorlet.keras.datasets import mnist       # was: from tensorflow.keras.datasets import mnist

``keras.Sequential``, ``keras.Model``, ``keras.Input``, ``keras.InputSpec``, ``keras.layers``, ``keras.models``, ``keras.optimizers``,
``keras.losses``, ``keras.metrics``, ``keras.callbacks``, ``keras.distribution``, ``keras.initializers``,
``keras.activations``, ``keras.datasets`` and ``keras.utils`` are tensorlet's own modules;
``keras.ops`` (``tensorlet.keras_ops``) gives tensorlet's ops under Keras 3's names.
"""

import sys as _sys

from . import activations, callbacks, datasets, distribution, initializers, layers, losses, metrics, models, optimizers, utils
from . import keras_ops as ops
from .layers import Input, InputSpec
from .models import Model, Sequential

__all__ = ["Sequential", "Model", "Input", "InputSpec", "activations", "callbacks", "datasets", "distribution", "initializers", "layers", "losses",
           "metrics", "models", "ops", "optimizers", "utils"]

# Make `from tensorlet.keras.<module> import ...` work as it does for keras.<module>.
for _name in __all__[4:]:
    _sys.modules[f"{__name__}.{_name}"] = globals()[_name]
_sys.modules[f"{__name__}.datasets.mnist"] = datasets.mnist
_sys.modules[f"{__name__}.datasets.fashion_mnist"] = datasets.fashion_mnist
