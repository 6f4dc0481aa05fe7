"""What a pickled Tensor is rebuilt by (Tensor.__reduce__, csrc/bindings/tensor_pickle.cpp).

A module-level Python function, so a pickle names it as ``tensorlet._pickle.rebuild_tensor``;
its arguments are plain values (bytes, a dtype name, a shape tuple, a bool) that the core
validates before it builds the tensor.
"""
from . import _core


def rebuild_tensor(data: bytes, dtype: str, shape: tuple, requires_grad: bool = False):
    return _core._tensor_from_bytes(data, dtype, shape, requires_grad)
