// Unary elementwise ops, one function per line of ops/unary.def (the op table), recorded for
// autograd where the table gives a derivative (ops/unary_grad.cpp). Result dtypes follow NumPy 2
// (the table's dtypes column), except that where NumPy gives float16 (bool / uint8 inputs of exp,
// log, sin, ..., and round of bool) tensorlet, which has no float16, gives float32; int32 / int64
// give float64. Unsupported dtypes raise TypeError naming the op and the dtype.
#pragma once
#include "core/tensor.h"
#include "kernels/unary.h"

namespace tl {

// tl::negative(x), tl::exp(x), ... (Tensor name(const Tensor& x) for every table line).
#define TL_UNARY(name, ...) Tensor name(const Tensor& x);
#include "ops/unary.def"
#undef TL_UNARY

// Short name of negative, used by derivative formulas.
Tensor neg(const Tensor& x);
// relu's derivative as a mask: 1 where x > 0 else 0, in x's dtype (a backward helper for
// relu and the fused relu epilogues of linear / conv; not differentiable).
Tensor step_positive(const Tensor& x);

// The float dtype a transcendental function computes in for an input dtype.
DType float_result_dtype(DType d);
// The result dtype of a table op for an input dtype; TypeError naming both when unsupported.
DType unary_result_dtype(kernels::UnaryOp op, DType in);
// Raw (unrecorded) kernel call into a fresh tensor of dtype `out_dtype` (x already cast).
Tensor unary_raw(kernels::UnaryOp op, const Tensor& x, DType out_dtype);

}  // namespace tl
