// Shape operations. Views share storage with their input; all are recorded for autograd.
#pragma once
#include <optional>
#include <vector>
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
// Removes size-1 dims: all of them (axes = nullopt) or the given ones (ValueError if not 1).
Tensor squeeze(const Tensor& t, const std::optional<std::vector<int64_t>>& axes = std::nullopt);
// Inserts size-1 dims at `axes`, positions in the result (NumPy's expand_dims).
Tensor expand_dims(const Tensor& t, const std::vector<int64_t>& axes);
// 1-D: a view when t is C-contiguous, else a copy (NumPy's ravel).
Tensor ravel(const Tensor& t);
// 1-D copy, always.
Tensor flatten(const Tensor& t);
// A fresh contiguous copy (differentiable: the gradient passes through).
Tensor copy(const Tensor& t);
// t itself when C-contiguous, else a contiguous copy; 0-d becomes (1,) as in NumPy.
Tensor ascontiguousarray(const Tensor& t);
// The strides of a no-copy reshape, or an empty optional-like flag (ok = false).
bool reshape_strides(const Shape& old_shape, const Strides& old_strides, const Shape& new_shape, Strides& out);
// Resolves a single -1 in a requested shape against numel (ValueError on mismatch).
Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from);

}  // namespace tl
