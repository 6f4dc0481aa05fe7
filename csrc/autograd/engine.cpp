#include "autograd/engine.h"
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/hooks.h"
#include "autograd/node.h"
#include "capture/recorder.h"
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
// The entries' inputs end with what lands in .grad and the leaf (capture::leaf_grad_entries).
void record_leaf_grad(const std::shared_ptr<TensorImpl>& leaf, const Tensor& g) {
  if (Tensor(leaf->grad).defined())
    throw RuntimeError(str_cat("[capture] backward would accumulate into the existing .grad of a tensor of shape ",
                               shape_str(leaf->shape), ": a captured step needs fresh gradients; set each "
                               "parameter's .grad to None before backward inside the captured function"));
  capture::OpScope scope;
  // A buffer of this step that only this gradient's handle sees: the allocation log holds the
  // storage's other reference; the handle's other holder can only be the engine's in_grads of the
  // node being processed (every buffer of a captured step is rewritten each replay anyway).
  // (A described entry's outputs, capture::describe, hold the handle too: they are the plan's.)
  if (g.is_contiguous() && g.impl_ptr().use_count() <= 2 + capture::described_refs(g) && g.storage()->nbytes == g.numel() * g.itemsize() &&
      g.storage().use_count() == 2 && capture::allocated_in_recording(g.storage().get())) {
    if (scope.records()) {
      scope.begin("leaf_grad", [leaf, g] { leaf->grad = g.impl_ptr(); }, {g, Tensor(leaf)});
      capture::lower([leaf, g] { leaf->grad = g.impl_ptr(); }, {});
      capture::keep_visible(g);
    }
    leaf->grad = g.impl_ptr();
  } else {  // the gradient may alias another buffer of the step: the leaf gets its own copy
    Tensor own = g.clone();
    auto run = [leaf, own, g] {
      own.copy_from(g);
      leaf->grad = own.impl_ptr();
    };
    if (scope.records()) {
      scope.begin("leaf_grad_copy", run, {g, own, Tensor(leaf)});
      capture::lower(run, {capture::written_ptr(g)});
    }
    leaf->grad = own.impl_ptr();
  }
}

// node->backward(g), recorded as one entry while a step is captured.
std::vector<Tensor> call_backward(const std::shared_ptr<Node>& node, const Tensor& g) {
  capture::OpScope scope;
  if (scope.records()) scope.begin(node->name(), [node, g] { (void)node->backward(g); }, {g});
  return node->backward(g);
}

[[noreturn]] void throw_released(const Node& n) {
  throw RuntimeError(str_cat("[backward] trying to backward through the graph a second time (", n.name(),
                             " has freed its saved tensors); pass retain_graph=True to the first backward"));
}

// The gradient a root starts from: the caller's (cast to the root's dtype), or ones for a
// single-element root.
Tensor seed_for(const Tensor& root, const Tensor& grad, size_t i) {
  TL_CHECK_TYPE(root.defined(), "backward", "undefined tensor");
  if (GradMode::is_enabled()) check_view_fresh(root);  // a view whose root was rebased: refresh its history
  if (!root.requires_grad())
    throw RuntimeError(str_cat("[backward] element ", i, " of tensors does not require grad and does not have a grad_fn"));
  if (!grad.defined()) {
    if (root.numel() != 1)
      throw RuntimeError(str_cat("[backward] grad can be implicitly created only for single-element outputs; "
                                 "output has shape ", shape_str(root.shape()), ", pass grad explicitly"));
    return Tensor::full(root.shape(), Scalar::from_int(1), root.dtype());
  }
  if (grad.shape() != root.shape())
    throw std::invalid_argument(str_cat("[backward] grad of shape ", shape_str(grad.shape()),
                                        " does not match output of shape ", shape_str(root.shape())));
  return grad.to_dtype(root.dtype());
}

