// Sorting, searching and scans along the last axis of contiguous data (the ops move the axis).
//
// Value sorts (no indices) of float32/64, int32/64 and uint32/64 on CPUs with AVX2 are a
// vectorised quicksort (sort_simd.h) whose result is bit for bit a stable sort's. Everything
// else is an LSD radix sort on order-preserving unsigned keys (11-bit digits; a digit whose
// histogram is one bucket is skipped), so it is stable, O(n) and branch-free, and ascending and
// descending are both stable (descending inverts the key). Floats follow NumPy's order: NaNs
// last in both directions, -0.0 and +0.0 equal (kept in input order). Rows shorter than
// kRadixMinRow use std::stable_sort on the same keys.
#pragma once
#include <cstdint>
#include "core/tensor.h"

namespace tl::kernels {

constexpr int64_t kRadixMinRow = 256;

// x: contiguous (rows, n) of any dtype. values (same dtype, contiguous) and/or indices (int64,
// contiguous) receive the sorted rows; an undefined Tensor skips that output.
void sort_rows(const Tensor& x, int64_t rows, int64_t n, bool descending, const Tensor& values,
               const Tensor& indices);

// Moves the first element of each run of equal values of the sorted 1-D contiguous s to its
// front, in order, and returns how many there are (NaNs are all distinct, as the standard says).
int64_t compact_runs(const Tensor& s);

// Inclusive scans along the middle dim of contiguous x viewed as (outer, n, inner), into out
// (x's dtype and shape, contiguous). reverse: from the end (the adjoint of cumulative_sum).
enum class ScanOp { Sum, Prod };
void scan(ScanOp op, const Tensor& x, const Tensor& out, int64_t outer, int64_t n, int64_t inner, bool reverse);

// The gradient of an inclusive cumulative product along (outer, n, inner), exact with zeros:
// grad_i = (x_0 ... x_{i-1}) * S_i with S_i = g_i + x_{i+1} S_{i+1}. Float dtypes, contiguous.
void cumprod_grad(const Tensor& x, const Tensor& g, const Tensor& out, int64_t outer, int64_t n, int64_t inner);

// out[j] = the insertion point of v[j] into the sorted 1-D `sorted` (NumPy's searchsorted; NaN
// sorts last). sorted, v: contiguous, same dtype; out: int64 contiguous with v's numel.
void searchsorted(const Tensor& sorted, const Tensor& v, bool right, const Tensor& out);

}  // namespace tl::kernels
