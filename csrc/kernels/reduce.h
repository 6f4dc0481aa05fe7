// Reduction kernels: pure compute over raw strided data, no autograd.
//
// The caller allocates `out` contiguous in the keepdims shape of the reduction and with the
// result dtype below; the kernel fills it. Geometry: the dims of x are ordered by stride,
// size-1 dims dropped and neighbours merged, and the result is matched against
//   (A, R, I): A kept outer rows, R reduced, I kept inner
// - I == 1, R contiguous: row reduction (last axes). Each row is reduced pairwise with eight
//   independent accumulators (NumPy's scheme: blocks of 128, unrolled by 8), so float32 sums
//   are as accurate as NumPy's and the compiler vectorises the block loop.
// - I > 1: column reduction (first/outer axes): rows of x accumulated into an output row,
//   vectorisable over I (the bias-gradient case (128,512) -> (512,)).
// - anything else (reduced axes interleaved with kept ones): one general strided path.
// Work is split over independent outputs only (rows of A, blocks of I), never within one
// accumulator, so parallel_for chunks on several threads never write the same element.
#pragma once
#include <vector>
#include <vector>
#include "core/error.h"
#include "kernels/view.h"

namespace tl::kernels {

enum class ReduceOp : uint8_t { Sum, Prod, Mean, Max, Min, All, Any };

// Result dtype of `op` for input dtype `in` (NumPy 2 on linux, except uint8 sum/prod -> int64
// because the core has no uint64): Sum/Prod: int64 for bool and integers, else the input
// dtype; Mean: float64 for bool/integers; Max/Min: the input dtype; All/Any: bool.
DType reduce_result_dtype(ReduceOp op, DType in);

// out (contiguous, keepdims shape, reduce_result_dtype) = op over the axes where mask is true.
// Sum/Prod also take out in x's own dtype: they then accumulate in it (integers wrap, bool is
// or / and), which is NumPy's sum(x.astype(d), dtype=d).
// A group with no elements gives the identity (0, 1, true, false) and nan for Mean; callers
// reject empty Max/Min groups before calling.
void reduce(ReduceOp op, const StridedView& out, const StridedView& x, const std::vector<bool>& mask);

// Index of the first maximum (is_max) or minimum along `axis` of x (axis < 0: over the
// flattened tensor); NaN counts as the extremum (the first NaN wins), as NumPy. x and out are
// contiguous, out int64 with numel = numel(x) / shape[axis]. The axis must not be empty.
void arg_reduce(bool is_max, const StridedView& out, const StridedView& x, int64_t axis);

// w (x's shape and dtype, contiguous) = 1 where x equals m (broadcast to x's shape; NaN
// matches NaN), else 0. The tie mask behind max/min gradients.
void equal_mask(const StridedView& w, const StridedView& x, const StridedView& m_broadcast);

// out = sum over the masked axes of (x - m)^2, m the mean (both contiguous, keepdims shape,
// x's float dtype): the second pass of var/std without temporaries. Row sums are pairwise like
// sum's. Returns false, leaving out untouched, for layouts without a row/column fast path.
bool sum_sq_dev(const StridedView& out, const StridedView& x, const StridedView& m, const std::vector<bool>& mask);

// Reference (plain, slow, obviously right) reduction used by tests of the fast paths: one
// loop per output element over the multi-index. Same contract as reduce().
void reduce_reference(ReduceOp op, const StridedView& out, const StridedView& x, const std::vector<bool>& mask);

}  // namespace tl::kernels
