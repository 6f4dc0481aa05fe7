// The backward engine: reverse topological order (Kahn's algorithm, no recursion), gradient
// accumulation where a tensor is used more than once, shape/dtype validation of every
// gradient, gradient hooks (autograd/hooks.h), and release of saved tensors unless retain_graph.
#pragma once
#include <vector>
#include "core/tensor.h"

namespace tl {

// Tensor.backward(): grad may be undefined only when root has exactly one element (implicit
// ones). create_graph implies retain_graph here.
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph, bool create_graph);

// The general form (torch.autograd.backward / torch.autograd.grad): several roots, each with its
// gradient (undefined = ones for a one-element root). With no `inputs`, every leaf reached
// accumulates into .grad and the result is empty. With `inputs`, only the part of the graph that
// leads to them runs; their gradients are accumulated into their .grad when `into_grad`
// (backward(inputs=...)), else returned, one per input (undefined where the input is unreached),
// and no .grad is touched (autograd.grad).
std::vector<Tensor> run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
                                 const std::vector<Tensor>& inputs, bool into_grad, bool retain_graph,
                                 bool create_graph);

}  // namespace tl
