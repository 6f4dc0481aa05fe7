// Sorting, searching and cumulative ops (the Array API's sort/argsort/searchsorted and
// cumulative_sum/cumulative_prod). Kernels in kernels/sort.cpp; the standard's signatures
// (dtype=, include_initial=, sorter=, descending=) are resolved in python/tensorlet/_sorting.py.
#pragma once
#include <utility>
#include "core/tensor.h"

namespace tl {

// Sorted values along `axis` (stable; NaN last). Not differentiable: the Python sort() gathers
// with argsort when a gradient is needed.
Tensor sort_values(const Tensor& x, int64_t axis, bool descending);
// int64 indices that sort x along `axis` (stable, NaN last, descending keeps equal elements in order).
Tensor argsort(const Tensor& x, int64_t axis, bool descending);
// The distinct values of x (flattened), sorted; NaNs all distinct. Not differentiable.
Tensor unique_values(const Tensor& x);
// unique_values(x) and how many times each occurs (int64), from one sort and one pass.
std::pair<Tensor, Tensor> unique_counts(const Tensor& x);
// Inclusive cumulative sum along `axis` in x's dtype (reverse: from the end). Differentiable:
// its backward is the reverse cumulative sum of the gradient.
Tensor cumsum(const Tensor& x, int64_t axis, bool reverse);
// Inclusive cumulative product along `axis` in x's dtype. Differentiable (exact with zeros);
// second derivatives raise RuntimeError.
Tensor cumprod(const Tensor& x, int64_t axis);
// Insertion points (int64, v's shape) of v into the sorted 1-D `sorted`; both of one dtype.
Tensor searchsorted(const Tensor& sorted, const Tensor& v, bool right);

}  // namespace tl
