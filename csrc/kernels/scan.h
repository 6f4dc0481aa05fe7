// Inclusive scans (cumulative_sum / cumulative_prod) along the middle dim of contiguous data
// viewed as (outer, n, inner), and the cumulative product's gradient.
#pragma once
#include <cstdint>
#include "core/tensor.h"

namespace tl::kernels {

// out (x's dtype and shape, contiguous) = the running sums or products of x. Integers wrap as
// NumPy's; float16 rounds to float16 after every step, as NumPy's half accumulate does; complex
// products are NumPy's (ar*br - ai*bi, ar*bi + ai*br). reverse: from the end (the adjoint of
// cumulative_sum). Long integer rows are written with non-temporal stores (memory-bound: no
// read of the destination). Bool and complex sums are refused (the ops widen bool and split
// complex sums into their parts).
enum class ScanOp { Sum, Prod };
void scan(ScanOp op, const Tensor& x, const Tensor& out, int64_t outer, int64_t n, int64_t inner, bool reverse);

// The gradient of an inclusive cumulative product along (outer, n, inner), exact with zeros:
// grad_i = (x_0 ... x_{i-1}) * S_i with S_i = g_i + x_{i+1} S_{i+1}. Float dtypes, contiguous.
void cumprod_grad(const Tensor& x, const Tensor& g, const Tensor& out, int64_t outer, int64_t n, int64_t inner);

}  // namespace tl::kernels
