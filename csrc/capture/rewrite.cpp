#include "capture/rewrite.h"
#include <algorithm>
#include "autograd/grad_mode.h"
#include "capture/rewrite_util.h"
#include "kernels/fused.h"
#include "kernels/gemm.h"
#include "kernels/nn.h"
#include "ops/linalg.h"
#include "ops/shape_ops.h"

namespace tl::capture {
namespace rewrite {

namespace {
bool has(const Storages& v, const Storage* s) { return std::find(v.begin(), v.end(), s) != v.end(); }
}  // namespace

Readers::Readers(const Plan& p, const std::vector<Tensor>& visible) {
  std::vector<std::shared_ptr<Storage>> all;  // for explicit lowerings, whose reads are raw pointers
  for (const Entry& e : p.entries) {
    for (const auto& a : e.allocs) all.push_back(a);
    for (const Tensor& t : e.inputs) all.push_back(t.storage());
  }
  auto find = [&all](const void* r) -> const Storage* {
    const auto* q = static_cast<const unsigned char*>(r);
    for (const auto& s : all) {
      const auto* b = static_cast<const unsigned char*>(s->data);
      if (s->data && q >= b && q < b + s->nbytes) return s.get();
    }
    return nullptr;
  };
  for (const Tensor& t : visible)
    if (t.defined()) pinned.insert(t.storage().get());
  for (const Entry& e : p.entries) {
    Storages r;
    auto add = [&r](const Tensor& t) {
      if (t.defined()) r.push_back(t.storage().get());
    };
    for (const Tensor& t : e.inputs) add(t);
    for (const Tensor& t : e.saved) add(t);
    for (const auto& s : e.read_storages) r.push_back(s.get());
    if (e.lowered && e.explicit_)
      for (const void* q : e.reads)
        if (const Storage* s = q ? find(q) : nullptr) r.push_back(s);
    unknown.push_back(!e.lowered && !e.op_call && !e.described);
    reads.push_back(std::move(r));
    for (const auto& v : e.visible) pinned.insert(v.get());
  }
}

size_t Readers::first_reader(const Storage* s, size_t from) const {
  for (size_t k = from; k < reads.size(); ++k)
    if (unknown[k] || has(reads[k], s)) return k;
  return reads.size();
}

bool Readers::only_reader(const Storage* s, size_t only, size_t from) const {
  if (pinned.count(s)) return false;
  for (size_t k = from; k < reads.size(); ++k)
    if (k != only && (unknown[k] || has(reads[k], s))) return false;
  return true;
}

Entry fused_entry(std::string op, std::function<void()> k, const std::vector<Tensor>& reads,
                  const std::vector<const Entry*>& from) {
  Entry f;
  f.op = std::move(op);
  f.run = k;
  f.kernels = {std::move(k)};
  f.elementwise = {nullptr};
  f.lowered = f.fused = f.described = true;
  for (const Entry* e : from) {
    f.grad_mode = e->grad_mode;
    f.allocs.insert(f.allocs.end(), e->allocs.begin(), e->allocs.end());
    f.inputs.insert(f.inputs.end(), e->inputs.begin(), e->inputs.end());
    f.visible.insert(f.visible.end(), e->visible.begin(), e->visible.end());
  }
  for (const Tensor& t : reads)
    if (t.defined() && std::find(f.read_storages.begin(), f.read_storages.end(), t.storage()) == f.read_storages.end())
      f.read_storages.push_back(t.storage());
  return f;
}

namespace {

// A whole contiguous buffer of `rows` x `cols` of a float dtype (the layouts the fused kernels take).
bool whole_2d(const Tensor& t, int64_t rows, int64_t cols) {
  return t.defined() && t.ndim() == 2 && t.shape()[0] == rows && t.shape()[1] == cols && t.is_contiguous() &&
         t.offset() == 0 && (t.dtype() == DType::Float32 || t.dtype() == DType::Float64);
}
bool whole(const Tensor& t) { return t.defined() && t.is_contiguous() && t.offset() == 0; }
bool same_storage(const Tensor& a, const Tensor& b) { return a.defined() && b.defined() && a.storage() == b.storage(); }

bool is_alloc_of_earlier(const Plan& p, const Storage* s, size_t before) {
  for (size_t k = 0; k < before; ++k)
    for (const auto& a : p.entries[k].allocs)
      if (a.get() == s) return true;
  return false;
}

// C = op(a) @ op(b) as matmul computes it for 2-D operands (ops/linalg.cpp's gemm_2d), with an
// epilogue; the operands' layouts are fixed at the rewrite, their addresses read at each call.
template <class T>
std::function<void()> gemm_call(const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& bias,
                                kernels::Activation act) {
  const GemmOperand A = as_gemm_operand(a), B = as_gemm_operand(b);
  const int64_t M = a.shape()[0], K = a.shape()[1], N = b.shape()[1];
  return [A, B, M, N, K, c, bias, act] {
    kernels::Epilogue<T> ep;
    ep.bias = bias.defined() ? bias.data<T>() : nullptr;
    ep.act = act;
    kernels::gemm<T>(A.trans, B.trans, M, N, K, T(1), A.keep.data<T>(), A.ld, B.keep.data<T>(), B.ld, T(0),
                     c.data<T>(), std::max<int64_t>(N, 1), ep);
  };
}
// Whether as_gemm_operand reads `m` in place (a clone would be scratch made at the rewrite).
bool in_place_operand(const Tensor& m) { return as_gemm_operand(m).keep.storage() == m.storage(); }

template <class F>
auto by_dtype(DType dt, F&& f) {
  return dt == DType::Float32 ? f(float{}) : f(double{});
}

// linear (no activation) -> tanh / sigmoid: one GEMM with the activation as its epilogue.
bool gemm_epilogue(Plan& p, const Readers& rd) {
  for (size_t i = 0; i < p.entries.size(); ++i) {
    const Entry& e = p.entries[i];
    if (e.op != "linear" || !e.described || !e.lowered || e.fused || e.attr != 0 || e.kernels.size() != 1 ||
        e.outputs.size() != 1 || e.saved.size() != 3)
      continue;
    const Tensor &z = e.outputs[0], &x2d = e.saved[0], &w = e.saved[1], &b = e.saved[2];
    if (!whole_2d(z, x2d.shape()[0], w.shape()[1]) || !in_place_operand(x2d) || !in_place_operand(w)) continue;
    const size_t j = rd.first_reader(z.storage().get(), i + 1);
    if (j >= p.entries.size()) continue;
    const Entry& c = p.entries[j];
    const kernels::Activation act = c.op == "tanh" ? kernels::Activation::Tanh
                                    : c.op == "sigmoid" ? kernels::Activation::Sigmoid
                                                        : kernels::Activation::None;
    if (act == kernels::Activation::None || !c.described || !c.lowered || c.inputs.size() != 1 ||
        c.outputs.size() != 1 || c.inputs[0].storage() != z.storage() || c.inputs[0].shape() != z.shape() ||
        !whole(c.inputs[0]) || !whole_2d(c.outputs[0], z.shape()[0], z.shape()[1]) ||
        c.outputs[0].dtype() != z.dtype() || !rd.only_reader(z.storage().get(), j, i + 1))
      continue;
    const Tensor y = c.outputs[0];
    auto k = by_dtype(z.dtype(), [&](auto t) { return gemm_call<decltype(t)>(x2d, w, y, b, act); });
    Entry f = fused_entry("linear+" + c.op, k, {x2d, w, b}, {&e, &c});
    f.outputs = {y};
    f.saved = {x2d, w, b};
    f.attr = static_cast<int64_t>(act);
    p.entries[i] = std::move(f);
    p.entries.erase(p.entries.begin() + static_cast<std::ptrdiff_t>(j));
    return true;
  }
  return false;
}

// The backward of a linear layer from its output gradient g (M x N, the gradient through the
// activation when `act` says which, written to gp), with the bias gradient in the same sweep.
std::function<void()> linear_backward_call(const Tensor& gp, const Tensor& g, const Tensor& y, kernels::Activation act,
                                           const Entry& addmm) {
  const Tensor &x2d = addmm.saved[0], &w = addmm.saved[1];
  const Tensor &gx = addmm.outputs[0], &gw = addmm.outputs[1], &gb = addmm.outputs[2];
  const int64_t M = gp.shape()[0], N = gp.shape()[1];
  NoGradGuard no_grad;
  std::function<void()> dx = [] {}, dw = [] {};
  by_dtype(gp.dtype(), [&](auto t) {
    using T = decltype(t);
    if (gx.defined()) dx = gemm_call<T>(gp, swapaxes(w, 0, 1), gx, Tensor(), kernels::Activation::None);
    if (gw.defined()) dw = gemm_call<T>(swapaxes(x2d, 0, 1), gp, gw, Tensor(), kernels::Activation::None);
    return 0;
  });
  return [gp, g, y, act, gb, M, N, dx, dw] {
    by_dtype(gp.dtype(), [&](auto t) {
      using T = decltype(t);
      kernels::activation_grad_bias<T>(gp.data<T>(), g.data<T>(), y.data<T>(), M, N, act,
                                       gb.defined() ? gb.data<T>() : nullptr);
      return 0;
    });
    dx();
    dw();
  };
}

// The checks an AddmmBackward0 entry must pass to be replayed by linear_backward_call.
bool fusable_addmm(const Entry& a, const Tensor& g) {
  if (a.op != "AddmmBackward0" || !a.described || !a.lowered || a.fused || a.outputs.size() != 3 ||
      a.saved.size() != 3 || a.inputs.size() != 1)
    return false;
  const Tensor &x2d = a.saved[0], &w = a.saved[1];
  const int64_t M = x2d.shape()[0], K = x2d.shape()[1], N = w.shape()[1];
  const Tensor &gx = a.outputs[0], &gw = a.outputs[1], &gb = a.outputs[2];
  // One column (N == 1): the eager sum(gp, axis 0) is then a contiguous row reduction, summed
  // pairwise (kernels/reduce_impl.h reduce_rows), not in row order as the fused sweep sums.
  if (gb.defined() && N == 1) return false;
  return whole_2d(g, M, N) && x2d.dtype() == g.dtype() && w.dtype() == g.dtype() && same_storage(a.inputs[0], g) &&
         a.inputs[0].shape() == g.shape() && whole(a.inputs[0]) && (!gx.defined() || whole_2d(gx, M, K)) &&
         (!gw.defined() || whole_2d(gw, K, N)) && (!gb.defined() || (whole(gb) && gb.numel() == N)) &&
         in_place_operand(x2d) && in_place_operand(w);
}

// TanhBackward0 / SigmoidBackward0 -> AddmmBackward0, or AddmmBackward0 of a relu linear alone.
bool activation_grad(Plan& p, const Readers& rd) {
  for (size_t i = 0; i < p.entries.size(); ++i) {
    const Entry& e = p.entries[i];
    if (e.op == "AddmmBackward0" && e.attr == 1 && e.inputs.size() == 1 && fusable_addmm(e, e.inputs[0])) {
      // The relu mask: gp overwrites g, which the step wrote earlier and nothing later reads.
      const Tensor g = e.inputs[0], y = e.saved[2];
      if (!whole_2d(y, g.shape()[0], g.shape()[1]) || y.dtype() != g.dtype() ||
          !is_alloc_of_earlier(p, g.storage().get(), i) || !rd.only_reader(g.storage().get(), i, i))
        continue;
      auto k = linear_backward_call(g, g, y, kernels::Activation::Relu, e);
      Entry f = fused_entry("AddmmBackward0+relu", k, {g, y, e.saved[0], e.saved[1]}, {&e});
      f.outputs = e.outputs;
      f.saved = e.saved;
      f.attr = 1;
      p.entries[i] = std::move(f);
      return true;
    }
    const kernels::Activation act = e.op == "TanhBackward0" ? kernels::Activation::Tanh
                                    : e.op == "SigmoidBackward0" ? kernels::Activation::Sigmoid
                                                                 : kernels::Activation::None;
    if (act == kernels::Activation::None || !e.described || !e.lowered || e.outputs.size() != 1 ||
        e.inputs.size() != 1 || e.saved.size() != 2)
      continue;
    const Tensor &gp = e.outputs[0], &g = e.inputs[0], &y = e.saved[1];
    if (!gp.defined() || gp.ndim() != 2) continue;
    const int64_t M = gp.shape()[0], N = gp.shape()[1];
    if (!whole_2d(gp, M, N) || !whole_2d(g, M, N) || !whole_2d(y, M, N) || g.dtype() != gp.dtype() ||
        y.dtype() != gp.dtype())
      continue;
    const size_t j = rd.first_reader(gp.storage().get(), i + 1);
    if (j >= p.entries.size() || !fusable_addmm(p.entries[j], gp) || p.entries[j].attr != 0 ||
        !rd.only_reader(gp.storage().get(), j, i + 1))
      continue;
    const Entry& a = p.entries[j];
    auto k = linear_backward_call(gp, g, y, act, a);
    Entry f = fused_entry(e.op + "+AddmmBackward0", k, {g, y, a.saved[0], a.saved[1]}, {&e, &a});
    f.outputs = a.outputs;
    f.saved = a.saved;
    f.attr = static_cast<int64_t>(act);
    p.entries[j] = std::move(f);
    p.entries.erase(p.entries.begin() + static_cast<std::ptrdiff_t>(i));
    return true;
  }
  return false;
}

// The gradient of a full mean: gl = g * (1/n) everywhere (ops/reduce_grad.cpp's d_mean, with the
// scale rounded to the dtype as the weak scalar is).
std::function<void()> mean_fill(const Tensor& g, const Tensor& gl) {
  return [g, gl] {
    by_dtype(gl.dtype(), [&](auto t) {
      using T = decltype(t);
      const int64_t n = gl.numel();
      const T s = static_cast<T>(1.0 / static_cast<double>(n));
      const T gv = *g.data<T>();
      T* o = gl.data<T>();
      for (int64_t r = 0; r < n; ++r) o[r] = gv * s;
      return 0;
    });
  };
}

// MeanBackward0 of a mean over all of a loss vector -> SparseSoftmaxCrossEntropyBackward0.
bool mean_xent_grad(Plan& p, const Readers& rd) {
  for (size_t i = 0; i < p.entries.size(); ++i) {
    const Entry& m = p.entries[i];
    if (m.op != "MeanBackward0" || !m.described || m.fused || m.inputs.size() != 1 || m.outputs.size() != 1)
      continue;
    const Tensor &g = m.inputs[0], &gl = m.outputs[0];
    if (!whole(g) || g.numel() != 1 || !whole(gl) || gl.ndim() != 1 || m.attr != gl.numel() || gl.numel() == 0 ||
        g.dtype() != gl.dtype() || (gl.dtype() != DType::Float32 && gl.dtype() != DType::Float64))
      continue;
    if (std::any_of(m.saved.begin(), m.saved.end(), [](const Tensor& t) { return t.defined(); })) continue;
    const size_t j = rd.first_reader(gl.storage().get(), i + 1);
    if (j >= p.entries.size()) continue;
    const Entry& x = p.entries[j];
    if (x.op != "SparseSoftmaxCrossEntropyBackward0" || !x.described || !x.lowered || x.inputs.size() != 1 ||
        x.outputs.size() != 1 || x.saved.size() != 3 || !same_storage(x.inputs[0], gl) || !whole(x.inputs[0]) ||
        x.inputs[0].shape() != gl.shape() || !rd.only_reader(gl.storage().get(), j, i + 1))
      continue;
    const Tensor &gz = x.outputs[0], &z = x.saved[0], &labels = x.saved[1], &lse = x.saved[2];
    if (!whole(gz) || !whole(z) || !whole(labels) || !whole(lse) || z.ndim() < 1) continue;
    const int64_t C = z.shape().back();
    auto k = [fill = mean_fill(g, gl), gz, gl, z, labels, lse, C] {
      fill();
      kernels::sparse_xent_rows_backward(gz, gl, z, labels, lse, C);
    };
    Entry f = fused_entry("MeanBackward0+SparseSoftmaxCrossEntropyBackward0", k, {g, z, labels, lse}, {&m, &x});
    f.outputs = {gz};
    f.saved = x.saved;
    p.entries[j] = std::move(f);
    p.entries.erase(p.entries.begin() + static_cast<std::ptrdiff_t>(i));
    return true;
  }
  return false;
}

// MeanBackward0 of a full mean left alone (any other loss): replayed as one fill, g * (1/n),
// instead of re-running the node (its scale constant is made outside any logged kernel).
bool mean_grad(Plan& p, const Readers&) {
  for (Entry& m : p.entries) {
    if (m.op != "MeanBackward0" || !m.described || m.fused || m.lowered || m.inputs.size() != 1 ||
        m.outputs.size() != 1)
      continue;
    const Tensor &g = m.inputs[0], &gl = m.outputs[0];
    if (!whole(g) || g.numel() != 1 || !whole(gl) || m.attr != gl.numel() || gl.numel() == 0 ||
        g.dtype() != gl.dtype() || (gl.dtype() != DType::Float32 && gl.dtype() != DType::Float64) ||
        std::any_of(m.saved.begin(), m.saved.end(), [](const Tensor& t) { return t.defined(); }))
      continue;
    Entry f = fused_entry("MeanBackward0", mean_fill(g, gl), {g}, {&m});
    f.outputs = m.outputs;
    f.attr = m.attr;
    m = std::move(f);
    return true;
  }
  return false;
}

}  // namespace
}  // namespace rewrite

std::vector<std::pair<std::string, int>> fuse(Plan& plan, const std::vector<Tensor>& visible) {
  using namespace rewrite;
  using Rewrite = bool (*)(Plan&, const Readers&);
  // elementwise_chain comes last: the epilogue and gradient rewrites take their activations first.
  const std::pair<const char*, Rewrite> rewrites[] = {
      {"mean_xent_grad", mean_xent_grad}, {"mean_grad", mean_grad}, {"gemm_epilogue", gemm_epilogue},
      {"activation_grad", activation_grad}, {"elementwise_chain", elementwise_chain}};
  std::vector<std::pair<std::string, int>> fired;
  for (const auto& [name, rw] : rewrites) fired.emplace_back(name, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < fired.size(); ++r)
      while (rewrites[r].second(plan, Readers(plan, visible))) {  // the readers change with each rewrite
        ++fired[r].second;
        changed = true;
      }
  }
  return fired;
}

}  // namespace tl::capture
