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
//   MaxGradWeight(x, y): 1 where x > y, 0.5 where x == y, 0 elsewhere (x's share of the gradient of
//     maximum; minimum uses it with the operands swapped). A backward helper, not recorded.
#pragma once
#include "core/tensor.h"

namespace tl::kernels {

enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Max, Min,
  BitAnd, BitOr, BitXor,           // integer / bool dtypes only
  Eq, Ne, Lt, Le, Gt, Ge,          // out is bool
  LogicalAnd, LogicalOr, LogicalXor,  // out is bool, inputs any dtype (truthiness)
  MaxGradWeight,
};

bool is_comparison(BinaryOp op);
bool is_logical(BinaryOp op);

void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);

// out = cond ? x : y; cond is bool, x / y / out share one dtype; all already broadcast.
void where(const Tensor& out, const Tensor& cond, const Tensor& x, const Tensor& y);

// True if any element of an integer tensor is negative (power's exponent check).
bool any_negative(const Tensor& t);

}  // namespace tl::kernels
