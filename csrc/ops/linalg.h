// dot and matmul with NumPy's rules; transposed views reach the GEMM as flags, not copies.
#pragma once
#include "core/tensor.h"

namespace tl {

// How a 2-D strided matrix reaches the GEMM: a row-major pointer plus a transpose flag
// (a contiguous copy in `keep` when the view is neither row- nor column-contiguous).
struct GemmOperand {
  Tensor keep;  // holds the storage
  bool trans = false;
  int64_t ld = 0;
};
GemmOperand as_gemm_operand(const Tensor& m);

// numpy.matmul: 1-D operands are promoted and the added dim removed; batch dims broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
// numpy.dot: scalar product for 0-d, inner product for 1-D, matmul for 2-D, and the sum over
// a's last axis and b's second-to-last for N-D.
Tensor dot(const Tensor& a, const Tensor& b);

}  // namespace tl
