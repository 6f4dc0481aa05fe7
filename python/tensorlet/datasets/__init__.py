"""Small datasets in Keras's layout: ``mnist`` (bundled) and ``fashion_mnist`` (cached copy)."""

from . import fashion_mnist, mnist
from ._idx import DatasetFileError

__all__ = ["mnist", "fashion_mnist", "DatasetFileError"]
