// Binary elementwise kernels. Inputs are already cast to one compute dtype and broadcast
// (stride-0 views) to the output's shape; the output dtype is the compute dtype, or bool
// for comparisons.
#pragma once
#include "core/tensor.h"

namespace tl::kernels {

enum class BinaryOp : uint8_t { Add, Sub, Mul, Div };

void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);

}  // namespace tl::kernels
