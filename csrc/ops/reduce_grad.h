// The derivative column of the reduction table (ops/reduce.def): one formula per differentiable
// row (PyTorch's derivatives.yaml, MLX's vjp beside eval), used by the single ReduceBackward node
// of ops/reduce.cpp.
#pragma once
#include <vector>
#include "core/tensor.h"
#include "ops/reduce.h"

namespace tl::grad {

// The rows of ops/reduce.def (sum_, mean_, ...).
enum class ReduceRow : uint8_t {
#define TL_REDUCE(name, ...) name##_,
#include "ops/reduce.def"
#undef TL_REDUCE
};

// What a formula knows of the reduction besides g and its saved tensors.
struct ReduceGeom {
  Shape keep;              // the result's shape with keepdims
  std::vector<bool> mask;  // the reduced axes of the input
  AxisSpec axis;           // as given (var / std re-reduce with it)
  int64_t n = 1;           // elements per output
  int64_t ddof = 0;        // var / std
};

// What the node saved, unpacked (checked against in-place writes) only when a formula reads it:
// the input (GradX / GradXOut rows) and the result in the keepdims shape (GradXOut).
struct ReduceSaved {
  virtual const Tensor& x() const = 0;
  virtual const Tensor& out() const = 0;

 protected:
  ~ReduceSaved() = default;
};
// The input's gradient of row `op` for output gradient g (the result's shape, keepdims or not).
// Written with differentiable ops where the derivative is smooth, so create_graph works.
Tensor derivative(ReduceRow op, const Tensor& g, const ReduceSaved& s, const ReduceGeom& geom, const Shape& in_shape);
// The node's name as PyTorch prints it ("SumBackward0").
const char* node_name(ReduceRow op);

}  // namespace tl::grad
