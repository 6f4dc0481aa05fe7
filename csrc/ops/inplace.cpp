#include "ops/inplace.h"
#include "autograd/function.h"
#include "kernels/copy.h"
#include "ops/creation.h"

namespace tl {

void begin_inplace_write(const Tensor& t, const char* op) {
  check_inplace_target(t, op);
  t.bump_version();
}

bool inplace_needs_graph(const Tensor& self, std::initializer_list<const Tensor*> sources, const char* op,
                         bool differentiable) {
  if (!GradMode::is_enabled()) return false;
  bool graph = self.requires_grad();
  for (const Tensor* s : sources)
    if (s && s->defined()) {
      check_view_fresh(*s);  // before anything is written
      graph = graph || s->requires_grad();
    }
  if (self.requires_grad() && self.is_leaf())
    throw RuntimeError(str_cat("[", op, "] a leaf Variable that requires grad is being used in an in-place operation; "
                               "update it under `with tl.no_grad():` (as optimizers do), or use an out-of-place op"));
  const TensorImpl* base = self.impl()->view_base.get();
  if (base && base->requires_grad && !base->grad_fn && GradMode::is_enabled())
    throw RuntimeError(str_cat("[", op, "] a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation; update the leaf under `with tl.no_grad():`"));
  if (base && (graph || base->requires_grad))
    throw RuntimeError(str_cat("[", op, "] in-place operation on a view (a slice, reshape or transpose) of a tensor that "
                               "takes part in autograd is not supported: the view's base would keep a wrong history. "
                               "Write the result into the base instead, e.g. z[i] = z[i] + v rather than z[i] += v, or "
                               "do the update under `with tl.no_grad():`"));
  if (graph && !differentiable)
    throw RuntimeError(str_cat("[", op, "] this in-place operation is not differentiable and ",
                               self.requires_grad() ? "the tensor written requires grad"
                                                    : "an operand requires grad",
                               "; use it under `with tl.no_grad():` or on detached tensors"));
  return graph;
}

void inplace_rebase(const Tensor& self, const Tensor& result, const char* op) {
  begin_inplace_write(self, op);
  kernels::copy_cast(self, result);
  self.set_grad_fn(result.grad_fn());
  self.set_requires_grad(result.requires_grad());
}

namespace {

// fill_ on a tensor with history: the new value is a constant, the old one gets zero gradient.
struct FillBackward : Node {
  const char* name() const override { return "FillBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {Tensor::zeros(g.shape(), g.dtype())}; }
};

}  // namespace

void fill_inplace(const Tensor& t, Scalar value) {
  check_inplace_target(t, "fill");
  const bool graph = inplace_needs_graph(t, {}, "fill", true);
  begin_inplace_write(t, "fill");
  kernels::fill(t, value);
  if (graph) record<FillBackward>(t, {t});
}

}  // namespace tl
