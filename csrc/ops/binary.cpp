#include "ops/binary.h"
#include "autograd/function.h"
#include "kernels/binary.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"

namespace tl {

namespace {

using kernels::BinaryOp;

// Gradient flowing to an input: summed over the axes it was broadcast along, in its dtype.
Tensor grad_for(const Tensor& g, const InputMeta& meta) { return astype(sum_to(g, meta.shape), meta.dtype); }

Tensor binary_forward(BinaryOp op, const char* name, const Tensor& a, const Tensor& b, DType compute) {
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor ac = a.to_dtype(compute), bc = b.to_dtype(compute);
  Tensor out = Tensor::empty(shape, compute);
  kernels::binary(op, out, broadcast_view(ac, shape), broadcast_view(bc, shape));
  return out;
}

struct AddBackward : Node {
  const char* name() const override { return "AddBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {needs_input_grad(0) ? grad_for(g, input_meta[0]) : Tensor(),
            needs_input_grad(1) ? grad_for(g, input_meta[1]) : Tensor()};
  }
};

struct SubBackward : Node {
  const char* name() const override { return "SubBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {needs_input_grad(0) ? grad_for(g, input_meta[0]) : Tensor(),
            needs_input_grad(1) ? grad_for(neg(g), input_meta[1]) : Tensor()};
  }
};

struct MulBackward : Node {
  Tensor a, b;
  const char* name() const override { return "MulBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {needs_input_grad(0) ? grad_for(mul(g, b), input_meta[0]) : Tensor(),
            needs_input_grad(1) ? grad_for(mul(g, a), input_meta[1]) : Tensor()};
  }
  void release_saved() override { a = b = Tensor(); }
};

struct DivBackward : Node {
  Tensor a, b;
  const char* name() const override { return "DivBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor ga, gb;
    Tensor g_over_b = div(g, b);
    if (needs_input_grad(0)) ga = grad_for(g_over_b, input_meta[0]);
    if (needs_input_grad(1)) gb = grad_for(neg(mul(g_over_b, div(a, b))), input_meta[1]);
    return {ga, gb};
  }
  void release_saved() override { a = b = Tensor(); }
};

struct NegBackward : Node {
  const char* name() const override { return "NegBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {neg(g)}; }
};

struct AstypeBackward : Node {
  const char* name() const override { return "AstypeBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {astype(g, input_meta[0].dtype)}; }
};

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  DType dt = promote_types(a.dtype(), b.dtype());
  // NumPy's bool + bool is logical or: compute in uint8, then cast back to bool.
  Tensor out = dt == DType::Bool ? binary_forward(BinaryOp::Add, "add", a, b, DType::UInt8).to_dtype(DType::Bool)
                                 : binary_forward(BinaryOp::Add, "add", a, b, dt);
  record<AddBackward>(out, {a, b});
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  TL_CHECK_TYPE(!(a.dtype() == DType::Bool && b.dtype() == DType::Bool), "subtract",
                "numpy boolean subtract, the `-` operator, is not supported, use the bitwise_xor, the `^` "
                "operator, or the logical_xor function instead");
  Tensor out = binary_forward(BinaryOp::Sub, "subtract", a, b, promote_types(a.dtype(), b.dtype()));
  record<SubBackward>(out, {a, b});
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  DType dt = promote_types(a.dtype(), b.dtype());
  Tensor out = dt == DType::Bool ? binary_forward(BinaryOp::Mul, "multiply", a, b, DType::UInt8).to_dtype(DType::Bool)
                                 : binary_forward(BinaryOp::Mul, "multiply", a, b, dt);
  if (auto node = record<MulBackward>(out, {a, b})) {
    node->a = a;
    node->b = b;
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  DType dt = promote_types(a.dtype(), b.dtype());
  if (!is_floating(dt)) dt = DType::Float64;
  Tensor out = binary_forward(BinaryOp::Div, "divide", a, b, dt);
  if (auto node = record<DivBackward>(out, {a, b})) {
    node->a = a;
    node->b = b;
  }
  return out;
}

Tensor neg(const Tensor& a) {
  TL_CHECK_TYPE(a.dtype() != DType::Bool, "negative",
                "the numpy boolean negative, the `-` operator, is not supported, use the `~` operator instead");
  Tensor zero = Tensor::zeros({}, a.dtype());
  Tensor out = binary_forward(BinaryOp::Sub, "negative", zero, a, a.dtype());
  record<NegBackward>(out, {a});
  return out;
}

Tensor weak_scalar_like(Scalar s, const Tensor& like) {
  return Tensor::scalar(s, promote_with_scalar(like.dtype(), s.kind));
}

Tensor add(const Tensor& a, Scalar b) { return add(a, weak_scalar_like(b, a)); }
Tensor mul(const Tensor& a, Scalar b) { return mul(a, weak_scalar_like(b, a)); }

Tensor astype(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = x.to_dtype(dtype);
  if (is_floating(dtype) && is_floating(x.dtype())) record<AstypeBackward>(out, {x});
  return out;
}

}  // namespace tl
