#include "capture/recorder.h"
#include "ops/unary.h"
#include "autograd/function.h"
#include "ops/binary.h"

namespace tl {

using kernels::UnaryOp;

DType float_result_dtype(DType d) {
  switch (d) {
    case DType::Float32: case DType::Float64: return d;
    case DType::Int32: case DType::Int64: return DType::Float64;
    default: return DType::Float32;  // bool, uint8: NumPy gives float16, which we do not have
  }
}

Tensor unary_raw(UnaryOp op, const Tensor& x, DType out_dtype) {
  Tensor out = Tensor::empty(x.shape(), out_dtype);
  kernels::unary(op, out, x);
  return out;
}

namespace {

Tensor unary_float(UnaryOp op, const Tensor& x) {
  const DType d = float_result_dtype(x.dtype());
  return unary_raw(op, x.to_dtype(d), d);
}

Tensor scalar_of(double v, DType d) { return Tensor::scalar(Scalar::from_double(v), d); }

// Backward nodes save the input x or the (detached) output, whichever the derivative needs.
// Nodes written with the output also keep x: under create_graph (grad mode on inside
// backward) they recompute the output from x, so second derivatives see its dependence on x
// (the saved output is detached, and would make them silently wrong).
struct OutputNode : Node {
  SavedTensor x, out;
  Tensor output(Tensor (*f)(const Tensor&)) const { return GradMode::is_enabled() ? f(unpack(x)) : unpack(out); }
  void release_saved() override {
    x.reset();
    out.reset();
  }
};
// Nodes that save only their input x.
struct InputNode : Node {
  SavedTensor x;
  void release_saved() override { x.reset(); }
};
struct AbsBackward : InputNode {
  const char* name() const override { return "AbsBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const Tensor& xv = unpack(x);
    return {mul(g, unary_raw(UnaryOp::Sign, xv, xv.dtype()))};
  }
};
struct ExpBackward : OutputNode {
  const char* name() const override { return "ExpBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {mul(g, output(exp))}; }
};
struct LogBackward : InputNode {
  const char* name() const override { return "LogBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {div(g, unpack(x))}; }
};
struct SqrtBackward : OutputNode {
  const char* name() const override { return "SqrtBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor o = output(sqrt);
    return {div(g, mul(o, scalar_of(2.0, o.dtype())))};
  }
};
struct SquareBackward : InputNode {
  const char* name() const override { return "PowBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const Tensor& xv = unpack(x);
    return {mul(g, mul(xv, scalar_of(2.0, xv.dtype())))};
  }
};
struct TanhBackward : OutputNode {
  const char* name() const override { return "TanhBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor o = output(tanh);
    return {mul(g, sub(scalar_of(1.0, o.dtype()), mul(o, o)))};
  }
};
struct SigmoidBackward : OutputNode {
  const char* name() const override { return "SigmoidBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor o = output(sigmoid);
    return {mul(g, mul(o, sub(scalar_of(1.0, o.dtype()), o)))};
  }
};
struct ReluBackward : InputNode {
  const char* name() const override { return "ReluBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const Tensor& xv = unpack(x);
    return {mul(g, unary_raw(UnaryOp::StepPositive, xv, xv.dtype()))};
  }
};
struct SinBackward : InputNode {
  const char* name() const override { return "SinBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {mul(g, cos(unpack(x)))}; }
};
struct CosBackward : InputNode {
  const char* name() const override { return "CosBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {neg(mul(g, sin(unpack(x))))}; }
};
struct ErfBackward : InputNode {
  const char* name() const override { return "ErfBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {  // 2/sqrt(pi) exp(-x^2)
    const Tensor& xv = unpack(x);
    return {mul(g, mul(exp(neg(mul(xv, xv))), scalar_of(1.1283791670955126, xv.dtype())))};
  }
};
struct Expm1Backward : InputNode {
  const char* name() const override { return "Expm1Backward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {mul(g, exp(unpack(x)))}; }
};
struct Log1pBackward : InputNode {
  const char* name() const override { return "Log1pBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const Tensor& xv = unpack(x);
    return {div(g, add(xv, scalar_of(1.0, xv.dtype())))};
  }
};

template <class NodeT>
Tensor save_x(Tensor out, const Tensor& x) {
  if (auto node = record<NodeT>(out, {x})) node->x = x;
  return out;
}
template <class NodeT>
Tensor save_out(Tensor out, const Tensor& x) {
  if (auto node = record<NodeT>(out, {x})) {
    node->x = x;
    node->out.save_output(out);
  }
  return out;
}

}  // namespace

Tensor abs(const Tensor& x) { TL_CAPTURE_OP(abs, x); return save_x<AbsBackward>(unary_raw(UnaryOp::Abs, x, x.dtype()), x); }
Tensor exp(const Tensor& x) { TL_CAPTURE_OP(exp, x); return save_out<ExpBackward>(unary_float(UnaryOp::Exp, x), x); }
Tensor log(const Tensor& x) { TL_CAPTURE_OP(log, x); return save_x<LogBackward>(unary_float(UnaryOp::Log, x), x); }
Tensor sqrt(const Tensor& x) { TL_CAPTURE_OP(sqrt, x); return save_out<SqrtBackward>(unary_float(UnaryOp::Sqrt, x), x); }
Tensor tanh(const Tensor& x) { TL_CAPTURE_OP(tanh, x); return save_out<TanhBackward>(unary_float(UnaryOp::Tanh, x), x); }
Tensor sigmoid(const Tensor& x) { TL_CAPTURE_OP(sigmoid, x); return save_out<SigmoidBackward>(unary_float(UnaryOp::Sigmoid, x), x); }
Tensor sin(const Tensor& x) { TL_CAPTURE_OP(sin, x); return save_x<SinBackward>(unary_float(UnaryOp::Sin, x), x); }
Tensor cos(const Tensor& x) { TL_CAPTURE_OP(cos, x); return save_x<CosBackward>(unary_float(UnaryOp::Cos, x), x); }
Tensor erf(const Tensor& x) { TL_CAPTURE_OP(erf, x); return save_x<ErfBackward>(unary_float(UnaryOp::Erf, x), x); }
Tensor expm1(const Tensor& x) { TL_CAPTURE_OP(expm1, x); return save_x<Expm1Backward>(unary_float(UnaryOp::Expm1, x), x); }
Tensor log1p(const Tensor& x) { TL_CAPTURE_OP(log1p, x); return save_x<Log1pBackward>(unary_float(UnaryOp::Log1p, x), x); }
Tensor relu(const Tensor& x) { TL_CAPTURE_OP(relu, x); return save_x<ReluBackward>(unary_raw(UnaryOp::Relu, x, x.dtype()), x); }

Tensor square(const Tensor& x) {
  TL_CAPTURE_OP(square, x);
  TL_CHECK_TYPE(x.dtype() != DType::Bool, "square",
                "not supported for bool (NumPy computes it in int8, which tensorlet does not have); "
                "convert with .astype() first");
  return save_x<SquareBackward>(unary_raw(UnaryOp::Square, x, x.dtype()), x);
}

Tensor sign(const Tensor& x) {
  TL_CAPTURE_OP(sign, x);
  TL_CHECK_TYPE(x.dtype() != DType::Bool, "sign", "ufunc 'sign' did not contain a loop with signature matching types bool");
  return unary_raw(UnaryOp::Sign, x, x.dtype());
}
Tensor isnan(const Tensor& x) { TL_CAPTURE_OP(isnan, x); return unary_raw(UnaryOp::IsNan, x, DType::Bool); }
Tensor isfinite(const Tensor& x) { TL_CAPTURE_OP(isfinite, x); return unary_raw(UnaryOp::IsFinite, x, DType::Bool); }
Tensor logical_not(const Tensor& x) { TL_CAPTURE_OP(logical_not, x); return unary_raw(UnaryOp::LogicalNot, x, DType::Bool); }
Tensor invert(const Tensor& x) {
  TL_CAPTURE_OP(invert, x);
  TL_CHECK_TYPE(!is_floating(x.dtype()), "invert", "ufunc 'invert' not supported for the input type ",
                dtype_name(x.dtype()), ": it needs bool or integer operands");
  return unary_raw(UnaryOp::BitNot, x, x.dtype());
}

}  // namespace tl
