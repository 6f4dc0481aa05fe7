"""The MNIST handwritten digits, bundled with tensorlet (see data/mnist/README.md)."""

from __future__ import annotations

import os
from typing import Optional

from ._idx import load_split_files

__all__ = ["load_data"]

_BUNDLED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "mnist")

# SHA-256 of each gzip file, as published with the data.
_SHA256 = {
    "train-images-idx3-ubyte.gz": "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971",
    "train-labels-idx1-ubyte.gz": "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203",
    "t10k-images-idx3-ubyte.gz": "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be",
    "t10k-labels-idx1-ubyte.gz": "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b",
}


def load_data(path: Optional[str] = None):
    """Loads MNIST as Keras does: ``(x_train, y_train), (x_test, y_test)``.

    x arrays are uint8 of shape (n, 28, 28) with values 0-255; y arrays are uint8 of shape
    (n,) with the digits 0-9; 60,000 training and 10,000 test samples.

    Args:
        path: a directory holding the four IDX files (``train-images-idx3-ubyte.gz``, ...).
            Defaults to the copy bundled inside the package, so no download is needed.

    Every file's SHA-256 is checked before it is read; a missing or corrupt file raises
    ``DatasetFileError`` (a ``ValueError``) naming it.
    """
    directory = _BUNDLED_DIR if path is None else os.fspath(path)
    return load_split_files(directory, hashes=_SHA256)
