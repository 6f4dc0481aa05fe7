"""Models: ``Model`` (a ``Layer`` with the ``Trainer``'s compile / fit / evaluate / predict;
subclass it and write ``call``) and ``Sequential`` (a linear stack of layers)."""

from .functional import Functional
from .model import Model
from .saving import clone_model, load_model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "Functional", "load_model", "clone_model"]
