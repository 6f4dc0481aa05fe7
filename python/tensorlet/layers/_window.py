"""Argument checks and output-shape arithmetic shared by the conv and pooling layers (the same
arithmetic as the core's ops, csrc/ops/window.h, so ``summary()`` needs no data)."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np


def normalize_tuple(value, n: int, name: str, owner: str) -> Tuple[int, ...]:
    """An int or a sequence of ``n`` positive ints, as a tuple of ``n`` ints (Keras's rule)."""
    values = (value,) * n if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if values is None or len(values) != n or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in values):
        raise ValueError(f"{owner}: {name} must be a positive integer or a tuple of {n} positive integers, "
                         f"got {value!r}")
    return tuple(int(v) for v in values)


def normalize_padding(padding, owner: str) -> str:
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in ("valid", "same"):
        raise ValueError(f"{owner}: padding must be 'valid' or 'same', got {padding!r}")
    return p


def normalize_data_format(data_format, owner: str) -> str:
    f = "channels_last" if data_format is None else data_format
    f = f.lower() if isinstance(f, str) else f
    if f not in ("channels_last", "channels_first"):
        raise ValueError(f"{owner}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return f


def output_length(length: Optional[int], size: int, stride: int, dilation: int, padding: str,
                  owner: str, input_shape) -> Optional[int]:
    """Keras/TF: valid -> (in - span) // stride + 1 (an error when span > in); same ->
    ceil(in / stride); span = (size - 1) * dilation + 1."""
    if length is None:
        return None
    if padding == "same":
        return -(-length // stride)
    span = (size - 1) * dilation + 1
    if span > length:
        raise ValueError(f"{owner}: a window spanning {span} cells does not fit in the input of shape "
                         f"{tuple(input_shape)} with padding='valid' (the output size would be "
                         f"{(length - span) // stride + 1})")
    return (length - span) // stride + 1


def check_rank(input_shape, rank: int, owner: str) -> None:
    """A batch of the wrong rank is an error (Keras 3 would quietly accept some)."""
    if len(input_shape) != rank + 2:
        layout = "(batch, steps, channels)" if rank == 1 else "(batch, rows, cols, channels)"
        raise ValueError(f"{owner} expects inputs of rank {rank + 2} {layout} (channels first if data_format="
                         f"'channels_first'), got shape {tuple(input_shape)}")


def spatial_axes(rank: int, data_format: str) -> Tuple[int, ...]:
    return tuple(range(2, rank + 2)) if data_format == "channels_first" else tuple(range(1, rank + 1))


def channel_axis(data_format: str) -> int:
    return 1 if data_format == "channels_first" else -1
