#include "ops/inplace.h"
#include "capture/recorder.h"
#include "autograd/function.h"
#include "kernels/copy.h"
#include "ops/creation.h"
#include "ops/binary.h"
#include "ops/indexing.h"
#include "ops/shape_ops.h"

namespace tl {

void begin_inplace_write(const Tensor& t, const char* op) {
  check_inplace_target(t, op);
  capture::opaque();  // a write into a buffer from before the op: replays re-run the op
  t.bump_version();
}

bool inplace_needs_graph(const Tensor& self, std::initializer_list<const Tensor*> sources, const char* op,
                         bool differentiable) {
  if (!GradMode::is_enabled()) return false;
  const TensorImpl* base = self.impl()->view_base.get();
  // A view of a tensor with history is written as part of that tensor, even when the view itself
  // was made under no_grad.
  bool graph = self.requires_grad() || (base && base->requires_grad);
  for (const Tensor* s : sources)
    if (s && s->defined()) {
      check_view_fresh(*s);  // before anything is written
      graph = graph || s->requires_grad();
    }
  if (self.requires_grad() && self.is_leaf())
    throw RuntimeError(str_cat("[", op, "] a leaf Variable that requires grad is being used in an in-place operation; "
                               "update it under `with tl.no_grad():` (as optimizers do), or use an out-of-place op"));
  if (base && base->requires_grad && !base->grad_fn)
    throw RuntimeError(str_cat("[", op, "] a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation; update the leaf under `with tl.no_grad():`"));
  if (graph && !differentiable)
    throw RuntimeError(str_cat("[", op, "] this in-place operation is not differentiable and ",
                               self.requires_grad() || base ? "the tensor written takes part in autograd"
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

// Where each element of view v sits in its root, as flat (C-order) indices into the root, in v's
// shape: the root's element numbers written through the root's geometry into a scratch buffer
// the size of the storage, read back through v's geometry.
Tensor view_positions(const Tensor& v, const Tensor& root) {
  const int64_t slots = static_cast<int64_t>(root.storage()->nbytes / root.itemsize());
  Tensor scratch = Tensor::full({slots}, Scalar::from_int(-1), DType::Int64);
  Tensor ids = Tensor::empty(root.shape(), DType::Int64);
  int64_t* p = ids.data<int64_t>();
  for (int64_t i = 0, n = ids.numel(); i < n; ++i) p[i] = i;
  kernels::copy_cast(scratch.view_with(root.shape(), root.strides(), root.offset()), ids);
  Tensor pos = scratch.view_with(v.shape(), v.strides(), v.offset()).clone();
  const int64_t* q = pos.data<int64_t>();
  for (int64_t i = 0, n = pos.numel(); i < n; ++i)
    if (q[i] < 0) throw RuntimeError("[autograd] a view reaches memory outside the tensor it views");
  return pos;
}

// The root after an in-place op on its view: the old root outside the view's elements, the
// op's result r inside. `keep` (the root's shape) is 1 where the old root survives.
struct ViewWriteBackward : Node {
  Tensor pos, keep;  // private constants
  const char* name() const override { return "CopySlices"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor groot, gr;
    if (needs_input_grad(0)) groot = mul(g, keep);
    if (needs_input_grad(1)) gr = index(ravel(g), {IndexItem::tensor(pos)});
    return {groot, gr};
  }
  void release_saved() override { pos = keep = Tensor(); }
};

// fill_ on a tensor with history: the new value is a constant, the old one gets zero gradient.
struct FillBackward : Node {
  const char* name() const override { return "FillBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {Tensor::zeros(g.shape(), g.dtype())}; }
};

// The view's history: its elements of the root's current history.
void set_view_history(const Tensor& v, const Tensor& root, const Index& at) {
  Tensor again = index(ravel(root), at);
  v.set_grad_fn(again.grad_fn());
  v.set_requires_grad(again.requires_grad());
  v.impl()->view_base_fn = root.grad_fn();
}

}  // namespace

void refresh_view_history(const Tensor& t) {
  // An op re-run by a captured step's replay meets the recorded view, whose root an in-place op's
  // re-run has given a new history: the graph built while replaying is never used (the replay
  // runs the recorded backward), so the view keeps the history it was recorded with. Regenerating
  // it would allocate outside the entry's logged buffers, a ReplayMismatch on every replay.
  if (capture::state().replaying) return;
  Tensor root(t.impl()->view_base);
  set_view_history(t, root, {IndexItem::tensor(view_positions(t, root))});
}

void inplace_on_view(const Tensor& v, const char* op, FunctionRef<void(const Tensor&)> apply) {
  Tensor root(v.impl()->view_base);
  Tensor pos = view_positions(v, root);
  const Index at{IndexItem::tensor(pos)};
  // The view's current value with the root's current history (v's own may be stale), then the
  // op applied to it as to any tensor that is not a view.
  Tensor r = index(ravel(root), at);
  apply(r);
  Tensor keep;
  {
    NoGradGuard no_grad;
    keep = Tensor::full({root.numel()}, Scalar::from_int(1), root.dtype());
    index_put_(keep, at, Tensor::zeros({}, root.dtype()));
    keep = reshape(keep, root.shape());
  }
  begin_inplace_write(v, op);
  kernels::copy_cast(v, r);
  auto node = record<ViewWriteBackward>(root, {root, r});
  node->pos = pos;
  node->keep = keep;
  set_view_history(v, root, at);
}

void fill_inplace(const Tensor& t, Scalar value) {
  TL_CAPTURE_OP(fill_inplace, t, value);
  check_inplace_target(t, "fill");
  const bool graph = inplace_needs_graph(t, {}, "fill", true);
  if (graph && t.is_view()) return inplace_on_view(t, "fill", [&](const Tensor& r) { fill_inplace(r, value); });
  begin_inplace_write(t, "fill");
  kernels::fill(t, value);
  if (graph) record<FillBackward>(t, {t});
}

}  // namespace tl
