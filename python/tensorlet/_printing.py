"""``tl.printoptions``: set print options for a ``with`` block, like ``numpy.printoptions``."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from . import _core


@contextlib.contextmanager
def printoptions(**options: Any) -> Iterator[dict]:
    """Temporarily sets print options (``precision``, ``threshold``, ``edgeitems``,
    ``linewidth``, ``suppress``); yields the options in force inside the block."""
    saved = _core.get_printoptions()
    _core.set_printoptions(**options)
    try:
        yield _core.get_printoptions()
    finally:
        _core.set_printoptions(**saved)
