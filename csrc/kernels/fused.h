// Kernels that only fused plan entries call (capture/rewrite.cpp): each computes in one pass what
// a run of recorded entries computed in several, with the same operations in the same order, so
// a fused replay gives the unfused replay's bits.
#pragma once
#include <cstdint>
#include "kernels/gemm.h"

namespace tl::kernels {

// The gradient through an activation and the bias gradient in one sweep over an M x N row-major
// block: gp = g * act'(y), as the eager formulas compute it from the activation's output y
//   Tanh: g * (1 - y*y),  Sigmoid: g * (y * (1 - y)),  Relu: g * (y > 0 ? 1 : 0),
// and, when gb is not null, gb[j] = sum over rows of gp[i][j] in row order (the column
// reduction's order). gp may be g (in place).
template <class T>
void activation_grad_bias(T* gp, const T* g, const T* y, int64_t M, int64_t N, Activation act, T* gb);

}  // namespace tl::kernels
