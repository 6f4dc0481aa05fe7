#include "autograd/saved_tensor.h"
#include "core/error.h"

namespace tl {

static thread_local bool skip_version_checks = false;
bool VersionChecks::skipped() { return skip_version_checks; }
void VersionChecks::set_skipped(bool skip) { skip_version_checks = skip; }

Tensor SavedTensor::strip_view(const Tensor& t) {
  // A leaf that requires grad must stay the same impl: its gradient accumulates into that impl.
  if (t.requires_grad() && !t.grad_fn()) return t;
  Tensor s = t.detach();
  s.set_grad_fn(t.grad_fn());
  s.set_requires_grad(t.requires_grad());
  return s;
}

void SavedTensor::raise_modified(const char* node) const {
  throw RuntimeError(str_cat("[backward] one of the tensors needed for gradient computation was modified by an "
                             "in-place operation: ", node, " saved a tensor of shape ", shape_str(tensor_.shape()),
                             " ", dtype_name(tensor_.dtype()), " at version ", version_, ", it is now at version ",
                             tensor_.version(), "; use an out-of-place op (w = w - u instead of w -= u), or do the "
                             "in-place update after backward()"));
}

}  // namespace tl
