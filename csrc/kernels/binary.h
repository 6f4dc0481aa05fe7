// Binary (and the one ternary, where) elementwise kernels. Inputs are already cast to one
// compute dtype and broadcast (stride-0 views) to the output's shape; the output dtype is the
// compute dtype, or bool for comparisons and logical ops. Pure compute: no promotion, no
// autograd, no validation beyond what the caller guarantees.
//
// Semantics follow NumPy's ufunc loops:
//   FloorDiv / Mod: Python's sign rules (npy_divmod for floats); integer division by zero
//     gives 0 and INT_MIN // -1 wraps to INT_MIN (NumPy warns; we do not crash).
//   Pow on integers: exponentiation by squaring with wrap-around; callers reject negative
//     exponents first (any_negative below).
//   Max / Min: NaN-propagating (np.maximum / np.minimum).
//   Hypot / LogAddExp / Atan2 / CopySign / NextAfter: float dtypes only (the C library's, with
//     its IEEE special cases; NumPy's npy_logaddexp).
#pragma once
#include <vector>
#include "core/error.h"
#include "kernels/view.h"

namespace tl::kernels {

// One case per line of ops/binary.def, in its order.
enum class BinaryOp : uint8_t {
#define TL_BINARY(name, K, ...) K,
#include "ops/binary.def"
#undef TL_BINARY
};

// The dtypes column of the table (the rules are in ops/binary.cpp's binary_spec).
enum class BinaryDTypes : uint8_t { Same, NoBool, TrueDiv, Float, Integral, Compare, Logical };

inline BinaryDTypes binary_dtypes(BinaryOp op) {
  static constexpr BinaryDTypes table[] = {
#define TL_BINARY(name, K, fn, dtypes, ...) BinaryDTypes::dtypes,
#include "ops/binary.def"
#undef TL_BINARY
  };
  return table[static_cast<int>(op)];
}

// NumPy's ufunc name of an op ("add", "floor_divide", ...), for messages.
inline const char* binary_op_name(BinaryOp op) {
  static constexpr const char* names[] = {
#define TL_BINARY(name, ...) #name,
#include "ops/binary.def"
#undef TL_BINARY
  };
  return names[static_cast<int>(op)];
}

inline bool is_comparison(BinaryOp op) { return binary_dtypes(op) == BinaryDTypes::Compare; }
inline bool is_logical(BinaryOp op) { return binary_dtypes(op) == BinaryDTypes::Logical; }

void binary(BinaryOp op, const StridedView& out, const StridedView& a, const StridedView& b);

// out = cond ? x : y; cond is bool, x / y / out share one dtype; all already broadcast.
void where(const StridedView& out, const StridedView& cond, const StridedView& x, const StridedView& y);

// Backward-only helper (not a public op): w = 1 where x > y, 0.5 where x == y, 0 elsewhere
// (x's share of the gradient of maximum; minimum uses it with the operands swapped). Float
// dtypes; w, x, y share one shape and dtype.
void max_grad_weight(const StridedView& w, const StridedView& x, const StridedView& y);

// True if any element of an integer tensor is negative (power's exponent check).
bool any_negative(const StridedView& t);

}  // namespace tl::kernels
