// The wiring every differentiable op shares: decide whether to record, create the node with
// its edges and input metadata, attach it to the output.
//
//   Tensor exp(const Tensor& x) {
//     Tensor out = ...kernel...;
//     if (auto node = record<ExpBackward>(out, {x})) node->out = out.detach();
//     return out;
//   }
//
// Rule for saved tensors: save inputs as they are, but save outputs detached (an output holds
// its node, so a node holding the output with its grad_fn would be a reference cycle).
#pragma once
#include <initializer_list>
#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace tl {

inline bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

inline Edge edge_for(const Tensor& t) {
  Edge e;
  if (!t.defined() || !t.requires_grad()) return e;
  if (t.grad_fn()) e.fn = t.grad_fn();
  else e.leaf = t.impl_ptr();
  return e;
}

// Returns the new node (attached to `out`) when grad is needed, else nullptr.
template <class NodeT>
std::shared_ptr<NodeT> record(const Tensor& out, std::initializer_list<Tensor> inputs) {
  bool any = false;
  if (GradMode::is_enabled())
    for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return nullptr;
  auto node = std::make_shared<NodeT>();
  node->next.reserve(inputs.size());
  node->input_meta.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    node->next.push_back(edge_for(t));
    node->input_meta.push_back(t.defined() ? InputMeta{t.shape(), t.dtype()} : InputMeta{{}, DType::Float32});
  }
  out.set_requires_grad(true);
  out.set_grad_fn(node);
  return node;
}

// Same, for a list of inputs of run-time length (concatenate, stack).
template <class NodeT>
std::shared_ptr<NodeT> record_list(const Tensor& out, const std::vector<Tensor>& inputs) {
  bool any = false;
  if (GradMode::is_enabled())
    for (const Tensor& t : inputs) any = any || t.requires_grad();
  if (!any) return nullptr;
  auto node = std::make_shared<NodeT>();
  for (const Tensor& t : inputs) {
    node->next.push_back(edge_for(t));
    node->input_meta.push_back(InputMeta{t.shape(), t.dtype()});
  }
  out.set_requires_grad(true);
  out.set_grad_fn(node);
  return node;
}

}  // namespace tl
