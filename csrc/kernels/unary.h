// Unary elementwise kernels: out[i] = f(x[i]). The op (ops/unary.h) picks the compute dtype
// (NumPy's result dtype) and casts x to it first, except for the ToBool ops (IsNan, IsFinite, IsInf, Signbit,
// LogicalNot), which read x in its own dtype and write bool.
//
//   Neg / Abs / Square wrap around on integers like NumPy (abs(INT_MIN) == INT_MIN).
//   Sign keeps NaN and zeros; Relu is max(x, 0) keeping NaN (np.maximum(x, 0)).
//   Reciprocal on integers is 1 / x truncated, and 0 for x == 0 (NumPy: undefined there).
//   Floor / Ceil / Trunc / Round keep integers as they are; Round is half-to-even (np.round).
//   Exp / Tanh / Sigmoid on float32 use the vectorisable polynomials of vmath.h; float64 and
//   the other transcendental functions call libm.
//   BitNot is ~ on integers and logical not on bool.
#pragma once
#include <vector>
#include "core/error.h"
#include "kernels/view.h"

namespace tl::kernels {

// One case per line of ops/unary.def, in its order.
enum class UnaryOp : uint8_t {
#define TL_UNARY(name, K, ...) K,
#include "ops/unary.def"
#undef TL_UNARY
};

// The dtypes column of the table: which input dtypes an op takes and its result dtype (the
// rules are in ops/unary.cpp's result_dtype; the kernel only needs to know ToBool).
enum class UnaryDTypes : uint8_t { Same, NoBool, Integral, Float, Round, ToBool };

inline UnaryDTypes unary_dtypes(UnaryOp op) {
  static constexpr UnaryDTypes table[] = {
#define TL_UNARY(name, K, dtypes, ...) UnaryDTypes::dtypes,
#include "ops/unary.def"
#undef TL_UNARY
  };
  return table[static_cast<int>(op)];
}

// The op's Python name ("arcsin"), for messages.
inline const char* unary_op_name(UnaryOp op) {
  static constexpr const char* names[] = {
#define TL_UNARY(name, ...) #name,
#include "ops/unary.def"
#undef TL_UNARY
  };
  return names[static_cast<int>(op)];
}

void unary(UnaryOp op, const StridedView& out, const StridedView& x);

// Backward-only helper (not a public op): out = 1 where x > 0 else 0, in x's dtype (relu's
// derivative; out and x share x's shape and dtype).
void step_positive(const StridedView& out, const StridedView& x);

}  // namespace tl::kernels
