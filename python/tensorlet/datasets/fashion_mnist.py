"""Fashion-MNIST: the MNIST file format, ten classes of clothing. Not bundled.

Put the four files of the dataset (``train-images-idx3-ubyte.gz``,
``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``,
from https://github.com/zalandoresearch/fashion-mnist) in ``~/.tensorlet/datasets/fashion-mnist/``,
in ``$TENSORLET_DATA/fashion-mnist/``, or pass their directory as ``path``.
"""

from __future__ import annotations

import os
from typing import List, Optional

from ._idx import SPLIT_FILES, DatasetFileError, load_split_files

__all__ = ["load_data", "search_dirs"]

_SUBDIR = "fashion-mnist"


def search_dirs() -> List[str]:
    """The directories searched, in order, when no path is given."""
    dirs = []
    root = os.environ.get("TENSORLET_DATA")
    if root:
        dirs += [os.path.join(root, _SUBDIR), root]
    dirs.append(os.path.join(os.path.expanduser("~"), ".tensorlet", "datasets", _SUBDIR))
    return dirs


def _has_all_files(directory: str) -> bool:
    return all(os.path.isfile(os.path.join(directory, n)) for n in SPLIT_FILES)


def load_data(path: Optional[str] = None):
    """Loads Fashion-MNIST as Keras does: ``(x_train, y_train), (x_test, y_test)``.

    Same shapes and dtypes as ``mnist.load_data()``. Reads ``path`` when given, else the first
    directory of ``search_dirs()`` that holds all four files; raises ``DatasetFileError``
    (a ``ValueError``) saying where to put which files when none does. The files are checked
    for a valid IDX structure and labels in 0-9 (no published hashes are pinned here).
    """
    if path is not None:
        return load_split_files(os.fspath(path))
    candidates = search_dirs()
    for directory in candidates:
        if _has_all_files(directory):
            return load_split_files(directory)
    raise DatasetFileError(
        "Fashion-MNIST is not bundled with tensorlet and was not found. Download the files "
        + ", ".join(SPLIT_FILES)
        + " from https://github.com/zalandoresearch/fashion-mnist and put them in one of: "
        + ", ".join(candidates)
        + " (or pass their directory as load_data(path=...))."
    )
