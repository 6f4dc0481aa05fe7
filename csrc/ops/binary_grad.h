// The derivative column of the binary op table (ops/binary.def): one formula per differentiable
// op (PyTorch's derivatives.yaml, MLX's vjp beside eval), used by the single BinaryBackward node
// of ops/binary.cpp.
#pragma once
#include "core/tensor.h"
#include "kernels/binary.h"

namespace tl::grad {

// g * d(op)/da and g * d(op)/db, before the node sums them over broadcast axes and casts them to
// the operands' dtypes; each only when asked for (need_a / need_b), else undefined.
struct BinaryGrads {
  Tensor a, b;
};
// What the node saved, unpacked (checked against in-place writes) only when a formula reads it,
// as PyTorch checks only the saved tensors a backward uses: the operands (GradAB / GradABOut
// ops) and the output (GradABOut; recomputed from a, b under create_graph).
struct BinarySaved {
  virtual const Tensor& a() const = 0;
  virtual const Tensor& b() const = 0;
  virtual const Tensor& out() const = 0;

 protected:
  ~BinarySaved() = default;
};
// Written with differentiable ops, so create_graph gives second derivatives.
BinaryGrads derivative(kernels::BinaryOp op, const Tensor& g, const BinarySaved& s, bool need_a, bool need_b);
// The node's name as PyTorch prints it ("MulBackward0").
const char* node_name(kernels::BinaryOp op);

}  // namespace tl::grad
