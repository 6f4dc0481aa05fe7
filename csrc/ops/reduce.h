// Reductions. `axes` empty with all_axes = true reduces everything (NumPy's axis=None).
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
// Sums a broadcast gradient back to `shape` (leading dims and dims where shape has 1).
Tensor sum_to(const Tensor& x, const Shape& shape);

// Helpers shared by reductions: normalised, sorted axes and the output shape.
std::vector<bool> reduced_mask(const AxisSpec& axis, int64_t ndim, const char* op);
Shape reduced_shape(const Shape& shape, const std::vector<bool>& mask, bool keepdims);

}  // namespace tl
