#include "capture/recorder.h"
#include "ops/linear.h"
#include <stdexcept>
#include "autograd/function.h"
#include "core/error.h"
#include "kernels/gemm.h"
#include "ops/binary.h"
#include "ops/linalg.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"
#include "ops/unary.h"

namespace tl {
namespace {

// Gradients, written with differentiable ops so higher-order gradients work:
//   gp = g * (out > 0) for relu (out saved detached), else g
//   dx = gp @ w^T,  dw = x^T @ gp,  db = sum(gp, axis 0)   (x and gp flattened to 2-D)
struct LinearBackward : Node {
  SavedTensor x2d_saved, w_saved, out_saved;  // out: the 2-D output, only kept for relu
  bool relu = false;
  const char* name() const override { return "AddmmBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const Tensor &x2d = unpack(x2d_saved), &w = unpack(w_saved);
    const Shape g2d_shape{x2d.shape()[0], w.shape()[1]};
    Tensor gp = reshape(g, g2d_shape);
    if (relu) {
      const Tensor& out = unpack(out_saved);
      gp = mul(gp, step_positive(out));
    }
    Tensor gx, gw, gb;
    if (needs_input_grad(0)) gx = reshape(matmul(gp, swapaxes(w, 0, 1)), input_meta[0].shape);
    if (needs_input_grad(1)) gw = matmul(swapaxes(x2d, 0, 1), gp);
    if (needs_input_grad(2)) gb = sum(gp, AxisSpec::of({0}));
    // For the plan's rewrites (capture/rewrite.cpp fuses the relu mask with the bias gradient).
    if (capture::recording()) capture::describe({gx, gw, gb}, {x2d, w, relu ? unpack(out_saved) : Tensor()}, relu);
    return {gx, gw, gb};
  }
  void release_saved() override {
    x2d_saved.reset();
    w_saved.reset();
    out_saved.reset();
  }
};

template <class T>
void linear_gemm(const Tensor& out, const Tensor& x2d, const Tensor& w, const Tensor& b, bool relu) {
  const int64_t M = x2d.shape()[0], K = x2d.shape()[1], N = w.shape()[1];
  const GemmOperand A = as_gemm_operand(x2d), B = as_gemm_operand(w);
  kernels::Epilogue<T> ep;
  ep.bias = b.defined() ? b.data<T>() : nullptr;
  ep.act = relu ? kernels::Activation::Relu : kernels::Activation::None;
  kernels::gemm<T>(A.trans, B.trans, M, N, K, T(1), A.keep.data<T>(), A.ld, B.keep.data<T>(), B.ld, T(0),
                   out.data<T>(), std::max<int64_t>(N, 1), ep);
}

}  // namespace

LinearActivation parse_linear_activation(const std::optional<std::string>& name) {
  if (!name || *name == "linear") return LinearActivation::None;
  if (*name == "relu") return LinearActivation::Relu;
  throw std::invalid_argument("[linear] activation must be None, 'linear' or 'relu', got '" + *name + "'");
}

Tensor linear(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, LinearActivation act) {
  TL_CAPTURE_OP(linear, x_in, w_in, b_in, act);
  TL_CHECK(x_in.ndim() >= 1, "linear", "x must have at least 1 dimension, got shape ", shape_str(x_in.shape()));
  TL_CHECK(w_in.ndim() == 2, "linear", "w must be 2-D (in, units), got shape ", shape_str(w_in.shape()));
  const int64_t K = x_in.shape().back(), N = w_in.shape()[1];
  TL_CHECK(K == w_in.shape()[0], "linear", "shapes ", shape_str(x_in.shape()), " and ", shape_str(w_in.shape()),
           " are not aligned: ", K, " (dim ", x_in.ndim() - 1, ") != ", w_in.shape()[0], " (dim 0)");
  if (b_in.defined())
    TL_CHECK(b_in.ndim() == 1 && b_in.shape()[0] == N, "linear", "bias must have shape (", N, ",), got ",
             shape_str(b_in.shape()));
  DType dt = promote_types(x_in.dtype(), w_in.dtype());
  if (b_in.defined()) dt = promote_types(dt, b_in.dtype());
  const bool relu = act == LinearActivation::Relu;
  if (dt != DType::Float32 && dt != DType::Float64) {  // no integer / float16 GEMM epilogue: compose the ops
    Tensor y = matmul(x_in, w_in);
    if (b_in.defined()) y = add(y, b_in);
    return relu ? tl::relu(y) : y;
  }
  const Tensor x = astype(x_in, dt), w = astype(w_in, dt);
  Tensor b = b_in.defined() ? astype(b_in, dt) : Tensor();
  if (b.defined() && !b.is_contiguous()) b = ascontiguousarray(b);
  // Leading dims of x flatten into GEMM rows (a view when x is contiguous enough).
  int64_t M = 1;
  for (int64_t d = 0; d + 1 < x.ndim(); ++d) M *= x.shape()[d];
  const Tensor x2d = x.ndim() == 2 ? x : reshape(x, {M, K});
  Tensor out2d = Tensor::empty({M, N}, dt);
  if (dt == DType::Float32) linear_gemm<float>(out2d, x2d, w, b, relu);
  else linear_gemm<double>(out2d, x2d, w, b, relu);
  Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  out_shape.push_back(N);
  Tensor out = x.ndim() == 2 ? out2d : not_a_view(reshape(out2d, out_shape));
  // For the epilogue rewrite (capture/rewrite.cpp).
  if (capture::recording()) capture::describe({out2d}, {x2d, w, b}, static_cast<int64_t>(act));
  if (auto node = record<LinearBackward>(out, {x, w, b})) {
    node->x2d_saved = x2d;
    node->w_saved = w;
    node->relu = relu;
    if (relu) node->out_saved.save_output(out2d);
  }
  return out;
}

}  // namespace tl
