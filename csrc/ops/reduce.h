// Reductions with NumPy's axis (None, int, tuple; negative; repeats refused) and keepdims,
// recorded for autograd where they are differentiable.
//
// Result dtypes follow NumPy 2 on linux: sum/prod of bool and integers -> int64 (NumPy gives
// uint64 for uint8, which the core lacks: we give int64), mean/var/std of bool and integers
// -> float64, max/min keep the dtype, argmax/argmin -> int64, all/any -> bool.
//
// Gradients: sum, mean, var, std, prod, max and min. For max/min the gradient is split
// equally among tied extrema (each of k tied elements gets g / k), like PyTorch's amax and
// JAX, so the gradient still sums to g.
#pragma once
#include <vector>
#include "core/tensor.h"

namespace tl {

struct AxisSpec {
  bool all = true;                // axis=None
  std::vector<int64_t> axes;      // used when !all (may be empty: reduce nothing)
  static AxisSpec none() { return {}; }
  static AxisSpec of(std::vector<int64_t> a) { return {false, std::move(a)}; }
};

// NumPy sum: bool/int accumulate in int64; floats keep their dtype.
Tensor sum(const Tensor& x, const AxisSpec& axis = {}, bool keepdims = false);
Tensor mean(const Tensor& x, const AxisSpec& axis = {}, bool keepdims = false);
Tensor prod(const Tensor& x, const AxisSpec& axis = {}, bool keepdims = false);
// NumPy's dtype= for sum / prod / mean: x is cast to `dtype` (astype: unsafe, differentiable
// between floats) and accumulated in it, and the result has it: int32 sums wrap as NumPy's,
// a bool sum is any(). mean with an integer or bool dtype: the sum in that dtype divided by the
// count, truncated back to it (NumPy's true_divide into the result, casting='unsafe').
Tensor sum(const Tensor& x, const AxisSpec& axis, bool keepdims, DType dtype);
Tensor prod(const Tensor& x, const AxisSpec& axis, bool keepdims, DType dtype);
Tensor mean(const Tensor& x, const AxisSpec& axis, bool keepdims, DType dtype);
// max/min of an empty reduction: ValueError "zero-size array to reduction operation maximum
// which has no identity".
Tensor max(const Tensor& x, const AxisSpec& axis = {}, bool keepdims = false);
Tensor min(const Tensor& x, const AxisSpec& axis = {}, bool keepdims = false);
// Variance sum((x - mean)^2) / max(N - ddof, 0) as NumPy (two passes); std_dev = sqrt(var)
// (NumPy's std).
Tensor var(const Tensor& x, const AxisSpec& axis = {}, int64_t ddof = 0, bool keepdims = false);
Tensor std_dev(const Tensor& x, const AxisSpec& axis = {}, int64_t ddof = 0, bool keepdims = false);
Tensor all(const Tensor& x, const AxisSpec& axis = {}, bool keepdims = false);
Tensor any(const Tensor& x, const AxisSpec& axis = {}, bool keepdims = false);
// axis: nullopt-like has_axis = false means the flattened tensor (NumPy's axis=None).
Tensor argmax(const Tensor& x, bool has_axis, int64_t axis, bool keepdims = false);
Tensor argmin(const Tensor& x, bool has_axis, int64_t axis, bool keepdims = false);

// Sums a broadcast gradient back to `shape` (leading dims and dims where shape has 1).
Tensor sum_to(const Tensor& x, const Shape& shape);

// Helpers shared by reductions: which axes are reduced, and the output shape.
std::vector<bool> reduced_mask(const AxisSpec& axis, int64_t ndim, const char* op);
Shape reduced_shape(const Shape& shape, const std::vector<bool>& mask, bool keepdims);

}  // namespace tl
