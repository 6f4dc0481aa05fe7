// Copy with cast between any two dtypes; src is broadcast (stride 0) to dst's shape.
#pragma once
#include "core/tensor.h"

namespace tl::kernels {

// dst[...] = cast(src[...]); shapes must already be equal (src may carry stride-0 dims).
void copy_cast(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, Scalar value);

}  // namespace tl::kernels
