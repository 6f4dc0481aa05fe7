"""Models: ``Model`` (a ``Layer`` with the ``Trainer``'s compile / fit / evaluate / predict;
subclass it and write ``call``) and ``Sequential`` (a linear stack of layers)."""

from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential"]
