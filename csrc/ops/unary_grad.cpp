// Derivative formulas of the unary table ops: d_<name>(g, x, out) = g * f'(x). The table's grad
// column says what each formula may read: GradNone neither x nor out, GradX x, GradOut x and
// out. Ops marked NoGrad have no formula.
#include "ops/unary_grad.h"
#include "ops/binary.h"
#include "ops/unary.h"

namespace tl::grad {

using kernels::UnaryOp;

namespace {

Tensor c(double v, const Tensor& like) { return Tensor::scalar(Scalar::from_double(v), like.dtype()); }
Tensor sq(const Tensor& x) { return mul(x, x); }
// Piecewise-constant ops (floor, round, ...): zero gradient, as PyTorch.
Tensor zero(const Tensor& g) { return Tensor::zeros(g.shape(), g.dtype()); }

using T = const Tensor&;
Tensor d_negative(T g, T, T) { return neg(g); }
Tensor d_positive(T g, T, T) { return g; }
Tensor d_abs(T g, T x, T) { return mul(g, sign(x)); }  // 0 at 0
Tensor d_square(T g, T x, T) { return mul(g, mul(x, c(2.0, x))); }
Tensor d_reciprocal(T g, T, T o) { return neg(mul(g, sq(o))); }
Tensor d_relu(T g, T x, T) { return mul(g, step_positive(x)); }  // 0 at 0
Tensor d_exp(T g, T, T o) { return mul(g, o); }
Tensor d_expm1(T g, T, T o) { return mul(g, add(o, c(1.0, o))); }
Tensor d_log(T g, T x, T) { return div(g, x); }
Tensor d_log1p(T g, T x, T) { return div(g, add(x, c(1.0, x))); }
Tensor d_log2(T g, T x, T) { return div(g, mul(x, c(0.69314718055994530942, x))); }
Tensor d_log10(T g, T x, T) { return div(g, mul(x, c(2.30258509299404568402, x))); }
Tensor d_sqrt(T g, T, T o) { return div(g, mul(o, c(2.0, o))); }
Tensor d_sin(T g, T x, T) { return mul(g, cos(x)); }
Tensor d_cos(T g, T x, T) { return neg(mul(g, sin(x))); }
Tensor d_tan(T g, T, T o) { return mul(g, add(sq(o), c(1.0, o))); }
Tensor d_arcsin(T g, T x, T) { return div(g, sqrt(sub(c(1.0, x), sq(x)))); }
Tensor d_arccos(T g, T x, T) { return neg(div(g, sqrt(sub(c(1.0, x), sq(x))))); }
Tensor d_arctan(T g, T x, T) { return div(g, add(sq(x), c(1.0, x))); }
Tensor d_sinh(T g, T x, T) { return mul(g, cosh(x)); }
Tensor d_cosh(T g, T x, T) { return mul(g, sinh(x)); }
Tensor d_tanh(T g, T, T o) { return mul(g, sub(c(1.0, o), sq(o))); }
Tensor d_arcsinh(T g, T x, T) { return div(g, sqrt(add(sq(x), c(1.0, x)))); }
Tensor d_arccosh(T g, T x, T) { return div(g, sqrt(sub(sq(x), c(1.0, x)))); }
Tensor d_arctanh(T g, T x, T) { return div(g, sub(c(1.0, x), sq(x))); }
Tensor d_sigmoid(T g, T, T o) { return mul(g, mul(o, sub(c(1.0, o), o))); }
Tensor d_erf(T g, T x, T) { return mul(g, mul(exp(neg(sq(x))), c(1.12837916709551257390, x))); }  // 2/sqrt(pi)
Tensor d_floor(T g, T, T) { return zero(g); }
Tensor d_ceil(T g, T, T) { return zero(g); }
Tensor d_trunc(T g, T, T) { return zero(g); }
Tensor d_round(T g, T, T) { return zero(g); }

}  // namespace

#define TL_GRAD_CASE_NoGrad(name, K)
#define TL_GRAD_CASE_GradNone(name, K) case UnaryOp::K: return d_##name(g, x, out);
#define TL_GRAD_CASE_GradX(name, K) TL_GRAD_CASE_GradNone(name, K)
#define TL_GRAD_CASE_GradOut(name, K) TL_GRAD_CASE_GradNone(name, K)

Tensor derivative(UnaryOp op, const Tensor& g, const Tensor& x, const Tensor& out) {
  switch (op) {
#define TL_UNARY(name, K, dtypes, grad, ...) TL_GRAD_CASE_##grad(name, K)
#include "ops/unary.def"
#undef TL_UNARY
    default: break;
  }
  throw RuntimeError(str_cat("[", kernels::unary_op_name(op), "] has no derivative"));
}

const char* node_name(UnaryOp op) {
  static constexpr const char* names[] = {
#define TL_UNARY(name, K, ...) #K "Backward0",
#include "ops/unary.def"
#undef TL_UNARY
  };
  if (op == UnaryOp::Square) return "PowBackward0";  // PyTorch computes square as pow(x, 2)
  return names[static_cast<int>(op)];
}

}  // namespace tl::grad
