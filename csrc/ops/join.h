// Joining and splitting along an axis: concatenate, stack, split. Differentiable.
#pragma once
#include <optional>
#include <vector>
#include "core/tensor.h"

namespace tl {

// NumPy concatenate; axis = nullopt flattens every input first. The result dtype promotes the
// inputs' dtypes. ValueError naming the offending inputs and their shapes.
Tensor concatenate(const std::vector<Tensor>& xs, std::optional<int64_t> axis = 0);
// Joins equal-shaped inputs along a new axis.
Tensor stack(const std::vector<Tensor>& xs, int64_t axis = 0);
// Views of x split into `sections` equal parts (ValueError when they are not equal) ...
std::vector<Tensor> split(const Tensor& x, int64_t sections, int64_t axis = 0);
// ... or into `sections` parts of sizes differing by at most one (the first ones longer) ...
std::vector<Tensor> array_split(const Tensor& x, int64_t sections, int64_t axis = 0);
// ... or at the given indices (NumPy's slice clamping: pieces may be empty).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& indices, int64_t axis = 0);

}  // namespace tl
