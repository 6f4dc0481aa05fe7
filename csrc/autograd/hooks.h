// Gradient hooks (Tensor.register_hook) and retain_grad. A leaf keeps its hooks on its
// TensorImpl; a non-leaf's live on its grad_fn node (one node, one output), as in PyTorch, since
// the engine walks nodes and never sees the non-leaf tensor itself. The engine calls run_hooks
// once per backward on the tensor's complete gradient, before it flows on or is accumulated.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>
#include "core/tensor.h"

namespace tl {

// Returns a replacement gradient, or an undefined Tensor to keep the one it was given.
using GradHook = std::function<Tensor(const Tensor&)>;

struct GradHooks {
  // Entries are shared so the engine can run a snapshot while another thread removes one.
  std::vector<std::pair<int64_t, std::shared_ptr<const GradHook>>> list;
  int64_t next_id = 0;
  // Non-leaf retain_grad(): the tensor whose .grad receives the gradient (weak: the tensor owns
  // its node, not the other way round).
  std::weak_ptr<TensorImpl> retained;
  std::mutex mutex;

  int64_t add(GradHook hook);
  bool remove(int64_t id);
  std::shared_ptr<TensorImpl> retained_tensor();
};

// The hook list a tensor's hooks go to (its impl's for a leaf, its grad_fn's otherwise), made on
// first use. The tensor must require grad.
std::shared_ptr<GradHooks> hooks_for(const Tensor& t);
// Non-leaf: the engine fills .grad on backward. Leaf: nothing to do (its .grad is filled anyway).
void retain_grad(const Tensor& t);
bool retains_grad(const Tensor& t);

// Runs the hooks in registration order, each on the previous one's result; a replacement must
// keep the gradient's shape and dtype. `hooks` may be null.
Tensor run_hooks(GradHooks* hooks, Tensor grad);

}  // namespace tl
