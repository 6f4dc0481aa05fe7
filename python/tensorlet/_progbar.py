"""Keras's progress line: ``469/469 ━━━━━━━━━━━━━━━━━━━━ 2s 4ms/step - accuracy: 0.9254 - loss: 0.2571``.

On a terminal the line is redrawn in place (at most every ``interval`` seconds) with Keras's
colours; otherwise it is printed once, when the target is reached, as plain text, so logs
and pipes get one clean line per epoch.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Iterable, Optional, Tuple

__all__ = ["Progbar"]

_BOLD, _GREEN, _GREY, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"
_BAR_CHAR = "\u2501"  # ━


def _format_value(v: float) -> str:
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def format_time_per_unit(seconds: float, unit_name: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def _format_eta(eta: float) -> str:
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


class Progbar:
    """A progress line over ``target`` steps.

    Args:
        target: total number of steps, or None when unknown.
        width: width of the bar in characters.
        verbose: 1 for the live bar, 2 for one line at the end, 0 for nothing.
        interval: minimum seconds between two redraws on a terminal.
        unit_name: "step" or "sample".
        stream: where to write (default: sys.stdout at each write).
        dynamic: redraw in place; defaults to whether ``stream`` is a terminal.

    ``update(current, values)`` takes the metrics' current values (already running means,
    as the model's metrics are) and displays them as they are.
    """

    def __init__(self, target: Optional[int], width: int = 20, verbose: int = 1, interval: float = 0.05,
                 unit_name: str = "step", stream=None, dynamic: Optional[bool] = None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self._stream = stream
        if dynamic is None:
            out = self.stream
            dynamic = bool(getattr(out, "isatty", None) and out.isatty())
        self._dynamic = dynamic
        self._values = {}
        self._start = time.perf_counter()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_width = 0
        self._seen_so_far = 0

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout

    def _time_per_unit(self, current: int, now: float) -> float:
        # The first step is usually slow (allocation, warm-up): leave it out of the estimate.
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    def update(self, current: int, values: Optional[Iterable[Tuple[str, float]]] = None,
               finalize: Optional[bool] = None) -> None:
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or ():
            self._values[name] = float(value)
        self._seen_so_far = current
        now = time.perf_counter()
        per_unit = self._time_per_unit(current, now)
        if self.verbose == 1:
            if not finalize and (not self._dynamic or now - self._last_update < self.interval):
                return
            self._write_bar(current, now, per_unit, finalize)
        elif self.verbose == 2 and finalize:
            self._write_summary_line(current, now, per_unit)
        self._last_update = now

    def add(self, n: int, values=None) -> None:
        self.update(self._seen_so_far + n, values)

    def _metrics_text(self) -> str:
        return "".join(f" - {k}: {_format_value(v)}" for k, v in self._values.items())

    def _count_text(self, current: int) -> str:
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            return f"%{digits}d/%d" % (current, self.target)
        return "%7d/Unknown" % current

    def _write_bar(self, current: int, now: float, per_unit: float, finalize: bool) -> None:
        color = self._dynamic
        bold = (lambda s: f"{_BOLD}{s}{_RESET}") if color else (lambda s: s)
        count = self._count_text(current)
        plain = count + " "
        text = bold(count) + " "
        if self.target is not None and self.target > 0:
            done = int(self.width * min(current, self.target) / self.target)
            done_bar, todo_bar = _BAR_CHAR * done, _BAR_CHAR * (self.width - done)
            plain += done_bar + todo_bar
            if color:
                text += (f"{_GREEN}{done_bar}{_RESET}" if done else "") + f"{_GREY}{todo_bar}{_RESET}"
            else:
                text += done_bar + todo_bar
        if self.target is not None and self.target > 0 and not finalize:
            clock = _format_eta(per_unit * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        info = f" {clock} {format_time_per_unit(per_unit, self.unit_name)}{self._metrics_text()}"
        plain += info
        text += f" {bold(clock)} {format_time_per_unit(per_unit, self.unit_name)}{self._metrics_text()}"
        width = len(plain)
        if self._dynamic:
            pad = " " * max(self._prev_width - width, 0)
            message = "\r" + text + pad + ("\n" if finalize else "")
        else:
            message = text + "\n"
        self._prev_width = width
        self.stream.write(message)
        self.stream.flush()

    def _write_summary_line(self, current: int, now: float, per_unit: float) -> None:
        line = (f"{self._count_text(current)} - {now - self._start:.0f}s - "
                f"{format_time_per_unit(per_unit, self.unit_name)}{self._metrics_text()}\n")
        self.stream.write(line)
        self.stream.flush()