// One backward pass. With no `inputs` every node runs and every leaf reached accumulates into
// its .grad. With `inputs` only the nodes on a path to one of them run ("needed"), and each
// input's gradient is captured (or, with `into_grad`, accumulated into its .grad).
class Pass {
 public:
  Pass(const std::vector<Tensor>& inputs, bool into_grad, bool retain_graph)
      : inputs_(inputs), pruned_(!inputs.empty()), into_grad_(into_grad), retain_graph_(retain_graph),
        capturing_(capture::recording()), captured_(inputs.size()) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const Tensor& t = inputs[i];
      TL_CHECK_TYPE(t.defined(), "grad", "undefined input tensor");
      if (!t.requires_grad()) throw RuntimeError(str_cat("[grad] input ", i, " does not require grad"));
      targets_.emplace(key_of(t), i);  // a repeated input keeps its first slot
    }
  }

  std::vector<Tensor> run(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds) {
    std::vector<Node*> root_nodes;
    for (const Tensor& r : roots)
      if (r.grad_fn()) root_nodes.push_back(r.grad_fn().get());
    discover(root_nodes);
    if (pruned_) prune();
    count_dependencies();

    std::vector<std::shared_ptr<Node>> ready;
    for (size_t i = 0; i < roots.size(); ++i) {
      const Tensor& r = roots[i];
      if (!r.grad_fn()) {  // a leaf root: the caller's gradient must not become its .grad
        if (wanted(r.impl())) {
          leaf_grads_[r.impl()] = accumulate(leaf_grads_[r.impl()], seeds[i].clone());
          if (capturing_) owners_[r.impl()] = r.impl_ptr();
        }
        continue;
      }
      Node* n = r.grad_fn().get();
      if (!needed(n)) continue;
      bool first = !grads_.count(n);
      grads_[n] = accumulate(grads_[n], seeds[i]);
      if (first && deps_[n] == 0) ready.push_back(r.grad_fn());
    }

    while (!ready.empty()) {
      std::shared_ptr<Node> node = std::move(ready.back());
      ready.pop_back();
      Tensor g = take(grads_, node.get());
      if (node->hooks) {
        g = run_hooks(node->hooks.get(), g);
        if (!pruned_)
          if (std::shared_ptr<TensorImpl> kept = node->hooks->retained_tensor()) land(kept, g);
      }
      if (pruned_) {
        auto t = targets_.find(node.get());
        if (t != targets_.end()) deliver(t->second, g);
        if (!expand_.count(node.get())) continue;  // wanted as an input only: nothing below it is
      }
      // A hook may have run a nested backward that freed this node's saved tensors.
      if (node->released) throw_released(*node);
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
        if (e.leaf ? !wanted(e.leaf.get()) : !needed(e.fn.get())) continue;
        check_grad(gi, node->input_meta[i], *node, i);
        if (e.leaf) {
          Tensor& slot = leaf_grads_[e.leaf.get()];
          slot = accumulate(slot, gi);
          if (capturing_) owners_[e.leaf.get()] = e.leaf;
          if (--leaf_deps_[e.leaf.get()] == 0) finish_leaf(e.leaf.get());
        } else {
          Tensor& slot = grads_[e.fn.get()];
          slot = accumulate(slot, gi);
          if (--deps_[e.fn.get()] == 0) ready.push_back(e.fn);
        }
      }
      if (!retain_graph_) {
        if (!capturing_) node->release_saved();  // a captured step's replays call backward again
        node->released = true;
      }
    }
    while (!leaf_grads_.empty()) finish_leaf(leaf_grads_.begin()->first);  // leaf roots
    for (size_t i = 0; i < inputs_.size(); ++i) captured_[i] = captured_[targets_.at(key_of(inputs_[i]))];
    return std::move(captured_);
  }

 private:
  // Leaves are keyed by their impl, non-leaves by their node (one output per node).
  static const void* key_of(const Tensor& t) {
    return t.grad_fn() ? static_cast<const void*>(t.grad_fn().get()) : static_cast<const void*>(t.impl());
  }
  bool needed(Node* n) const { return !pruned_ || needed_.count(n); }
  bool wanted(TensorImpl* leaf) const { return !pruned_ || targets_.count(leaf); }

  template <class K>
  static Tensor take(std::unordered_map<K*, Tensor>& m, K* k) {
    auto it = m.find(k);
    Tensor g = std::move(it->second);
    m.erase(it);
    return g;
  }

  void discover(const std::vector<Node*>& root_nodes) {
    std::unordered_set<Node*> seen(root_nodes.begin(), root_nodes.end());
    std::vector<Node*> stack(seen.begin(), seen.end());
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      if (n->released) throw_released(*n);
      nodes_.push_back(n);
      for (const Edge& e : n->next)
        if (e.fn && seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
    }
  }

  // needed_: nodes that are inputs or lead to one; expand_: nodes whose backward must run (an
  // edge leads to a needed node or an input leaf). Decided producers-first, so along a reverse
  // topological order of the discovered graph.
  void prune() {
    std::unordered_map<Node*, int> indegree;
    for (Node* n : nodes_)
      for (const Edge& e : n->next)
        if (e.fn) ++indegree[e.fn.get()];
    std::vector<Node*> order, ready;
    for (Node* n : nodes_)
      if (!indegree.count(n)) ready.push_back(n);
    while (!ready.empty()) {
      Node* n = ready.back();
      ready.pop_back();
      order.push_back(n);
      for (const Edge& e : n->next)
        if (e.fn && --indegree[e.fn.get()] == 0) ready.push_back(e.fn.get());
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      Node* n = *it;
      bool expand = false;
      for (const Edge& e : n->next)
        expand = expand || (e.fn ? needed_.count(e.fn.get()) > 0 : (e.leaf && targets_.count(e.leaf.get()) > 0));
      if (expand) expand_.insert(n);
      if (expand || targets_.count(n)) needed_.insert(n);
    }
  }

  // How many gradients each needed node / wanted leaf waits for: one per edge from a node that runs.
  void count_dependencies() {
    for (Node* n : nodes_) {
      if (pruned_ && !expand_.count(n)) continue;
      for (const Edge& e : n->next) {
        if (e.fn && needed(e.fn.get())) ++deps_[e.fn.get()];
        else if (e.leaf && wanted(e.leaf.get())) ++leaf_deps_[e.leaf.get()];
      }
    }
  }

  // A leaf's gradient is complete: its hooks see the sum, then it lands in .grad or is captured.
  void finish_leaf(TensorImpl* leaf) {
    Tensor g = run_hooks(leaf->hooks.get(), take(leaf_grads_, leaf));
    if (pruned_) deliver(targets_.at(leaf), g);
    else land(capturing_ ? owners_.at(leaf) : nullptr, g, leaf);
  }

  void deliver(size_t slot, const Tensor& g) {
    if (into_grad_) land(inputs_[slot].impl_ptr(), g);  // backward(inputs=...), non-leaves too
    else captured_[slot] = g;
  }

  // g into a tensor's .grad: accumulated, or recorded as this step's gradient while capturing.
  void land(const std::shared_ptr<TensorImpl>& owner, const Tensor& g, TensorImpl* leaf = nullptr) {
    if (capturing_) record_leaf_grad(owner, g);
    else accumulate_leaf(leaf ? leaf : owner.get(), g);
  }

  const std::vector<Tensor>& inputs_;
  const bool pruned_, into_grad_, retain_graph_, capturing_;
  std::unordered_map<TensorImpl*, std::shared_ptr<TensorImpl>> owners_;  // leaves by address, while capturing
  std::unordered_map<const void*, size_t> targets_;
  std::vector<Tensor> captured_;
  std::vector<Node*> nodes_;
  std::unordered_set<Node*> needed_, expand_;
  std::unordered_map<Node*, int> deps_;
  std::unordered_map<TensorImpl*, int> leaf_deps_;
  std::unordered_map<Node*, Tensor> grads_;
  std::unordered_map<TensorImpl*, Tensor> leaf_grads_;
};

}  // namespace

std::vector<Tensor> run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
                                 const std::vector<Tensor>& inputs, bool into_grad, bool retain_graph,
                                 bool create_graph) {
  TL_CHECK(grads.size() == roots.size(), "backward", "got ", grads.size(), " gradients for ", roots.size(),
           " outputs");
  TL_CHECK(!roots.empty(), "backward", "no outputs to differentiate");
  std::vector<Tensor> seeds;
  for (size_t i = 0; i < roots.size(); ++i) seeds.push_back(seed_for(roots[i], grads[i], i));
  if (create_graph && capture::recording())
    throw RuntimeError("[capture] backward with create_graph=True cannot be captured; run the step eagerly");
  GradModeGuard mode(create_graph);
  return Pass(inputs, into_grad, retain_graph).run(roots, seeds);
}

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph, bool create_graph) {
  // As before the general form: a graph built for higher order is kept.
  run_backward({root}, {grad}, {}, true, retain_graph || create_graph, create_graph);
}

}  // namespace tl
