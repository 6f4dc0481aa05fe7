"""NumPy references for convolution and pooling (NHWC data, HWIO kernels), written from the
definitions: explicit padding with Keras/TF's arithmetic, then one strided slice of the padded
input per kernel cell (each slice holds that cell of every patch)."""
import numpy as np


def pads(n, size, stride, dilation, padding):
    """(output length, pad before, pad after) along one spatial dim."""
    span = (size - 1) * dilation + 1
    if padding == "valid":
        return (n - span) // stride + 1, 0, 0
    out = -(-n // stride)
    total = max((out - 1) * stride + span - n, 0)
    return out, total // 2, total - total // 2


def _geometry(x_shape, size, strides, dilation, padding):
    dims = [pads(n, k, s, d, padding) for n, k, s, d in zip(x_shape[1:-1], size, strides, dilation)]
    return [d[0] for d in dims], [(d[1], d[2]) for d in dims]


def _cell_slice(k, out, stride, dilation):
    return slice(k * dilation, k * dilation + (out - 1) * stride + 1, stride)


def _unpad(a, pad, shape):
    """The part of padded `a` over the original input of `shape`."""
    return a[(slice(None),) + tuple(slice(b, b + n) for (b, _), n in zip(pad, shape[1:-1])) + (slice(None),)]


def _cells(size):
    return np.ndindex(*size)


def conv(x, w, strides, padding, dilation):
    """keras.ops.conv for 1-D (N, W, C) or 2-D (N, H, W, C) x and kernel (..., C, O)."""
    size = w.shape[:-2]
    out, pad = _geometry(x.shape, size, strides, dilation, padding)
    xp = np.pad(x, [(0, 0)] + pad + [(0, 0)])
    y = np.zeros((x.shape[0], *out, w.shape[-1]), np.result_type(x, w))
    for cell in _cells(size):
        sl = tuple(_cell_slice(k, o, s, d) for k, o, s, d in zip(cell, out, strides, dilation))
        y += xp[(slice(None),) + sl] @ w[cell]
    return y


def conv_grads(x, w, g, strides, padding, dilation):
    """(d x, d kernel) of sum(conv(x, w) * g)."""
    size = w.shape[:-2]
    out, pad = _geometry(x.shape, size, strides, dilation, padding)
    xp = np.pad(x, [(0, 0)] + pad + [(0, 0)])
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for cell in _cells(size):
        sl = (slice(None),) + tuple(_cell_slice(k, o, s, d) for k, o, s, d in zip(cell, out, strides, dilation))
        dxp[sl] += g @ w[cell].T
        dw[cell] = np.tensordot(xp[sl], g, axes=(list(range(x.ndim - 1)), list(range(x.ndim - 1))))
    return _unpad(dxp, pad, x.shape), dw


def _windows(x, pool, strides, padding, fill):
    """(padded x with `fill`, valid-cell mask, output shape, per-cell slices)."""
    out, pad = _geometry(x.shape, pool, strides, [1] * len(pool), padding)
    xp = np.pad(x.astype(np.float64), [(0, 0)] + pad + [(0, 0)], constant_values=fill)
    mask = np.pad(np.ones(x.shape, bool), [(0, 0)] + pad + [(0, 0)], constant_values=False)
    slices = [(slice(None),) + tuple(_cell_slice(k, o, s, 1) for k, o, s in zip(cell, out, strides))
              for cell in _cells(pool)]
    return xp, mask, out, pad, slices


def max_pool(x, pool, strides, padding):
    """y (padding never wins) and a function g -> dx sending each g to its window's first maximum."""
    xp, mask, out, pad, slices = _windows(x, pool, strides, padding, -np.inf)
    stack = np.stack([xp[sl] for sl in slices])  # (cells, N, *out, C)
    first = np.argmax(stack, axis=0)              # the first maximal cell, in (kh, kw) order
    y = np.max(stack, axis=0).astype(x.dtype)

    def grad(g):
        dxp = np.zeros(xp.shape)
        for i, sl in enumerate(slices):
            dxp[sl] += np.where(first == i, g, 0.0)
        return _unpad(dxp, pad, x.shape)
    return y, grad


def average_pool(x, pool, strides, padding):
    """y (the mean of each window's cells inside the input) and a function g -> dx."""
    xp, mask, out, pad, slices = _windows(x, pool, strides, padding, 0.0)
    total = sum(xp[sl] for sl in slices)
    count = sum(mask[sl].astype(np.float64) for sl in slices)
    y = (total / count).astype(x.dtype)

    def grad(g):
        dxp = np.zeros(xp.shape)
        for sl in slices:
            dxp[sl] += g / count
        return _unpad(dxp, pad, x.shape)
    return y, grad


def grouped_conv(x, w, strides, padding, dilation):
    """Grouped conv (groups = C / the kernel's input channels) as one conv per group."""
    cg = w.shape[-2]
    groups = x.shape[-1] // cg
    og = w.shape[-1] // groups
    return np.concatenate([conv(x[..., i * cg:(i + 1) * cg], w[..., i * og:(i + 1) * og], strides, padding, dilation)
                           for i in range(groups)], axis=-1)


def depthwise_conv(x, w, strides, padding, dilation):
    """keras.ops.depthwise_conv, kernel (..., C, M): the grouped conv with C groups of M outputs,
    whose output channel c*M + m is kernel[..., c, m]."""
    c, m = w.shape[-2:]
    return grouped_conv(x, w.reshape(w.shape[:-2] + (1, c * m)), strides, padding, dilation)


def grouped_conv_grads(x, w, g, strides, padding, dilation):
    """(d x, d kernel) of sum(grouped_conv(x, w) * g), group by group."""
    cg = w.shape[-2]
    groups = x.shape[-1] // cg
    og = w.shape[-1] // groups
    parts = [conv_grads(x[..., i * cg:(i + 1) * cg], w[..., i * og:(i + 1) * og], g[..., i * og:(i + 1) * og],
                        strides, padding, dilation) for i in range(groups)]
    return np.concatenate([p[0] for p in parts], axis=-1), np.concatenate([p[1] for p in parts], axis=-1)


def depthwise_conv_grads(x, w, g, strides, padding, dilation):
    c, m = w.shape[-2:]
    dx, dw = grouped_conv_grads(x, w.reshape(w.shape[:-2] + (1, c * m)), g, strides, padding, dilation)
    return dx, dw.reshape(w.shape)
