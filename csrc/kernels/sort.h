// Sorting and searching along the last axis of contiguous data (the ops move the axis); the
// scans are in kernels/scan.h.
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
// front, in order, and returns how many there are, m (NaNs are all distinct, as the standard
// says; -0.0 and +0.0 are one run). A defined counts (int64, contiguous, s's numel) receives
// each run's length in its first m elements, in the same pass.
int64_t compact_runs(const Tensor& s, const Tensor& counts = Tensor());

// out[j] = the insertion point of v[j] into the sorted 1-D `sorted` (NumPy's searchsorted; NaN
// sorts last). sorted, v: contiguous, same dtype; out: int64 contiguous with v's numel.
void searchsorted(const Tensor& sorted, const Tensor& v, bool right, const Tensor& out);

}  // namespace tl::kernels
