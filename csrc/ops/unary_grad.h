// The derivative column of the unary op table (ops/unary.def): one formula per differentiable
// op, PyTorch's derivatives.yaml in C++. Used by the single UnaryBackward node of ops/unary.cpp.
#pragma once
#include "core/tensor.h"
#include "kernels/unary.h"

namespace tl::grad {

// g * f'(x) for table op `op`. `x` is the input (undefined for GradNone ops) and `out` the
// output (defined for GradOut ops only). Written with differentiable ops, so create_graph gives
// second derivatives.
Tensor derivative(kernels::UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& out);
// The node's name as PyTorch prints it ("ExpBackward0").
const char* node_name(kernels::UnaryOp op);

}  // namespace tl::grad
