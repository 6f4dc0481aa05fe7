// Shape operations. Views share storage with their input; all are recorded for autograd.
#pragma once
#include "core/tensor.h"

namespace tl {

// Raw (unrecorded) stride-0 view of t broadcast to `shape` (ValueError when impossible).
Tensor broadcast_view(const Tensor& t, const Shape& shape);
// Differentiable broadcast; backward sums back to the input's shape.
Tensor broadcast_to(const Tensor& t, const Shape& shape);
// NumPy reshape: a view whenever the strides allow, else a copy; one -1 is inferred.
Tensor reshape(const Tensor& t, const Shape& shape);
// Permutes axes (empty `axes` reverses them, like NumPy's default).
Tensor transpose(const Tensor& t, const std::vector<int64_t>& axes = {});
Tensor swapaxes(const Tensor& t, int64_t a, int64_t b);
// The strides of a no-copy reshape, or an empty optional-like flag (ok = false).
bool reshape_strides(const Shape& old_shape, const Strides& old_strides, const Shape& new_shape, Strides& out);
// Resolves a single -1 in a requested shape against numel (ValueError on mismatch).
Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from);

}  // namespace tl
