// Every complex64 / complex128 loop, in one translation unit (kernels/complex.cpp) so that the
// generic kernels and their all-dtype dispatch never instantiate anything complex. Each generic
// kernel entry point (copy_cast, fill, unary, binary, where, reduce) hands a complex operand to
// the matching function here; anything not listed raises TypeError naming the op and dtype.
//
// Semantics: NumPy 2's complex loops. The transcendental functions are the C library's (C99
// Annex G special cases), except expm1 / log1p / pow, which follow NumPy's formulas
// (nc_expm1, nc_log1p, npy_cpow: integer exponents by repeated multiplication). Casts from
// complex to a real dtype take the real part (NumPy; bool is "either part nonzero").
#pragma once
#include <vector>
#include "core/scalar.h"
#include "kernels/binary.h"
#include "kernels/reduce.h"
#include "kernels/unary.h"
#include "kernels/view.h"

namespace tl::kernels {

// dst = cast(src) where dst or src (or both) is complex; shapes equal (src may broadcast).
void complex_copy_cast(const StridedView& dst, const StridedView& src);
void complex_fill(const StridedView& dst, Scalar value);

// Neg, Pos, Abs (out is the component dtype), Square, Sign (z / |z|), Reciprocal, Round (each
// part), Exp, Expm1, Log, Log1p, Log2, Log10, Sqrt, the trigonometric and hyperbolic functions
// and their inverses, IsNan / IsFinite / IsInf / LogicalNot (out bool).
void complex_unary(UnaryOp op, const StridedView& out, const StridedView& x);
// out = conj(x), both of x's complex dtype.
void complex_conj(const StridedView& out, const StridedView& x);
// Add, Sub, Mul, Div, Pow (out complex); Eq, Ne, LogicalAnd / Or / Xor (out bool).
void complex_binary(BinaryOp op, const StridedView& out, const StridedView& a, const StridedView& b);
void complex_where(const StridedView& out, const StridedView& cond, const StridedView& x, const StridedView& y);
// Sum, Prod, Mean (out x's complex dtype; accumulated in complex128), All, Any (out bool).
void complex_reduce(ReduceOp op, const StridedView& out, const StridedView& x, const std::vector<bool>& mask);

// Inclusive running products (cumulative_prod) along the middle dim of contiguous x viewed as
// (outer, n, inner), into out of the same complex dtype; each step is the textbook product
// without `*`'s Annex G recovery, as NumPy's multiply.accumulate.
void complex_cumprod(DType dtype, const void* x, void* out, int64_t outer, int64_t n, int64_t inner);

}  // namespace tl::kernels
