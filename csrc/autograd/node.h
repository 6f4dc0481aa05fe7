// Node: one recorded op in the graph. It has one output, and one Edge per input telling where
// that input's gradient goes: to the node that produced it, to a leaf's .grad, or nowhere.
#pragma once
#include <memory>
#include <vector>
#include "core/tensor.h"

namespace tl {

struct Edge {
  std::shared_ptr<Node> fn;          // input was produced by an op
  std::shared_ptr<TensorImpl> leaf;  // input is a leaf that requires grad
  bool active() const { return fn != nullptr || leaf != nullptr; }
};

// What the engine checks a gradient against before it flows to an input.
struct InputMeta {
  Shape shape;
  DType dtype;
};

struct Node {
  std::vector<Edge> next;            // one per input of the op
  std::vector<InputMeta> input_meta;  // one per input
  bool released = false;             // saved tensors freed by a backward without retain_graph
  std::shared_ptr<GradHooks> hooks;  // the output's register_hook / retain_grad (autograd/hooks.h)

  // Tears down long chains iteratively (a 100k-deep graph must not overflow the stack).
  virtual ~Node();
  virtual const char* name() const = 0;
  // Gradients w.r.t. each input given the gradient of the output. Entries for inputs that do
  // not need a gradient may be left undefined. Written with differentiable ops.
  virtual std::vector<Tensor> backward(const Tensor& grad_output) = 0;
  // Drops saved tensors so a finished backward frees memory.
  virtual void release_saved() {}

  bool needs_input_grad(size_t i) const { return i < next.size() && next[i].active(); }
};

}  // namespace tl
