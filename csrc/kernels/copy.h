// Copy with cast between any two dtypes; src is broadcast (stride 0) to dst's shape.
#pragma once
#include "core/tensor.h"
#include "kernels/view.h"

namespace tl::kernels {

// dst[...] = cast(src[...]); shapes must already be equal (src may carry stride-0 dims).
void copy_cast(const StridedView& dst, const StridedView& src);
void fill(const StridedView& dst, Scalar value);

// For a float src written into integer dtype `to` (not bool): true, with the value in *bad,
// when some element has no integer value there: NaN, +-inf, or outside the range the cast goes
// through (int32 for int32, int64 for int64 and uint8), where cast_value gives a filler.
bool has_invalid_int_cast(const Tensor& src, DType to, double* bad);

}  // namespace tl::kernels
