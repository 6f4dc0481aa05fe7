// Creation functions with NumPy's semantics: arange, linspace, eye, and filled tensors whose
// fill value is checked against the dtype. All validate before allocating.
#pragma once
#include <optional>
#include "core/tensor.h"

namespace tl {

// NumPy 2 (NEP 50): a Python int that does not fit an integer dtype is an error, not a wrap.
// Throws std::overflow_error("Python integer 300 out of bounds for uint8").
void check_scalar_fits(const Scalar& value, DType dtype);

// Refuses in-place writes (fill, shuffle) into read-only storage or broadcast views, whose
// elements alias each other (NumPy makes those read-only): ValueError.
void check_inplace_target(const Tensor& t, const char* op);

// Zero-, one- or value-filled tensors; checked_numel runs first so errors name `op`.
Tensor full(const Shape& shape, Scalar value, DType dtype, const char* op = "full");

// numpy.arange(start, stop, step, dtype): length ceil((stop - start) / step); ints -> int64,
// any float -> float64 when dtype is not given. step == 0 -> ValueError.
Tensor arange(Scalar start, Scalar stop, Scalar step, std::optional<DType> dtype);

// numpy.linspace(start, stop, num, endpoint, dtype): computed in float64 with NumPy's formula,
// floored for integer dtypes, then cast.
Tensor linspace(double start, double stop, int64_t num, bool endpoint, DType dtype);

// numpy.eye(N, M, k, dtype): ones on the k-th diagonal of an N x M matrix.
Tensor eye(int64_t n, int64_t m, int64_t k, DType dtype);

}  // namespace tl
