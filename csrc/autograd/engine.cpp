#include "autograd/engine.h"
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include "autograd/grad_mode.h"
#include "capture/recorder.h"
#include "autograd/node.h"
#include "ops/ops.h"

namespace tl {

namespace {

void check_grad(const Tensor& g, const InputMeta& meta, const Node& node, size_t i) {
  if (g.shape() != meta.shape)
    throw RuntimeError(str_cat("[backward] ", node.name(), " returned a gradient of shape ", shape_str(g.shape()),
                               " for input ", i, " of shape ", shape_str(meta.shape)));
  if (g.dtype() != meta.dtype)
    throw RuntimeError(str_cat("[backward] ", node.name(), " returned a gradient of dtype ", dtype_name(g.dtype()),
                               " for input ", i, " of dtype ", dtype_name(meta.dtype)));
}

Tensor accumulate(const Tensor& acc, const Tensor& g) { return acc.defined() ? add(acc, g) : g; }

void accumulate_leaf(TensorImpl* leaf, const Tensor& g) {
  Tensor old(leaf->grad);
  if (old.defined()) {
    leaf->grad = add(old, g).impl_ptr();
  } else if (GradMode::is_enabled()) {
    leaf->grad = g.impl_ptr();  // create_graph: keep the gradient's own history
  } else if (g.is_contiguous() && g.impl_ptr().use_count() == 1 && g.storage().use_count() == 1) {
    leaf->grad = g.impl_ptr();  // a fresh buffer nobody else sees: take it without a copy
  } else {
    // The gradient may alias a saved, broadcast or shared buffer; a leaf owns its .grad.
    leaf->grad = g.clone().impl_ptr();
  }
}

// While a step is captured, a leaf's gradient is recorded as an assignment of this backward's
// gradient tensor to .grad (so each replay leaves the fresh gradient there, in the same buffer),
// never as an accumulation into a gradient left from before: the captured step must start with
// every .grad None, as a train step that sets them to None does.
class LeafRecorder {
 public:
  void accumulate(const std::shared_ptr<TensorImpl>& leaf, const Tensor& g) {
    Tensor old(leaf->grad);
    Tensor total;
    if (assigned_.count(leaf.get())) {
      total = add(old, g);  // a second use of the leaf in this backward: an op, recorded as one
    } else if (old.defined()) {
      throw RuntimeError(str_cat("[capture] backward would accumulate into the existing .grad of a tensor of shape ",
                                 shape_str(old.shape()), ": a captured step needs fresh gradients; set each "
                                 "parameter's .grad to None before backward inside the captured function"));
    } else if (g.is_contiguous() && g.impl_ptr().use_count() == 1 && g.storage()->nbytes == g.numel() * g.itemsize() &&
               g.storage().use_count() == 2 && capture::allocated_in_recording(g.storage().get())) {
      total = g;  // a buffer of this step nobody else sees (the log holds the other reference)
    }
    assigned_.insert(leaf.get());
    capture::OpScope scope;
    if (total.defined()) {
      if (scope.records()) scope.begin("leaf_grad", [leaf, total] { leaf->grad = total.impl_ptr(); }, {total});
      leaf->grad = total.impl_ptr();
    } else {  // the gradient may alias another buffer of the step: the leaf gets its own copy
      Tensor own = g.clone();
      if (scope.records()) scope.begin("leaf_grad_copy", [leaf, own, g] {
        own.copy_from(g);
        leaf->grad = own.impl_ptr();
      }, {g});
      leaf->grad = own.impl_ptr();
    }
  }

 private:
  std::unordered_set<TensorImpl*> assigned_;
};

// node->backward(g), recorded as one entry while a step is captured.
std::vector<Tensor> call_backward(const std::shared_ptr<Node>& node, const Tensor& g) {
  capture::OpScope scope;
  if (scope.records()) scope.begin(node->name(), [node, g] { (void)node->backward(g); }, {g});
  return node->backward(g);
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad_in, bool retain_graph, bool create_graph) {
  TL_CHECK_TYPE(root.defined(), "backward", "undefined tensor");
  if (!root.requires_grad())
    throw RuntimeError("[backward] element 0 of tensors does not require grad and does not have a grad_fn");
  Tensor grad = grad_in;
  if (!grad.defined()) {
    if (root.numel() != 1)
      throw RuntimeError(str_cat("[backward] grad can be implicitly created only for single-element outputs; "
                                 "output has shape ", shape_str(root.shape()), ", pass grad explicitly"));
    grad = Tensor::full(root.shape(), Scalar::from_int(1), root.dtype());
  } else {
    if (grad.shape() != root.shape())
      throw std::invalid_argument(str_cat("[backward] grad of shape ", shape_str(grad.shape()),
                                          " does not match output of shape ", shape_str(root.shape())));
    grad = grad.to_dtype(root.dtype());
  }
  const bool capturing = capture::recording();
  if (capturing && create_graph)
    throw RuntimeError("[capture] backward with create_graph=True cannot be captured; run the step eagerly");
  GradModeGuard mode(create_graph);
  retain_graph = retain_graph || create_graph;  // as PyTorch: a graph built for higher order is kept
  LeafRecorder leaves;

  if (!root.grad_fn()) {  // backward on a leaf: the caller's grad must not become its .grad
    if (capturing) leaves.accumulate(root.impl_ptr(), grad);
    else accumulate_leaf(root.impl(), grad.clone());
    return;
  }

  // Count, for each node, how many edges from nodes in this graph point at it.
  std::unordered_map<Node*, int> deps;
  std::vector<Node*> stack{root.grad_fn().get()};
  deps[root.grad_fn().get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (n->released)
      throw RuntimeError(str_cat("[backward] trying to backward through the graph a second time (", n->name(),
                                 " has freed its saved tensors); pass retain_graph=True to the first backward"));
    for (const Edge& e : n->next) {
      if (!e.fn) continue;
      auto it = deps.find(e.fn.get());
      if (it == deps.end()) {
        deps[e.fn.get()] = 1;
        stack.push_back(e.fn.get());
      } else {
        ++it->second;
      }
    }
  }

  std::unordered_map<Node*, Tensor> grads;
  grads[root.grad_fn().get()] = grad;
  std::vector<std::shared_ptr<Node>> ready{root.grad_fn()};
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    Tensor g = std::move(grads[node.get()]);
    grads.erase(node.get());
    std::vector<Tensor> in_grads = call_backward(node, g);
    if (in_grads.size() != node->next.size())
      throw RuntimeError(str_cat("[backward] ", node->name(), " returned ", in_grads.size(), " gradients for ",
                                 node->next.size(), " inputs"));
    for (size_t i = 0; i < node->next.size(); ++i) {
      const Edge& e = node->next[i];
      if (!e.active()) continue;
      const Tensor& gi = in_grads[i];
      if (!gi.defined())
        throw RuntimeError(str_cat("[backward] ", node->name(), " returned no gradient for input ", i,
                                   " which requires grad"));
      check_grad(gi, node->input_meta[i], *node, i);
      if (e.leaf) {
        if (capturing) leaves.accumulate(e.leaf, gi);
        else accumulate_leaf(e.leaf.get(), gi);
      } else {
        Tensor& slot = grads[e.fn.get()];
        slot = accumulate(slot, gi);
        if (--deps[e.fn.get()] == 0) ready.push_back(e.fn);
      }
    }
    if (!retain_graph) {
      if (!capturing) node->release_saved();  // a captured step's replays call it again
      node->released = true;
    }
  }
}

}  // namespace tl
