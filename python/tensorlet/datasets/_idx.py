"""Reading gzip-compressed IDX files (the MNIST family's format), with integrity checks.

An IDX file is a big-endian header -- two zero bytes, a type code (0x08 = uint8), the
number of dimensions -- then one big-endian int32 per dimension, then the raw data.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from typing import Dict, Optional, Sequence

import numpy as np

__all__ = ["DatasetFileError", "sha256_of", "read_idx", "load_split_files", "SPLIT_FILES"]

_UINT8_TYPE = 0x08

# The four files of MNIST-format datasets: (images, labels) for train and test.
SPLIT_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


class DatasetFileError(ValueError):
    """A dataset file is missing, corrupt, or not in the expected format."""


def sha256_of(path: str, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _decompress(path: str) -> bytes:
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise DatasetFileError(f"{path}: not a valid gzip file ({e}); delete it and copy it again") from e


def read_idx(path: str, expected_ndim: int, expected_sha256: Optional[str] = None) -> np.ndarray:
    """Reads one gzip-compressed uint8 IDX file into a NumPy array.

    Raises DatasetFileError when the file is missing, its SHA-256 differs from
    `expected_sha256`, or its header does not describe the data that follows.
    """
    if not os.path.isfile(path):
        raise DatasetFileError(f"dataset file not found: {path}")
    if expected_sha256 is not None:
        actual = sha256_of(path)
        if actual != expected_sha256:
            raise DatasetFileError(
                f"{path} is corrupt: its SHA-256 is {actual}, expected {expected_sha256}; "
                "delete it and copy it again"
            )
    raw = _decompress(path)
    header_len = 4 + 4 * expected_ndim
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _UINT8_TYPE or raw[3] != expected_ndim:
        raise DatasetFileError(
            f"{path}: bad IDX magic {raw[:4].hex()}, expected 0000{_UINT8_TYPE:02x}{expected_ndim:02x} "
            f"(uint8 data with {expected_ndim} dimension(s))"
        )
    if len(raw) < header_len:
        raise DatasetFileError(f"{path}: {len(raw)} bytes is too short for an IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=expected_ndim, offset=4))
    n_data = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header_len != n_data:
        raise DatasetFileError(
            f"{path}: header says shape {shape} ({n_data} bytes of data) "
            f"but the file holds {len(raw) - header_len} bytes after the header"
        )
    # Copy out of the bytes object so the array is writable and owns its memory.
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape).copy()


def load_split_files(
    directory: str,
    hashes: Optional[Dict[str, str]] = None,
    num_classes: int = 10,
    names: Sequence[str] = SPLIT_FILES,
):
    """Loads ((x_train, y_train), (x_test, y_test)) from the four IDX files in `directory`."""
    missing = [n for n in names if not os.path.isfile(os.path.join(directory, n))]
    if missing:
        raise DatasetFileError(f"missing dataset file(s) in {directory}: {', '.join(missing)}")

    def read(name: str, ndim: int) -> np.ndarray:
        expected = hashes.get(name) if hashes else None
        return read_idx(os.path.join(directory, name), ndim, expected)

    x_train, y_train = read(names[0], 3), read(names[1], 1)
    x_test, y_test = read(names[2], 3), read(names[3], 1)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if x.shape[0] != y.shape[0]:
            raise DatasetFileError(
                f"{directory}: {split} images and labels differ in length: {x.shape[0]} != {y.shape[0]}"
            )
        if y.size and int(y.max()) >= num_classes:
            raise DatasetFileError(
                f"{directory}: {split} labels must be in [0, {num_classes}), found {int(y.max())}"
            )
    return (x_train, y_train), (x_test, y_test)
