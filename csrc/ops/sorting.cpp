#include "ops/sorting.h"
#include "autograd/function.h"
#include "capture/recorder.h"
#include "kernels/scan.h"
#include "kernels/sort.h"
#include "ops/shape_ops.h"

namespace tl {

namespace {

struct Geometry {
  int64_t outer = 1, n = 1, inner = 1;
};

Geometry split_at(const Shape& shape, int64_t axis) {
  Geometry g;
  for (int64_t i = 0; i < int64_t(shape.size()); ++i) {
    if (i < axis) g.outer *= shape[size_t(i)];
    else if (i == axis) g.n = shape[size_t(i)];
    else g.inner *= shape[size_t(i)];
  }
  return g;
}

int64_t sort_axis(const Tensor& x, int64_t axis, const char* op) {
  TL_CHECK(x.ndim() > 0, op, "needs an array of at least one dimension, got a 0-d array");
  return normalize_axis(axis, x.ndim(), op);
}

// The kernel sorts rows of the last axis: the sorted axis is swapped there and back (raw views).
std::pair<Tensor, Tensor> sort_impl(const Tensor& x, int64_t axis, bool descending, bool values, bool indices) {
  const int64_t last = x.ndim() - 1;
  Tensor moved = (axis == last ? x : swapaxes(x.detach(), axis, last)).contiguous();
  const int64_t n = moved.ndim() ? moved.shape().back() : 1;
  const int64_t rows = n ? moved.numel() / n : 0;
  Tensor v = values ? Tensor::empty(moved.shape(), x.dtype()) : Tensor();
  Tensor i = indices ? Tensor::empty(moved.shape(), DType::Int64) : Tensor();
  kernels::sort_rows(moved, rows, n, descending, v, i);
  auto back = [&](const Tensor& t) {
    return !t.defined() || axis == last ? t : swapaxes(t, axis, last).contiguous().detach();
  };
  return {back(v), back(i)};
}

struct CumsumBackward : Node {
  int64_t axis = 0;
  bool reverse = false;
  const char* name() const override { return "CumsumBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {cumsum(g, axis, !reverse)}; }
};

struct CumprodBackward : Node {
  SavedTensor x;
  int64_t axis = 0;
  const char* name() const override { return "CumprodBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    if (GradMode::is_enabled())
      throw RuntimeError("[cumulative_prod] second derivatives are not implemented (create_graph=True)");
    Tensor xs = unpack(x).contiguous();
    Tensor gc = g.contiguous();
    Geometry geo = split_at(xs.shape(), axis);
    Tensor out = Tensor::empty(xs.shape(), xs.dtype());
    kernels::cumprod_grad(xs, gc, out, geo.outer, geo.n, geo.inner);
    return {out};
  }
  void release_saved() override { x.reset(); }
};

Tensor scan_op(kernels::ScanOp op, const Tensor& x, int64_t axis, bool reverse) {
  Tensor xc = x.contiguous();
  Geometry geo = split_at(xc.shape(), axis);
  Tensor out = Tensor::empty(xc.shape(), xc.dtype());
  kernels::scan(op, xc, out, geo.outer, geo.n, geo.inner, reverse);
  return out;
}

}  // namespace

Tensor sort_values(const Tensor& x, int64_t axis, bool descending) {
  TL_CAPTURE_OP(sort_values, x, axis, descending);
  return sort_impl(x, sort_axis(x, axis, "sort"), descending, true, false).first;
}

Tensor argsort(const Tensor& x, int64_t axis, bool descending) {
  TL_CAPTURE_OP(argsort, x, axis, descending);
  return sort_impl(x, sort_axis(x, axis, "argsort"), descending, false, true).second;
}

namespace {

// x's elements sorted into a fresh 1-D buffer, for unique_values / unique_counts to compact.
Tensor sorted_flat(const Tensor& x, const char* op) {
  // The sort would otherwise name itself in the error.
  TL_CHECK_TYPE(x.dtype() != DType::Float16 && !is_complex(x.dtype()), op, "not supported for dtype ",
                dtype_name(x.dtype()), " (tl.", op, " sorts float16 as float32 and orders complex values)");
  Tensor flat = x.detach().contiguous();
  Tensor s = Tensor::empty({flat.numel()}, flat.dtype());
  kernels::sort_rows(flat, flat.numel() ? 1 : 0, flat.numel(), false, s, Tensor());
  return s;
}

// The first m elements of the private buffer b: a view when most of it is used (no copy); a
// copy when there were many duplicates, so the rest of the buffer is freed.
Tensor first_m(const Tensor& b, int64_t m) {
  Tensor heads = b.view_with({m}, {1}, b.offset());
  return 2 * m >= b.numel() ? heads : heads.clone();
}

}  // namespace

Tensor unique_values(const Tensor& x) {
  TL_CAPTURE_OP(unique_values, x);
  Tensor s = sorted_flat(x, "unique_values");
  return first_m(s, kernels::compact_runs(s));
}

std::pair<Tensor, Tensor> unique_counts(const Tensor& x) {
  TL_CAPTURE_OP(unique_counts, x);
  Tensor s = sorted_flat(x, "unique_counts");
  Tensor counts = Tensor::empty({s.numel()}, DType::Int64);
  const int64_t m = kernels::compact_runs(s, counts);
  return {first_m(s, m), first_m(counts, m)};
}

Tensor cumsum(const Tensor& x, int64_t axis, bool reverse) {
  TL_CAPTURE_OP(cumsum, x, axis, reverse);
  const int64_t ax = sort_axis(x, axis, "cumulative_sum");
  Tensor out = scan_op(kernels::ScanOp::Sum, x, ax, reverse);
  if (is_floating(x.dtype()))
    if (auto node = record<CumsumBackward>(out, {x})) {
      node->axis = ax;
      node->reverse = reverse;
    }
  return out;
}

Tensor cumprod(const Tensor& x, int64_t axis) {
  TL_CAPTURE_OP(cumprod, x, axis);
  const int64_t ax = sort_axis(x, axis, "cumulative_prod");
  Tensor out = scan_op(kernels::ScanOp::Prod, x, ax, false);
  if (is_floating(x.dtype()))
    if (auto node = record<CumprodBackward>(out, {x})) {
      node->x = x;
      node->axis = ax;
    }
  return out;
}

Tensor searchsorted(const Tensor& sorted, const Tensor& v, bool right) {
  TL_CAPTURE_OP(searchsorted, sorted, v, right);
  TL_CHECK(sorted.ndim() == 1, "searchsorted", "x1 must be 1-D, got shape ", shape_str(sorted.shape()));
  TL_CHECK_TYPE(sorted.dtype() == v.dtype(), "searchsorted", "x1 and x2 must share a dtype, got ",
                dtype_name(sorted.dtype()), " and ", dtype_name(v.dtype()));
  Tensor out = Tensor::empty(v.shape(), DType::Int64);
  kernels::searchsorted(sorted.contiguous(), v.contiguous(), right, out);
  return out;
}

}  // namespace tl
