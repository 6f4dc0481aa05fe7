// Derivative formulas of the binary table ops: d_<name>(g, saved, need_a, need_b) gives
// {g * d/da, g * d/db}, reading saved.a(), .b(), .out() only where needed. The table's grad column says what each formula may read: GradNone only g,
// GradAB the operands, GradABOut the operands and the output. Ops marked NoGrad have no formula.
#include "ops/binary_grad.h"
#include "ops/binary.h"
#include "ops/shape_ops.h"
#include "ops/unary.h"

namespace tl::grad {

using kernels::BinaryOp;

namespace {

using T = const Tensor&;
using S = const BinarySaved&;
using G = BinaryGrads;

Tensor zero(DType d) { return Tensor::zeros({}, d); }

// x's share of the gradient of maximum(x, y): 1 where x > y, 1/2 on ties, else 0 (minimum swaps
// the operands). A constant of the graph: double backward sees it as piecewise constant.
Tensor max_share(const Tensor& x_in, const Tensor& y_in, DType dt) {
  Tensor x = x_in.to_dtype(dt), y = y_in.to_dtype(dt);
  const Shape shape = x.shape() == y.shape() ? x.shape() : broadcast_shapes(x.shape(), y.shape(), "maximum");
  Tensor w = Tensor::empty(shape, dt);
  kernels::max_grad_weight(w, broadcast_view(x, shape), broadcast_view(y, shape));
  return w;
}

G d_add(T g, S, bool na, bool nb) { return {na ? g : Tensor(), nb ? g : Tensor()}; }
G d_subtract(T g, S, bool na, bool nb) { return {na ? g : Tensor(), nb ? neg(g) : Tensor()}; }
G d_multiply(T g, S s, bool na, bool nb) { return {na ? mul(g, s.b()) : Tensor(), nb ? mul(g, s.a()) : Tensor()}; }
G d_divide(T g, S s, bool na, bool nb) {
  Tensor g_over_b = div(g, s.b());
  return {na ? g_over_b : Tensor(), nb ? neg(mul(g_over_b, div(s.a(), s.b()))) : Tensor()};
}
// d/da = b a^(b-1) (0 where b == 0); d/db = a^b log(a) (0 where a == 0 and b >= 0): PyTorch's
// masks, so that 0^0 and 0^positive give finite gradients.
G d_power(T g, S s, bool na, bool nb) {
  const Tensor &a = s.a(), &b = s.b();
  const DType dt = g.dtype();
  Tensor z = zero(dt), ga, gb;
  if (na) {
    Tensor d = mul(b, power(a, sub(b, Tensor::scalar(Scalar::from_int(1), dt))));
    ga = mul(g, where(equal(b, z), z, d));
  }
  if (nb) {
    Tensor d = mul(s.out(), log(a.to_dtype(dt)));
    gb = mul(g, where(logical_and(equal(a, z), greater_equal(b, z)), z, d));
  }
  return {ga, gb};
}
G d_maximum(T g, S s, bool na, bool nb) {
  const Tensor &a = s.a(), &b = s.b();
  return {na ? mul(g, max_share(a, b, g.dtype())) : Tensor(), nb ? mul(g, max_share(b, a, g.dtype())) : Tensor()};
}
G d_minimum(T g, S s, bool na, bool nb) {
  const Tensor &a = s.a(), &b = s.b();
  return {na ? mul(g, max_share(b, a, g.dtype())) : Tensor(), nb ? mul(g, max_share(a, b, g.dtype())) : Tensor()};
}
// d/da = a / hypot(a, b) (nan at a = b = 0, as PyTorch).
G d_hypot(T g, S s, bool na, bool nb) {
  Tensor g_over = div(g, s.out());
  return {na ? mul(g_over, s.a()) : Tensor(), nb ? mul(g_over, s.b()) : Tensor()};
}
// d/da = exp(a - logaddexp(a, b)), the softmax weight of a.
G d_logaddexp(T g, S s, bool na, bool nb) {
  return {na ? mul(g, exp(sub(s.a(), s.out()))) : Tensor(), nb ? mul(g, exp(sub(s.b(), s.out()))) : Tensor()};
}
// atan2(a, b) = atan2(y, x): d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2).
G d_atan2(T g, S s, bool na, bool nb) {
  const DType dt = g.dtype();
  Tensor y = s.a().to_dtype(dt), x = s.b().to_dtype(dt);
  Tensor g_over = div(g, add(mul(x, x), mul(y, y)));
  return {na ? mul(g_over, x) : Tensor(), nb ? neg(mul(g_over, y)) : Tensor()};
}
// copysign(a, b): d/da = +1 where a's and b's sign bits agree, else -1; d/db = 0 (PyTorch).
G d_copysign(T g, S s, bool na, bool nb) {
  Tensor ga, gb;
  if (na) ga = where(not_equal(signbit(s.a()), signbit(s.b())), neg(g), g);
  if (nb) gb = mul(g, zero(g.dtype()));
  return {ga, gb};
}

}  // namespace

#define TL_GRAD_CASE_NoGrad(name, K)
#define TL_GRAD_CASE_GradNone(name, K) \
  case BinaryOp::K: return d_##name(g, s, need_a, need_b);
#define TL_GRAD_CASE_GradAB(name, K) TL_GRAD_CASE_GradNone(name, K)
#define TL_GRAD_CASE_GradABOut(name, K) TL_GRAD_CASE_GradNone(name, K)

BinaryGrads derivative(BinaryOp op, const Tensor& g, const BinarySaved& s, bool need_a, bool need_b) {
  switch (op) {
#define TL_BINARY(name, K, fn, dtypes, grad, ...) TL_GRAD_CASE_##grad(name, K)
#include "ops/binary.def"
#undef TL_BINARY
    default: break;
  }
  throw RuntimeError(str_cat("[", kernels::binary_op_name(op), "] has no derivative"));
}

const char* node_name(BinaryOp op) {
  static constexpr const char* names[] = {
#define TL_BINARY(name, K, ...) #K "Backward0",
#include "ops/binary.def"
#undef TL_BINARY
  };
  switch (op) {  // PyTorch's names where they differ from the kernel's
    case BinaryOp::Max: return "MaximumBackward0";
    case BinaryOp::Min: return "MinimumBackward0";
    case BinaryOp::LogAddExp: return "LogaddexpBackward0";
    case BinaryOp::CopySign: return "CopysignBackward0";
    default: return names[static_cast<int>(op)];
  }
}

}  // namespace tl::grad
