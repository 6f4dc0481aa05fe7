// Unary elementwise ops, recorded for autograd where differentiable. Result dtypes follow
// NumPy, except that where NumPy gives float16 (uint8 / bool inputs of exp, log, sqrt, sin, cos,
// tanh, sigmoid) tensorlet, which has no float16, gives float32. int32 / int64 give float64.
#pragma once
#include "core/tensor.h"
#include "kernels/unary.h"

namespace tl {

Tensor abs(const Tensor& x);      // gradient sign(x) (0 at 0)
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor square(const Tensor& x);   // TypeError on bool (NumPy gives int8)
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);  // 1 / (1 + exp(-x)), stable for any x
Tensor relu(const Tensor& x);     // max(x, 0), keeps the dtype; gradient 0 at 0
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor log1p(const Tensor& x);
// Not differentiable.
Tensor sign(const Tensor& x);
Tensor isnan(const Tensor& x);
Tensor isfinite(const Tensor& x);
Tensor logical_not(const Tensor& x);
Tensor invert(const Tensor& x);   // ~: bitwise not on integers, logical not on bool

// The float dtype a transcendental function computes in for an input dtype.
DType float_result_dtype(DType d);
// Raw (unrecorded) kernel call into a fresh tensor of dtype `out_dtype` (x already cast).
Tensor unary_raw(kernels::UnaryOp op, const Tensor& x, DType out_dtype);

}  // namespace tl
