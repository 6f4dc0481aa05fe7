// Unary elementwise kernels: out[i] = f(x[i]). The caller picks the compute dtype (NumPy's
// result dtype) and casts x to it first, except for the predicates (IsNan, IsFinite,
// LogicalNot), which read x in its own dtype and write bool.
//
//   Neg / Abs / Square wrap around on integers like NumPy (abs(INT_MIN) == INT_MIN).
//   Sign keeps NaN and zeros; Relu is max(x, 0) keeping NaN (np.maximum(x, 0)).
//   Exp / Tanh / Sigmoid on float32 use the vectorisable polynomials of vmath.h; float64 and
//   the other transcendental functions call libm.
//   BitNot is ~ on integers and logical not on bool.
//   StepPositive: 1 where x > 0 else 0, in x's dtype (relu's derivative; a backward helper).
#pragma once
#include "core/tensor.h"

namespace tl::kernels {

enum class UnaryOp : uint8_t {
  Neg, Abs, Square, Sign, Exp, Log, Sqrt, Sin, Cos, Tanh, Sigmoid, Relu, BitNot, Erf, Expm1, Log1p,
  StepPositive,
  IsNan, IsFinite, LogicalNot,  // out is bool
};

void unary(UnaryOp op, const Tensor& out, const Tensor& x);

}  // namespace tl::kernels
