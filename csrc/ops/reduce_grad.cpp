// Derivative formulas of the reduction table: d_<name>(g, saved, geom, in_shape) is the input's
// gradient (saved.x(), saved.out() unpacked on first read). The table's grad column says what each may read: GradNone only g and the geometry,
// GradX the input, GradXOut the input and the result (keepdims shape). NoGrad rows have none.
#include "ops/reduce_grad.h"
#include <algorithm>
#include <string>
#include "autograd/grad_mode.h"
#include "kernels/reduce.h"
#include "kernels/strided_loop.h"
#include "ops/binary.h"
#include "ops/shape_ops.h"

namespace tl::grad {

using kernels::ReduceOp;

namespace {

using T = const Tensor&;
using Sv = const ReduceSaved&;
using Geom = const ReduceGeom&;

// The output gradient broadcast back over the reduced axes of the input.
Tensor expand(T g, Geom r, const Shape& in_shape) { return broadcast_to(reshape(g, r.keep), in_shape); }

double denominator(Geom r) { return std::max<double>(static_cast<double>(r.n - r.ddof), 0.0); }

// prod: d/dx_i = product of the other elements of its group, computed without dividing by
// zero: with no zero in the group it is prod / x_i, with one zero only that element gets the
// product of the others, with two or more everything is 0. A constant of the graph (no double
// backward through prod).
template <class S>
Tensor prod_others(const Tensor& x, const std::vector<bool>& mask, const Shape& keep) {
  // nz = x with zeros replaced by 1 (its product is the product of the non-zeros), z = 1 at zeros.
  Tensor nz = Tensor::empty(x.shape(), x.dtype()), z = Tensor::empty(x.shape(), x.dtype());
  Tensor xc = x.contiguous();
  const S* xp = xc.data<S>();
  S* nzp = nz.data<S>();
  S* zp = z.data<S>();
  const int64_t n = xc.numel();
  for (int64_t i = 0; i < n; ++i) {
    nzp[i] = xp[i] == S(0) ? S(1) : xp[i];
    zp[i] = xp[i] == S(0) ? S(1) : S(0);
  }
  Tensor p = Tensor::empty(keep, x.dtype()), zc = Tensor::empty(keep, x.dtype());
  kernels::reduce(ReduceOp::Prod, p, nz, mask);
  kernels::reduce(ReduceOp::Sum, zc, z, mask);
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  Tensor pb = broadcast_view(p, x.shape()), zb = broadcast_view(zc, x.shape());
  constexpr int64_t B = sizeof(S);
  strided_loop<4>(x.shape(),
                  {static_cast<char*>(out.data_ptr()), static_cast<char*>(xc.data_ptr()),
                   static_cast<char*>(pb.data_ptr()), static_cast<char*>(zb.data_ptr())},
                  {&out.strides(), &xc.strides(), &pb.strides(), &zb.strides()}, {B, B, B, B},
                  [](char** q, const int64_t* s, int64_t m) {
                    for (int64_t i = 0; i < m; ++i) {
                      const S xv = *reinterpret_cast<const S*>(q[1] + i * s[1]);
                      const S pv = *reinterpret_cast<const S*>(q[2] + i * s[2]);
                      const S zv = *reinterpret_cast<const S*>(q[3] + i * s[3]);
                      S r = S(0);
                      if (zv == S(0)) r = pv / xv;
                      else if (zv == S(1) && xv == S(0)) r = pv;
                      *reinterpret_cast<S*>(q[0] + i * s[0]) = r;
                    }
                  });
  return out;
}

// max / min: g goes to the elements equal to the result, split equally among ties. The weights
// (mask / count) are constants of the graph, so double backward is right too.
Tensor extremum(T g, T x, T out, Geom r, const Shape& in_shape) {
  Tensor w;
  {
    NoGradGuard no_grad;
    w = Tensor::empty(x.shape(), x.dtype());
    kernels::equal_mask(w, x, broadcast_view(out, x.shape()));
    Tensor count = Tensor::empty(r.keep, x.dtype());
    kernels::reduce(ReduceOp::Sum, count, w, r.mask);
    w = div(w, count);
  }
  return mul(expand(g, r, in_shape), w);
}

Tensor d_sum(T g, Sv, Geom r, const Shape& in) { return expand(g, r, in); }
Tensor d_mean(T g, Sv, Geom r, const Shape& in) {
  return mul(expand(g, r, in), Scalar::from_double(1.0 / static_cast<double>(r.n)));
}
Tensor d_prod(T g, Sv s, Geom r, const Shape& in) {
  const Tensor& x = s.x();
  Tensor others;
  {
    NoGradGuard no_grad;
    others = TL_DISPATCH_FLOAT(x.dtype(), "prod_backward", [&] { return prod_others<scalar_t>(x, r.mask, r.keep); });
  }
  return mul(expand(g, r, in), others);
}
Tensor d_max(T g, Sv s, Geom r, const Shape& in) { return extremum(g, s.x(), s.out(), r, in); }
Tensor d_min(T g, Sv s, Geom r, const Shape& in) { return extremum(g, s.x(), s.out(), r, in); }
// d var / dx = 2 (x - mean) / (N - ddof).
Tensor d_var(T g, Sv s, Geom r, const Shape& in) {
  const Tensor& x = s.x();
  Tensor d = sub(x, mean(x, r.axis, true));
  return mul(mul(expand(g, r, in), d), Scalar::from_double(2.0 / denominator(r)));
}
// d std / dx = (x - mean) / ((N - ddof) std); under create_graph std is recomputed with history.
Tensor d_std(T g, Sv s, Geom r, const Shape& in) {
  const Tensor& x = s.x();
  Tensor d = sub(x, mean(x, r.axis, true));
  Tensor sd = GradMode::is_enabled() ? std_dev(x, r.axis, r.ddof, true) : s.out();
  return div(mul(expand(g, r, in), d), mul(sd, Scalar::from_double(denominator(r))));
}

}  // namespace

#define TL_GRAD_CASE_NoGrad(name)
#define TL_GRAD_CASE_GradNone(name) \
  case ReduceRow::name##_: return d_##name(g, s, geom, in_shape);
#define TL_GRAD_CASE_GradX(name) TL_GRAD_CASE_GradNone(name)
#define TL_GRAD_CASE_GradXOut(name) TL_GRAD_CASE_GradNone(name)

Tensor derivative(ReduceRow op, const Tensor& g, const ReduceSaved& s, const ReduceGeom& geom, const Shape& in_shape) {
  switch (op) {
#define TL_REDUCE(name, fn, kind, dtypes, grad, ...) TL_GRAD_CASE_##grad(name)
#include "ops/reduce.def"
#undef TL_REDUCE
    default: break;
  }
  throw RuntimeError("[reduce] this reduction has no derivative");
}

const char* node_name(ReduceRow op) {
  static const std::vector<std::string> names = [] {  // "sum" -> "SumBackward0"
    std::vector<std::string> v;
    for (const char* n : {
#define TL_REDUCE(name, ...) #name,
#include "ops/reduce.def"
#undef TL_REDUCE
         }) {
      std::string s(n);
      s[0] = static_cast<char>(s[0] - 'a' + 'A');
      v.push_back(s + "Backward0");
    }
    return v;
  }();
  return names[static_cast<size_t>(op)].c_str();
}

}  // namespace tl::grad
