// Binary elementwise ops with NumPy broadcasting and NumPy 2 promotion, recorded for autograd
// where differentiable; comparisons, bitwise and logical ops; where, clip; in-place forms.
// Python scalars reach these as 0-d tensors made by weak_scalar_like (NumPy 2's weak rule).
#pragma once
#include "core/tensor.h"
#include "kernels/binary.h"
#include "ops/unary.h"  // negative / neg, which many derivative formulas here use

namespace tl {

// Differentiable arithmetic (backward for the float operands).
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: integers give float64
Tensor power(const Tensor& a, const Tensor& b);  // ValueError for integers to negative integer powers
// Ties send half of the gradient to each operand (PyTorch's convention); NaN propagates.
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// The C library's atan2 / hypot / copysign / nextafter on float_result_dtype; differentiable
// but nextafter (d copysign(x, y)/dy is 0, as PyTorch).
Tensor atan2(const Tensor& y, const Tensor& x);
Tensor hypot(const Tensor& a, const Tensor& b);
Tensor copysign(const Tensor& a, const Tensor& b);
Tensor nextafter(const Tensor& a, const Tensor& b);
// Not differentiable (piecewise constant / integer results): no graph is recorded.
Tensor floor_divide(const Tensor& a, const Tensor& b);  // Python's floor semantics; int // 0 -> 0
Tensor remainder(const Tensor& a, const Tensor& b);     // sign of the divisor; int % 0 -> 0

// Comparisons and logical ops -> bool; bitwise ops on bool / integer dtypes (TypeError on floats).
Tensor equal(const Tensor& a, const Tensor& b);
Tensor not_equal(const Tensor& a, const Tensor& b);
Tensor less(const Tensor& a, const Tensor& b);
Tensor less_equal(const Tensor& a, const Tensor& b);
Tensor greater(const Tensor& a, const Tensor& b);
Tensor greater_equal(const Tensor& a, const Tensor& b);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
Tensor bitwise_and(const Tensor& a, const Tensor& b);
Tensor bitwise_or(const Tensor& a, const Tensor& b);
Tensor bitwise_xor(const Tensor& a, const Tensor& b);

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
// A Python scalar as a 0-d tensor of the dtype it takes next to `like` (weak promotion).
// OverflowError ("Python integer 300 out of bounds for uint8") when an int does not fit.
Tensor weak_scalar_like(Scalar s, const Tensor& like);
// For comparisons: an out-of-range Python int is compared exactly (NumPy 2), so it becomes an
// int64 operand instead of raising.
Tensor weak_scalar_for_compare(Scalar s, const Tensor& like);
// Differentiable dtype conversion (identity when the dtype already matches).
Tensor astype(const Tensor& x, DType dtype);

}  // namespace tl
