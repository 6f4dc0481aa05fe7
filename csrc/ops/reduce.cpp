#include "capture/recorder.h"
#include "ops/reduce.h"
#include <algorithm>
#include <cmath>
#include "autograd/function.h"
#include "kernels/reduce.h"
#include "kernels/strided_loop.h"
#include "ops/binary.h"
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

// The output gradient broadcast back over the reduced axes of the input.
Tensor expand_grad(const Tensor& g, const Shape& keep, const Shape& in_shape) {
  return broadcast_to(reshape(g, keep), in_shape);
}

struct ReductionNode : Node {
  Shape keep;
};

struct SumBackward : ReductionNode {
  const char* name() const override { return "SumBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {expand_grad(g, keep, input_meta[0].shape)}; }
};

struct MeanBackward : ReductionNode {
  int64_t n = 1;
  const char* name() const override { return "MeanBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {mul(expand_grad(g, keep, input_meta[0].shape), Scalar::from_double(1.0 / static_cast<double>(n)))};
  }
};

// max/min: g goes to the elements equal to the result, split equally among ties. The weights
// (mask / count) are constants of the graph, so double backward is right too.
struct ExtremumBackward : ReductionNode {
  SavedTensor x_saved, result_saved;  // result in the keepdims shape
  std::vector<bool> mask;
  const char* name_ = "MaxBackward0";
  const char* name() const override { return name_; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor w;
    {
      const Tensor &x = unpack(x_saved), &result = unpack(result_saved);
      NoGradGuard no_grad;
      w = Tensor::empty(x.shape(), x.dtype());
      kernels::equal_mask(w, x, broadcast_view(result, x.shape()));
      Tensor count = Tensor::empty(keep, x.dtype());
      kernels::reduce(ReduceOp::Sum, count, w, mask);
      w = div(w, count);
    }
    return {mul(expand_grad(g, keep, input_meta[0].shape), w)};
  }
  void release_saved() override {
    x_saved.reset();
    result_saved.reset();
  }
};

struct VarBackward : ReductionNode {
  SavedTensor x_saved, result_saved;  // result (std only) in the keepdims shape
  AxisSpec axis;
  int64_t ddof = 0, n = 1;
  bool is_std = false;
  const char* name() const override { return is_std ? "StdBackward0" : "VarBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const double denom = std::max<double>(static_cast<double>(n - ddof), 0.0);
    const Tensor& x = unpack(x_saved);
    Tensor d = sub(x, mean(x, axis, true));
    Tensor gx = expand_grad(g, keep, input_meta[0].shape);
    if (!is_std) return {mul(mul(gx, d), Scalar::from_double(2.0 / denom))};
    // d std / dx = (x - mean) / (denom * std); under create_graph std is recomputed with history.
    Tensor s = GradMode::is_enabled() ? std_dev(x, axis, ddof, true) : unpack(result_saved);
    return {div(mul(gx, d), mul(s, Scalar::from_double(denom)))};
  }
  void release_saved() override {
    x_saved.reset();
    result_saved.reset();
  }
};

// prod: d/dx_i = product of the other elements of its group, computed without dividing by
// zero: with no zero in the group it is prod / x_i, with one zero only that element gets the
// product of the others, with two or more everything is 0. A constant of the graph (no
// double backward through prod).
struct ProdBackward : ReductionNode {
  SavedTensor x;
  std::vector<bool> mask;
  const char* name() const override { return "ProdBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override;
  void release_saved() override { x.reset(); }
};

template <class T>
Tensor prod_others(const Tensor& x, const std::vector<bool>& mask, const Shape& keep) {
  // nz = x with zeros replaced by 1 (its product is the product of the non-zeros), z = 1 at zeros.
  Tensor nz = Tensor::empty(x.shape(), x.dtype()), z = Tensor::empty(x.shape(), x.dtype());
  Tensor xc = x.contiguous();
  const T* xp = xc.data<T>();
  T* nzp = nz.data<T>();
  T* zp = z.data<T>();
  const int64_t n = xc.numel();
  for (int64_t i = 0; i < n; ++i) {
    nzp[i] = xp[i] == T(0) ? T(1) : xp[i];
    zp[i] = xp[i] == T(0) ? T(1) : T(0);
  }
  Tensor p = Tensor::empty(keep, x.dtype()), zc = Tensor::empty(keep, x.dtype());
  kernels::reduce(ReduceOp::Prod, p, nz, mask);
  kernels::reduce(ReduceOp::Sum, zc, z, mask);
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  Tensor pb = broadcast_view(p, x.shape()), zb = broadcast_view(zc, x.shape());
  constexpr int64_t S = sizeof(T);
  strided_loop<4>(x.shape(),
                  {static_cast<char*>(out.data_ptr()), static_cast<char*>(xc.data_ptr()),
                   static_cast<char*>(pb.data_ptr()), static_cast<char*>(zb.data_ptr())},
                  {&out.strides(), &xc.strides(), &pb.strides(), &zb.strides()}, {S, S, S, S},
                  [](char** q, const int64_t* s, int64_t m) {
                    for (int64_t i = 0; i < m; ++i) {
                      const T xv = *reinterpret_cast<const T*>(q[1] + i * s[1]);
                      const T pv = *reinterpret_cast<const T*>(q[2] + i * s[2]);
                      const T zv = *reinterpret_cast<const T*>(q[3] + i * s[3]);
                      T r = T(0);
                      if (zv == T(0)) r = pv / xv;
                      else if (zv == T(1) && xv == T(0)) r = pv;
                      *reinterpret_cast<T*>(q[0] + i * s[0]) = r;
                    }
                  });
  return out;
}

std::vector<Tensor> ProdBackward::backward(const Tensor& g) {
  Tensor others;
  {
    NoGradGuard no_grad;
    const Tensor& xv = unpack(x);
    others = TL_DISPATCH_FLOAT(xv.dtype(), "prod_backward", [&] { return prod_others<scalar_t>(xv, mask, keep); });
  }
  return {mul(expand_grad(g, keep, input_meta[0].shape), others)};
}

Tensor extremum(const Tensor& x, const AxisSpec& axis, bool keepdims, bool is_max) {
  const char* name = is_max ? "max" : "min";
  Plan p = make_plan(x, axis, keepdims, name);
  TL_CHECK(p.n_red > 0, name, "zero-size array to reduction operation ", is_max ? "maximum" : "minimum",
           " which has no identity");
  Tensor out = run_reduce(is_max ? ReduceOp::Max : ReduceOp::Min, x, p);
  if (auto node = record<ExtremumBackward>(out, {x})) {
    node->keep = p.keep;
    node->x_saved = x;
    node->result_saved.save_output(reshape(out.detach(), p.keep));
    node->mask = p.mask;
    node->name_ = is_max ? "MaxBackward0" : "MinBackward0";
  }
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
  if (auto node = record<VarBackward>(result, {x})) {
    node->keep = p.keep;
    node->x_saved = x;
    node->axis = axis;
    node->ddof = ddof;
    node->n = p.n_red;
    node->is_std = is_std;
    if (is_std) node->result_saved.save_output(out);
  }
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
  kernels::arg_reduce(is_max, out, x, ax);
  return out;
}

}  // namespace

namespace {

Tensor sum_impl(const Tensor& x, const AxisSpec& axis, bool keepdims, bool own_dtype) {
  Plan p = make_plan(x, axis, keepdims, "sum");
  Tensor out = run_reduce(ReduceOp::Sum, x, p, own_dtype);
  if (auto node = record<SumBackward>(out, {x})) node->keep = p.keep;
  return out;
}

Tensor prod_impl(const Tensor& x, const AxisSpec& axis, bool keepdims, bool own_dtype) {
  Plan p = make_plan(x, axis, keepdims, "prod");
  Tensor out = run_reduce(ReduceOp::Prod, x, p, own_dtype);
  if (auto node = record<ProdBackward>(out, {x})) {
    node->keep = p.keep;
    node->x = x;
    node->mask = p.mask;
  }
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
  if (auto node = record<MeanBackward>(out, {x})) {
    node->keep = p.keep;
    node->n = p.n_red;
  }
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
  if (is_floating(dtype)) return mean(astype(x, dtype), axis, keepdims);  // accumulates in dtype
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
