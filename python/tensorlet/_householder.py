"""QR decomposition by Householder reflections, composed of tensor ops (the core has no QR
kernel). Used by the Orthogonal initializer, at build time only: a Python loop over columns,
O(m n^2) work, computed in float64."""

from __future__ import annotations

import tensorlet as tl

__all__ = ["householder_qr"]


def _reflect(v, block):
    """(I - 2 v v^T) block, for a unit column v of shape (k, 1)."""
    return block - 2.0 * v * tl.matmul(tl.transpose(v), block)


def householder_qr(a):
    """The thin QR of a 2-D tensor of shape (m, n), m >= n: (q of shape (m, n) with orthonormal
    columns, r of shape (n, n) upper triangular), both float64, with a = q r."""
    if a.ndim != 2 or a.shape[0] < a.shape[1]:
        raise ValueError(f"householder_qr: expected a 2-D tensor with rows >= columns, got shape {tuple(a.shape)}")
    m, n = a.shape
    r = tl.array(a, dtype="float64")  # a copy, reduced to R in place
    reflectors = []
    for k in range(n):
        x = r[k:, k:k + 1]
        norm = float(tl.sqrt(tl.sum(tl.square(x))))
        if norm == 0.0:
            reflectors.append(None)  # an all-zero column: nothing to reflect
            continue
        head = float(x[0, 0])
        alpha = -norm if head >= 0.0 else norm  # the sign that avoids cancellation in v[0]
        v = tl.array(x, dtype="float64")
        v[0, 0] = head - alpha
        v = v / tl.sqrt(tl.sum(tl.square(v)))
        r[k:, k:] = _reflect(v, r[k:, k:])
        reflectors.append(v)
    q = tl.eye(m, n, dtype="float64")
    for k in reversed(range(n)):
        if reflectors[k] is not None:
            q[k:, :] = _reflect(reflectors[k], q[k:, :])
    upper = tl.asarray(tl.arange(n)[:, None] <= tl.arange(n)[None, :])
    return q, tl.where(upper, r[:n, :], 0.0)
