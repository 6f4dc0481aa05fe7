// The wiring every differentiable op shares: decide whether to record, create the node with
// its edges and input metadata, attach it to the output.
//
//   Tensor exp(const Tensor& x) {
//     Tensor out = ...kernel...;
//     if (auto node = record<ExpBackward>(out, {x})) node->out.save_output(out);
//     return out;
//   }
//
// Rule for saved tensors: they are SavedTensor members (autograd/saved_tensor.h), read in backward
// through Node::unpack, which refuses them if an in-place op wrote into them since. Inputs are
// saved with `node->x = x`, outputs with `node->out.save_output(out)` (detached: an output holds
// its node, so a node holding the output with its grad_fn would be a reference cycle).
#pragma once
#include <initializer_list>
#include "autograd/grad_mode.h"
#include "autograd/node.h"

namespace tl {

// A view whose root an in-place op has given a new history since the view was made has a stale
// history of its own (it would send gradients through the root's old graph). Before a recorded
// op uses it, its history is regenerated as its elements of the root's current history, as
// PyTorch does (ops/inplace.cpp).
void refresh_view_history(const Tensor& t);
inline void check_view_fresh(const Tensor& t) {
  const TensorImpl* i = t.impl();
  if (i->view_base && (i->view_base_fn.owner_before(i->view_base->grad_fn) ||
                       i->view_base->grad_fn.owner_before(i->view_base_fn)))
    refresh_view_history(t);
}

inline bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  bool any = false;
  for (const Tensor* t : inputs)
    if (t->defined()) {
      check_view_fresh(*t);
      any = any || t->requires_grad();
    }
  return any;
}

inline Edge edge_for(const Tensor& t) {
  Edge e;
  if (!t.defined() || !t.requires_grad()) return e;
  if (t.grad_fn()) e.fn = t.grad_fn();
  else e.leaf = t.impl_ptr();
  return e;
}

// A tensor that views `base`'s storage (the public view ops: basic indexing, reshape, transpose,
// ...): remembers its root and the root's current history, so in-place ops can refuse views that
// take part in autograd and stale views are detected.
inline Tensor as_view_of(Tensor out, const Tensor& base) {
  TensorImpl* o = out.impl();
  const TensorImpl* b = base.impl();
  o->view_base = b->view_base ? b->view_base : base.impl_ptr();
  o->view_base_fn = o->view_base->grad_fn;
  return out;
}
// For composite ops whose result is a view of their own temporary (matmul of a vector reshaping
// its 2-D product): nobody else can reach that temporary, so the result is not a view.
inline Tensor not_a_view(Tensor out) {
  out.impl()->view_base = nullptr;
  out.impl()->view_base_fn.reset();
  return out;
}

// Complex autograd is not implemented yet (README, "Complex numbers"): an op whose result is
// complex and one of whose inputs requires grad raises instead of recording a wrong backward.
inline void check_not_complex(const Tensor& out) {
  if (is_complex(out.dtype()))
    throw TypeError(std::string("[autograd] complex autograd is not supported yet: an input requires grad and the "
                                "result is ") + dtype_name(out.dtype()) + "; compute on real and imaginary parts instead");
}

// Returns the new node (attached to `out`) when grad is needed, else nullptr.
template <class NodeT>
std::shared_ptr<NodeT> record(const Tensor& out, std::initializer_list<Tensor> inputs) {
  if (!GradMode::is_enabled()) return nullptr;
  bool any = false;
  for (const Tensor& t : inputs)
    if (t.defined()) {
      check_view_fresh(t);
      any = any || t.requires_grad();
    }
  if (!any) return nullptr;
  check_not_complex(out);
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
  if (!GradMode::is_enabled()) return nullptr;
  bool any = false;
  for (const Tensor& t : inputs) {
    check_view_fresh(t);
    any = any || t.requires_grad();
  }
  if (!any) return nullptr;
  check_not_complex(out);
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
