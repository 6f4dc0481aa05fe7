"""Model.summary(): Keras 3's table of layers, output shapes and parameter counts."""

from __future__ import annotations

import math
import shutil
from typing import Callable, List, Optional, Sequence

from .layers.layer import format_shape

__all__ = ["print_summary", "readable_memory_size"]

_HEADER = ("Layer (type)", "Output Shape", "Param #")
_ALIGN = ("left", "left", "right")
_POSITIONS = (0.45, 0.80, 1.0)
_DEFAULT_LINE_LENGTH = 88
# A graph that is not a plain chain gets Keras's fourth column, "Connected to".
_GRAPH_HEADER = _HEADER + ("Connected to",)
_GRAPH_ALIGN = _ALIGN + ("left",)
_GRAPH_POSITIONS = (0.3, 0.56, 0.74, 1.0)
_GRAPH_LINE_LENGTH = 108


def readable_memory_size(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes / 1024 < 1:
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} PB"


def _weights_size(weights) -> int:
    return int(sum(math.prod(w.shape) * w.dtype.itemsize for w in weights))


def _count(weights) -> int:
    return int(sum(math.prod(w.shape) for w in weights))


def _column_widths(line_length: int, positions=_POSITIONS) -> List[int]:
    # The text inside the borders: line minus the rules and 1 space of padding each side per cell.
    inner = line_length - (len(positions) + 1) - 2 * len(positions)
    bounds = [int(p * inner) for p in positions]
    return [b - a for a, b in zip([0] + bounds[:-1], bounds)]


def _wrap(text: str, width: int) -> List[str]:
    """Greedy word wrap (as rich wraps Keras's cells); a word longer than the width is cut."""
    lines: List[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            while len(word) > width > 0:
                lines.append(word[:width])
                word = word[width:]
            lines.append(word)
    return lines or [""]


def _wrapped_rows(cells: Sequence[str], widths: Sequence[int], align: Sequence[str]) -> List[str]:
    columns = [_wrap(c, w) for c, w in zip(cells, widths)]
    height = max(len(c) for c in columns)
    return ["│" + "│".join(f" {_cell(col[i] if i < len(col) else '', w, a)} " for col, w, a in zip(columns, widths, align))
            + "│" for i in range(height)]


def _cell(text: str, width: int, align: str) -> str:
    if len(text) > width:
        text = text[: max(width - 1, 0)] + "…"
    return text.rjust(width) if align == "right" else text.ljust(width)


def _rule(left: str, mid: str, right: str, fill: str, widths: Sequence[int]) -> str:
    return left + mid.join(fill * (w + 2) for w in widths) + right


def _row(cells: Sequence[str], widths: Sequence[int], bar: str, align: Sequence[str] = _ALIGN) -> str:
    return bar + bar.join(f" {_cell(c, w, a)} " for c, w, a in zip(cells, widths, align)) + bar


def print_summary(model, line_length: Optional[int] = None, print_fn: Optional[Callable[[str], None]] = None) -> None:
    """Prints (or passes each line of) the summary table to ``print_fn``."""
    print_fn = print_fn or print
    connections = model.connections() if hasattr(model, "connections") else None
    header, align, positions, default = (_HEADER, _ALIGN, _POSITIONS, _DEFAULT_LINE_LENGTH) if connections is None \
        else (_GRAPH_HEADER, _GRAPH_ALIGN, _GRAPH_POSITIONS, _GRAPH_LINE_LENGTH)
    if line_length is None:
        line_length = min(default, shutil.get_terminal_size().columns - 4)
    widths = _column_widths(max(line_length, 40), positions)
    lines = [f'Model: "{model.name}"', _rule("┏", "┳", "┓", "━", widths), _row(header, widths, "┃", align),
             _rule("┡", "╇", "┩", "━", widths)]
    shapes = model.layer_output_shapes()
    rows = []
    for k, (layer, shape) in enumerate(zip(model.layers, shapes)):
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        shape_text = "?" if shape is None else format_shape(shape) if not isinstance(shape, list) else \
            ", ".join(format_shape(s) for s in shape)
        cells = (f"{layer.name} ({type(layer).__name__})", shape_text, params)
        if connections is None:
            rows.append([_row(cells, widths, "│")])
        else:
            rows.append(_wrapped_rows(cells + (connections[k],), widths, align))
    separator = _rule("├", "┼", "┤", "─", widths)
    for k, row in enumerate(rows):
        if k:
            lines.append(separator)
        lines.extend(row)
    lines.append(_rule("└", "┴", "┘", "─", widths))
    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    optimizer = getattr(model, "optimizer", None)
    opt_vars = optimizer.variables if optimizer is not None and optimizer.built else None
    total = _count(trainable) + _count(non_trainable) + (_count(opt_vars) if opt_vars else 0)
    total_size = _weights_size(trainable) + _weights_size(non_trainable) + (_weights_size(opt_vars) if opt_vars else 0)
    lines.append(f" Total params: {total:,} ({readable_memory_size(total_size)})")
    lines.append(f" Trainable params: {_count(trainable):,} ({readable_memory_size(_weights_size(trainable))})")
    lines.append(f" Non-trainable params: {_count(non_trainable):,} "
                 f"({readable_memory_size(_weights_size(non_trainable))})")
    if opt_vars is not None:
        lines.append(f" Optimizer params: {_count(opt_vars):,} ({readable_memory_size(_weights_size(opt_vars))})")
    for line in lines:
        print_fn(line)
