#include "capture/recorder.h"
#include "ops/reduce.h"
#include <algorithm>
#include <cmath>
#include "autograd/function.h"
#include "kernels/reduce.h"
#include "ops/binary.h"
#include "ops/reduce_grad.h"
#include "ops/shape_ops.h"

namespace tl {

using kernels::ReduceOp;

std::vector<bool> reduced_mask(const AxisSpec& axis, int64_t ndim, const char* op) {
  std::vector<bool> mask(ndim, axis.all);
  if (!axis.all)
    for (int64_t a : normalize_axes(axis.axes, ndim, op)) mask[a] = true;
  return mask;
}

Shape reduced_shape(const Shape& shape, const std::vector<bool>& mask, bool keepdims) {
  Shape out;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (!mask[i]) out.push_back(shape[i]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

namespace {

// What a reduction needs to know about its axes.
struct Plan {
  std::vector<bool> mask;
  Shape keep;       // output shape with keepdims
  Shape out;        // output shape as returned
  int64_t n_red;    // elements per output
  AxisSpec axis;    // as given (the backward of var/std reuses it)
};

Plan make_plan(const Tensor& x, const AxisSpec& axis, bool keepdims, const char* op) {
  Plan p;
  p.mask = reduced_mask(axis, x.ndim(), op);
  p.keep = reduced_shape(x.shape(), p.mask, true);
  p.out = keepdims ? p.keep : reduced_shape(x.shape(), p.mask, false);
  p.n_red = 1;
  for (int64_t d = 0; d < x.ndim(); ++d)
    if (p.mask[d]) p.n_red *= x.shape()[d];
  p.axis = axis;
  return p;
}

Tensor as_out(const Tensor& keep_result, const Plan& p) {
  if (p.keep == p.out) return keep_result;
  return keep_result.view_with(p.out, contiguous_strides(p.out), keep_result.offset());
}

// own_dtype: accumulate Sum/Prod in x's dtype (dtype= given) instead of NumPy's default.
Tensor run_reduce(ReduceOp op, const Tensor& x, const Plan& p, bool own_dtype = false) {
  Tensor out = Tensor::empty(p.keep, own_dtype ? x.dtype() : kernels::reduce_result_dtype(op, x.dtype()));
  kernels::reduce(op, out, x, p.mask);
  return as_out(out, p);
}

using grad::ReduceRow;

// One node type for every differentiable row of the table: the formula (ops/reduce_grad.cpp)
// gets g, the geometry and what the grad column says it reads.
struct ReduceBackward : Node {
  ReduceRow op{};
  grad::ReduceGeom geom;
  SavedTensor x, out;  // out: the result in the keepdims shape
  const char* name() const override { return grad::node_name(op); }
  // The saved tensors, unpacked on a formula's first read.
  struct Unpacked final : grad::ReduceSaved {
    const ReduceBackward& n;
    mutable Tensor x_, out_;
    explicit Unpacked(const ReduceBackward& node) : n(node) {}
    const Tensor& x() const override { return get(x_, n.x); }
    const Tensor& out() const override { return get(out_, n.out); }
    const Tensor& get(Tensor& cache, const SavedTensor& s) const {
      if (!cache.defined()) cache = n.unpack(s);
      return cache;
    }
  };
  std::vector<Tensor> backward(const Tensor& g) override {
    Unpacked saved(*this);
    Tensor gx = grad::derivative(op, g, saved, geom, input_meta[0].shape);
    // For capture/rewrite.cpp: what the call read besides g, and how many elements it reduced.
    if (capture::recording()) capture::describe({gx}, {saved.x_, saved.out_}, geom.n);  // the saved tensors the formula read
    return {gx};
  }
  void release_saved() override {
    x.reset();
    out.reset();
  }
};

// The table's grad column: what a row's node saves (0 nothing, 1 the input, 2 input and result).
#define TL_REDUCE_SAVES_NoGrad 0
#define TL_REDUCE_SAVES_GradNone 0
#define TL_REDUCE_SAVES_GradX 1
#define TL_REDUCE_SAVES_GradXOut 2
int saves(ReduceRow op) {
  static constexpr int table[] = {
#define TL_REDUCE(name, fn, kind, dtypes, grad, ...) TL_REDUCE_SAVES_##grad,
#include "ops/reduce.def"
#undef TL_REDUCE
  };
  return table[static_cast<int>(op)];
}

// Records row `op`'s node for `result` (computed from x over plan p); keep_result is the result
// in the keepdims shape (saved by GradXOut rows).
void record_reduction(ReduceRow op, const Tensor& result, const Tensor& x, const Plan& p,
                      const Tensor& keep_result = Tensor(), int64_t ddof = 0) {
  auto node = record<ReduceBackward>(result, {x});
  if (!node) return;
  node->op = op;
  node->geom = {p.keep, p.mask, p.axis, p.n_red, ddof};
  if (saves(op) >= 1) node->x = x;
  if (saves(op) == 2) node->out.save_output(keep_result);
}

Tensor extremum(const Tensor& x, const AxisSpec& axis, bool keepdims, bool is_max) {
  const char* name = is_max ? "max" : "min";
  Plan p = make_plan(x, axis, keepdims, name);
  TL_CHECK(p.n_red > 0, name, "zero-size array to reduction operation ", is_max ? "maximum" : "minimum",
           " which has no identity");
  Tensor out = run_reduce(is_max ? ReduceOp::Max : ReduceOp::Min, x, p);
  if (GradMode::is_enabled() && x.requires_grad())
    record_reduction(is_max ? ReduceRow::max_ : ReduceRow::min_, out, x, p, reshape(out.detach(), p.keep));
  return out;
}

// In-place sqrt of a fresh contiguous float tensor.
void sqrt_inplace(const Tensor& t) {
  TL_DISPATCH_FLOAT(t.dtype(), "std", [&] {
    scalar_t* p = t.data<scalar_t>();
    const int64_t n = t.numel();
    for (int64_t i = 0; i < n; ++i) p[i] = std::sqrt(p[i]);
  });
}

Tensor variance(const Tensor& x, const AxisSpec& axis, int64_t ddof, bool keepdims, bool is_std) {
  const char* name = is_std ? "std" : "var";
  TL_CHECK_TYPE(!is_complex(x.dtype()), name, "not supported for complex dtype ", dtype_name(x.dtype()),
                " (the standard's var / std take real dtypes): use abs(x - mean(x)) ** 2");
  Plan p = make_plan(x, axis, keepdims, name);
  Tensor out;
  {
    NoGradGuard no_grad;
    // Integers in float64 (as NumPy); float16 in float32, rounded once at the end (NumPy's
    // float16 moments round every intermediate to float16, so ours are as or more accurate).
    Tensor xf = x.dtype() == DType::Float16 ? x.to_dtype(DType::Float32)
                : is_floating(x.dtype())     ? x
                                             : x.to_dtype(DType::Float64);
    Tensor m = Tensor::empty(p.keep, xf.dtype());
    kernels::reduce(ReduceOp::Mean, m, xf, p.mask);
    Tensor s = Tensor::empty(p.keep, xf.dtype());
    if (!kernels::sum_sq_dev(s, xf, m, p.mask)) {  // layouts without a fast path: NumPy's way
      Tensor d = sub(xf, m);
      kernels::reduce(ReduceOp::Sum, s, mul(d, d), p.mask);
    }
    const double denom = std::max<double>(static_cast<double>(p.n_red - ddof), 0.0);
    out = div(s, Tensor::scalar(Scalar::from_double(denom), xf.dtype()));
    if (is_std) sqrt_inplace(out);
    if (x.dtype() == DType::Float16) out = out.to_dtype(DType::Float16);
  }
  Tensor result = as_out(out, p);
  record_reduction(is_std ? ReduceRow::std_ : ReduceRow::var_, result, x, p, out, ddof);
  return result;
}

Tensor arg_extremum(const Tensor& x, bool has_axis, int64_t axis, bool keepdims, bool is_max) {
  const char* name = is_max ? "argmax" : "argmin";
  Shape out_shape;
  int64_t ax = -1;
  if (has_axis) {
    ax = normalize_axis(axis, x.ndim(), name);
    for (int64_t d = 0; d < x.ndim(); ++d) {
      if (d != ax) out_shape.push_back(x.shape()[d]);
      else if (keepdims) out_shape.push_back(1);
    }
  } else if (keepdims) {
    out_shape.assign(x.ndim(), 1);
  }
  Tensor out = Tensor::empty(out_shape, DType::Int64);
  kernels::arg_reduce(is_max, out, x.contiguous(), ax);
  return out;
}

}  // namespace

namespace {

Tensor sum_impl(const Tensor& x, const AxisSpec& axis, bool keepdims, bool own_dtype) {
  Plan p = make_plan(x, axis, keepdims, "sum");
  Tensor out = run_reduce(ReduceOp::Sum, x, p, own_dtype);
  record_reduction(ReduceRow::sum_, out, x, p);
  return out;
}

Tensor prod_impl(const Tensor& x, const AxisSpec& axis, bool keepdims, bool own_dtype) {
  Plan p = make_plan(x, axis, keepdims, "prod");
  Tensor out = run_reduce(ReduceOp::Prod, x, p, own_dtype);
  record_reduction(ReduceRow::prod_, out, x, p);
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, const AxisSpec& axis, bool keepdims) { TL_CAPTURE_OP(sum, x, axis, keepdims); return sum_impl(x, axis, keepdims, false); }
Tensor sum(const Tensor& x, const AxisSpec& axis, bool keepdims, DType dtype) {
  TL_CAPTURE_OP(sum, x, axis, keepdims, dtype);
  return sum_impl(astype(x, dtype), axis, keepdims, true);
}
Tensor prod(const Tensor& x, const AxisSpec& axis, bool keepdims) { TL_CAPTURE_OP(prod, x, axis, keepdims); return prod_impl(x, axis, keepdims, false); }
Tensor prod(const Tensor& x, const AxisSpec& axis, bool keepdims, DType dtype) {
  TL_CAPTURE_OP(prod, x, axis, keepdims, dtype);
  return prod_impl(astype(x, dtype), axis, keepdims, true);
}

Tensor mean(const Tensor& x, const AxisSpec& axis, bool keepdims) {
  TL_CAPTURE_OP(mean, x, axis, keepdims);
  Plan p = make_plan(x, axis, keepdims, "mean");
  Tensor out = run_reduce(ReduceOp::Mean, x, p);
  record_reduction(ReduceRow::mean_, out, x, p);
  return out;
}

Tensor mean(const Tensor& x, const AxisSpec& axis, bool keepdims, DType dtype) {
  TL_CAPTURE_OP(mean, x, axis, keepdims, dtype);
  if (dtype == DType::Float16) {
    // An explicit float16 accumulates in float16 (NumPy widens to float32 only when dtype= is
    // not given): the sum rounds (to inf beyond 65504) before the division.
    Tensor s = sum(astype(x, dtype), axis, keepdims);
    const int64_t n = make_plan(x, axis, keepdims, "mean").n_red;
    return div(s, Tensor::scalar(Scalar::from_int(n), DType::Float16));
  }
  if (is_inexact(dtype)) return mean(astype(x, dtype), axis, keepdims);  // accumulates in dtype
  // Integer / bool dtype (no gradient): NumPy's sum in dtype, true_divide, cast back unsafely.
  Tensor s = sum(x, axis, keepdims, dtype);
  const int64_t n = make_plan(x, axis, keepdims, "mean").n_red;
  return div(s, Tensor::scalar(Scalar::from_int(n), DType::Int64)).to_dtype(dtype);
}

Tensor max(const Tensor& x, const AxisSpec& axis, bool keepdims) { TL_CAPTURE_OP(max, x, axis, keepdims); return extremum(x, axis, keepdims, true); }
Tensor min(const Tensor& x, const AxisSpec& axis, bool keepdims) { TL_CAPTURE_OP(min, x, axis, keepdims); return extremum(x, axis, keepdims, false); }

Tensor var(const Tensor& x, const AxisSpec& axis, int64_t ddof, bool keepdims) {
  TL_CAPTURE_OP(var, x, axis, ddof, keepdims);
  return variance(x, axis, ddof, keepdims, false);
}
Tensor std_dev(const Tensor& x, const AxisSpec& axis, int64_t ddof, bool keepdims) {
  TL_CAPTURE_OP(std_dev, x, axis, ddof, keepdims);
  return variance(x, axis, ddof, keepdims, true);
}

Tensor all(const Tensor& x, const AxisSpec& axis, bool keepdims) {
  TL_CAPTURE_OP(all, x, axis, keepdims);
  return run_reduce(ReduceOp::All, x, make_plan(x, axis, keepdims, "all"));
}
Tensor any(const Tensor& x, const AxisSpec& axis, bool keepdims) {
  TL_CAPTURE_OP(any, x, axis, keepdims);
  return run_reduce(ReduceOp::Any, x, make_plan(x, axis, keepdims, "any"));
}

Tensor argmax(const Tensor& x, bool has_axis, int64_t axis, bool keepdims) {
  TL_CAPTURE_OP(argmax, x, has_axis, axis, keepdims);
  return arg_extremum(x, has_axis, axis, keepdims, true);
}
Tensor argmin(const Tensor& x, bool has_axis, int64_t axis, bool keepdims) {
  TL_CAPTURE_OP(argmin, x, has_axis, axis, keepdims);
  return arg_extremum(x, has_axis, axis, keepdims, false);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  TL_CAPTURE_OP(sum_to, x, shape);
  if (x.shape() == shape) return x;
  const int64_t nd = x.ndim(), lead = nd - static_cast<int64_t>(shape.size());
  TL_CHECK(lead >= 0, "sum_to", "cannot sum shape ", shape_str(x.shape()), " to ", shape_str(shape));
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < nd; ++i) {
    if (i < lead) axes.push_back(i);
    else if (shape[i - lead] == 1 && x.shape()[i] != 1) axes.push_back(i);
    else TL_CHECK(shape[i - lead] == x.shape()[i], "sum_to", "cannot sum shape ", shape_str(x.shape()), " to ",
                  shape_str(shape));
  }
  Tensor s = sum(x, AxisSpec::of(axes), true);
  return not_a_view(reshape(s, shape));
}

}  // namespace tl
