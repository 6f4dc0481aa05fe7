// Binary elementwise ops with NumPy broadcasting and NumPy 2 promotion, recorded for autograd
// where differentiable; comparisons, bitwise and logical ops; where, clip; in-place forms.
// Python scalars reach these as 0-d tensors made by weak_scalar_like (NumPy 2's weak rule).
#pragma once
#include "core/tensor.h"
#include "kernels/binary.h"
#include "ops/unary.h"  // negative / neg, which many derivative formulas here use

namespace tl {

// One function per line of the op table ops/binary.def: tl::add(a, b), tl::sub, tl::mul, tl::div
// (true division: integers give float64), tl::power (ValueError for integers to negative integer
// powers), tl::maximum / tl::minimum (ties send half of the gradient to each operand, PyTorch's
// convention; NaN propagates), tl::floor_divide / tl::remainder (Python's floor semantics;
// int // 0 -> 0), tl::hypot, tl::logaddexp, comparisons and logical ops (-> bool), bitwise ops
// (bool / integer dtypes; TypeError on floats). Each records its backward node where the table
// gives a derivative (ops/binary_grad.cpp).
#define TL_BINARY(name, K, fn, ...) Tensor fn(const Tensor& a, const Tensor& b);
#include "ops/binary.def"
#undef TL_BINARY

// Any binary op by kernel id (the bindings' table); records a node when the op has a backward.
Tensor binary_op(kernels::BinaryOp op, const Tensor& a, const Tensor& b);
// NumPy's ufunc name of an op: kernels::binary_op_name (from the table ops/binary.def).
using kernels::binary_op_name;

// numpy.where(cond, x, y): cond is read as bool; gradients flow to x and y.
Tensor where(const Tensor& cond, const Tensor& x, const Tensor& y);
// numpy.clip: min(max(x, lo), hi); lo / hi may be undefined (None). Gradient goes to x where
// lo <= x <= hi (boundaries included), else to the bound that was taken.
Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi);

// a op= b into a's storage (views too), NumPy's same_kind casting rule for the result. Refuses
// read-only storage (ValueError) and, while grad mode is on, tensors that require grad
// (RuntimeError). b is broadcast to a's shape; memory overlap between a and b is handled.
void binary_inplace(kernels::BinaryOp op, const Tensor& a, const Tensor& b);

// Tensor-with-Python-scalar forms: the scalar is weak (NumPy 2), it adopts a's dtype.
Tensor add(const Tensor& a, Scalar b);
Tensor mul(const Tensor& a, Scalar b);
// THE weak-scalar rule (NumPy 2, NEP 50), for every op that takes a Python scalar next to a
// tensor: the scalar as a 0-d tensor of the dtype it takes next to `like` as an operand of `op`
// (Add for where / clip bounds and the C++ scalar overloads): bool < int < float kinds, the
// tensor's dtype within its kind. An int that does not fit raises OverflowError ("Python integer
// 300 out of bounds for uint8"), except where NumPy's loop is a float one (divide, hypot,
// logaddexp on integer tensors: the value is kept exactly in that float dtype), in comparisons
// (compared exactly) and in logical ops (only its truth counts): there it becomes an int64 operand.
Tensor weak_scalar(Scalar s, const Tensor& like, kernels::BinaryOp op = kernels::BinaryOp::Add);
// Differentiable dtype conversion (identity when the dtype already matches).
Tensor astype(const Tensor& x, DType dtype);

}  // namespace tl
