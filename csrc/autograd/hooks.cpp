#include "autograd/hooks.h"
#include "autograd/node.h"

namespace tl {

int64_t GradHooks::add(GradHook hook) {
  std::lock_guard<std::mutex> lock(mutex);
  list.emplace_back(next_id, std::make_shared<const GradHook>(std::move(hook)));
  return next_id++;
}

bool GradHooks::remove(int64_t id) {
  std::shared_ptr<const GradHook> dropped;  // destroyed after the lock (it may take the GIL)
  std::lock_guard<std::mutex> lock(mutex);
  for (auto it = list.begin(); it != list.end(); ++it)
    if (it->first == id) {
      dropped = std::move(it->second);
      list.erase(it);
      return true;
    }
  return false;
}

std::shared_ptr<TensorImpl> GradHooks::retained_tensor() {
  std::lock_guard<std::mutex> lock(mutex);
  return retained.lock();
}

std::shared_ptr<GradHooks> hooks_for(const Tensor& t) {
  if (!t.requires_grad())
    throw RuntimeError("[register_hook] cannot register a hook on a tensor that doesn't require gradient");
  std::shared_ptr<GradHooks>& slot = t.grad_fn() ? t.grad_fn()->hooks : t.impl()->hooks;
  if (!slot) slot = std::make_shared<GradHooks>();
  return slot;
}

void retain_grad(const Tensor& t) {
  if (!t.requires_grad())
    throw RuntimeError("[retain_grad] can't retain_grad on a tensor that has requires_grad=False");
  if (t.is_leaf()) return;
  std::shared_ptr<GradHooks> h = hooks_for(t);
  std::lock_guard<std::mutex> lock(h->mutex);
  h->retained = t.impl_ptr();
}

bool retains_grad(const Tensor& t) {
  return !t.is_leaf() && t.grad_fn()->hooks && t.grad_fn()->hooks->retained_tensor() == t.impl_ptr();
}

Tensor run_hooks(GradHooks* hooks, Tensor grad) {
  if (!hooks) return grad;
  std::vector<std::shared_ptr<const GradHook>> snapshot;
  {
    std::lock_guard<std::mutex> lock(hooks->mutex);
    for (const auto& entry : hooks->list) snapshot.push_back(entry.second);
  }
  for (const auto& hook : snapshot) {
    Tensor replaced = (*hook)(grad);
    if (!replaced.defined()) continue;
    if (replaced.shape() != grad.shape() || replaced.dtype() != grad.dtype())
      throw RuntimeError(str_cat("[register_hook] a hook returned a gradient of shape ", shape_str(replaced.shape()),
                                 " and dtype ", dtype_name(replaced.dtype()), " for a gradient of shape ",
                                 shape_str(grad.shape()), " and dtype ", dtype_name(grad.dtype())));
    grad = std::move(replaced);
  }
  return grad;
}

}  // namespace tl
