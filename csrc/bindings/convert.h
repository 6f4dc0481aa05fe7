// Conversions at the Python boundary: NumPy arrays, Python scalars and nested lists to
// Tensors (zero-copy where possible), Tensors to NumPy arrays, dtype arguments to DType.
#pragma once
#include <optional>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include "core/tensor.h"

namespace py = pybind11;

namespace tl::bind {

// Accepts anything numpy.dtype() accepts and maps it to a supported DType (TypeError else).
DType parse_dtype(py::handle obj);
std::optional<DType> parse_optional_dtype(py::handle obj);
py::dtype to_numpy_dtype(DType d);

// Zero-copy when the array's dtype is supported, native-endian, aligned and its strides are
// whole elements; a copy otherwise.
Tensor from_numpy(const py::array& arr);
// tl.array / tl.asarray: `copy` forces a fresh buffer.
Tensor to_tensor(py::handle obj, std::optional<DType> dtype, bool copy);
// A tensor argument: a Tensor as is (a view, no copy), anything else through to_tensor.
inline Tensor tensor_arg(py::handle x) {
  return py::isinstance<Tensor>(x) ? x.cast<Tensor>() : to_tensor(x, std::nullopt, false);
}
// A zero-copy NumPy view of the tensor (keeps the storage alive).
py::array to_numpy(const Tensor& t);

// A Python bool / int / float (subclasses included); to_scalar also takes a complex. Binary operands go through
// bindings/binary_args.h, which applies the weak-scalar rule.
bool is_python_scalar(py::handle obj);
Scalar to_scalar(py::handle obj);
// A Python bool / int / float / complex stored into a tensor of `dtype` (setitem, fill), by
// NumPy's rules (tl::assign_scalar), plus: ints beyond int64 into float (rounded) and bool
// (True) tensors; complex into bool by its truth value, else TypeError as NumPy.
bool is_assignable_scalar(py::handle obj);
Scalar assign_scalar_py(py::handle obj, DType dtype, const char* op);
// True where NumPy would export the tensor read-only: read-only storage, or a broadcast view
// (a stride-0 dim of size > 1, whose elements alias each other).
bool exports_read_only(const Tensor& t);

// Shape arguments: an int or a sequence of ints.
Shape to_shape(py::handle obj, const char* op);

}  // namespace tl::bind
