// The backward engine: reverse topological order (Kahn's algorithm, no recursion), gradient
// accumulation where a tensor is used more than once, shape/dtype validation of every
// gradient, and release of saved tensors unless retain_graph.
#pragma once
#include "core/tensor.h"

namespace tl {

// grad may be undefined only when root has exactly one element (implicit ones).
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph, bool create_graph);

}  // namespace tl
