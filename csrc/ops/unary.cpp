// The unary op functions, generated from ops/unary.def: result dtype from the table's dtypes
// column, the kernel case, and one autograd node type whose formula comes from unary_grad.cpp.
#include "ops/unary.h"
#include "autograd/function.h"
#include "capture/recorder.h"
#include "ops/unary_grad.h"

namespace tl {

using kernels::UnaryDTypes;
using kernels::UnaryOp;

// NumPy's float loops for integer inputs: the smallest float wider than the integer
// (bool/int8/uint8 -> float16, int16/uint16 -> float32, wider -> float64).
DType float_result_dtype(DType d) {
  if (is_inexact(d)) return d;
  const size_t n = itemsize(d);
  return n == 1 ? DType::Float16 : n == 2 ? DType::Float32 : DType::Float64;
}

DType unary_result_dtype(UnaryOp op, DType in) {
  const char* name = kernels::unary_op_name(op);
  if (is_complex(in)) {  // the loops of kernels/complex.cpp
    switch (op) {
      case UnaryOp::Abs: return complex_component(in);
      case UnaryOp::Floor: case UnaryOp::Ceil: case UnaryOp::Trunc: case UnaryOp::Relu: case UnaryOp::Sigmoid:
      case UnaryOp::Erf: case UnaryOp::Signbit: case UnaryOp::BitNot:
        throw TypeError(str_cat("[", name, "] not supported for complex dtype ", dtype_name(in)));
      default: return kernels::unary_dtypes(op) == UnaryDTypes::ToBool ? DType::Bool : in;
    }
  }
  switch (kernels::unary_dtypes(op)) {
    case UnaryDTypes::Same: return in;
    case UnaryDTypes::NoBool:
      if (in == DType::Bool && (op == UnaryOp::Square || op == UnaryOp::Reciprocal))
        return DType::Int8;  // NumPy's bool loop for these is int8's
      TL_CHECK_TYPE(in != DType::Bool, name, "not supported for dtype bool (NumPy has no bool loop for it); "
                    "use logical_not / ~ or convert with .astype() first");
      return in;
    case UnaryDTypes::Integral:
      TL_CHECK_TYPE(!is_floating(in), name, "not supported for dtype ", dtype_name(in),
                    ": it needs bool or integer operands");
      return in;
    case UnaryDTypes::Float: return float_result_dtype(in);
    case UnaryDTypes::Round: return in == DType::Bool ? DType::Float16 : in;  // as NumPy
    case UnaryDTypes::ToBool: return DType::Bool;
  }
  return in;
}

Tensor unary_raw(UnaryOp op, const Tensor& x, DType out_dtype) {
  Tensor out = Tensor::empty(x.shape(), out_dtype);
  kernels::unary(op, out, x);
  return out;
}

namespace {

// Forward without recording: ToBool ops read x in its own dtype, the others compute in the
// result dtype.
inline Tensor forward(UnaryOp op, const Tensor& x) {
  const DType d = unary_result_dtype(op, x.dtype());
  // Complex inputs are read as they are (abs of complex64 writes float32).
  if (kernels::unary_dtypes(op) == UnaryDTypes::ToBool || is_complex(x.dtype())) return unary_raw(op, x, d);
  return unary_raw(op, x.to_dtype(d), d);
}

Tensor recompute(UnaryOp op, const Tensor& x);

// One node type for every differentiable table op: the formula (unary_grad.h) gets g, the
// input and, for GradOut ops, the output (saved detached, so under create_graph it is
// recomputed from x to carry its dependence on x).
struct UnaryBackward : Node {
  UnaryOp op{};
  SavedTensor x, out;
  const char* name() const override { return grad::node_name(op); }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor xv = x.defined() ? unpack(x) : Tensor();
    Tensor ov;
    if (out.defined()) ov = GradMode::is_enabled() ? recompute(op, xv) : unpack(out);
    Tensor gx = grad::derivative(op, g, xv, ov);
    // For capture/rewrite.cpp: what the formula reads (d_tanh and d_sigmoid read the output only).
    const bool out_only = op == UnaryOp::Tanh || op == UnaryOp::Sigmoid;
    if (capture::recording()) capture::describe({gx}, {out_only ? Tensor() : xv, ov}, static_cast<int64_t>(op));
    return {gx};
  }
  void release_saved() override {
    x.reset();
    out.reset();
  }
};

enum class Saves { Nothing, X, XAndOut };

template <Saves S>
Tensor differentiable(UnaryOp op, const Tensor& x) {
  Tensor out = forward(op, x);
  if (capture::recording()) capture::describe({out}, {}, static_cast<int64_t>(op));  // for capture/rewrite.cpp
  if (auto node = record<UnaryBackward>(out, {x})) {
    node->op = op;
    if constexpr (S != Saves::Nothing) node->x = x;
    if constexpr (S == Saves::XAndOut) node->out.save_output(out);
  }
  return out;
}

}  // namespace

// The table's grad column -> how the op is computed and recorded.
#define TL_UNARY_RUN_NoGrad(K, x) forward(UnaryOp::K, x)
#define TL_UNARY_RUN_GradNone(K, x) differentiable<Saves::Nothing>(UnaryOp::K, x)
#define TL_UNARY_RUN_GradX(K, x) differentiable<Saves::X>(UnaryOp::K, x)
#define TL_UNARY_RUN_GradOut(K, x) differentiable<Saves::XAndOut>(UnaryOp::K, x)
#define TL_UNARY(name, K, dtypes, grad, ...) \
  Tensor name(const Tensor& x) {             \
    TL_CAPTURE_OP(name, x);                  \
    return TL_UNARY_RUN_##grad(K, x);        \
  }
#include "ops/unary.def"
#undef TL_UNARY

// Recorded forward (create_graph: the recomputed output must carry its dependence on x).
namespace {
Tensor recompute(UnaryOp op, const Tensor& x) {
  switch (op) {
#define TL_UNARY(name, K, ...) case UnaryOp::K: return name(x);
#include "ops/unary.def"
#undef TL_UNARY
  }
  throw RuntimeError("[unary] unknown op");
}
}  // namespace

Tensor neg(const Tensor& x) { TL_CAPTURE_OP(neg, x); return negative(x); }

Tensor step_positive(const Tensor& x) {
  TL_CAPTURE_OP(step_positive, x);
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  kernels::step_positive(out, x);
  return out;
}

}  // namespace tl
