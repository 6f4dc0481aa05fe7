// Gather / scatter kernels behind advanced (integer-array and boolean-mask) indexing.
//
// An advanced index pairs two sides element for element:
//   * the indexed side: a strided tensor `a`, addressed as  a + p_off(p) + idx_off[b] + s_off(s)
//   * the dense side:   a strided tensor `d`, addressed as  d + p_off'(p) + d_off[b] + s_off'(s)
// where p walks the leading dims kept before the advanced dims (P), b walks the broadcast index
// shape (B, pre-resolved into byte offsets on both sides) and s walks the trailing dims (S).
// Gather copies a -> d, scatter copies d -> a (later duplicates win, like NumPy), scatter_add
// accumulates d into a (repeated indices add up). Pure compute: raw pointers, byte strides.
#pragma once
#include <cstdint>
#include <vector>
#include "core/dtype.h"

namespace tl::kernels {

struct IndexLoop {
  std::vector<int64_t> p_shape, p_a, p_d;  // P dims: sizes and byte strides on each side
  std::vector<int64_t> a_off, d_off;       // per b: byte offsets on each side (same length)
  std::vector<int64_t> s_shape, s_a, s_d;  // S dims: sizes and byte strides on each side
};

void gather(char* a, char* d, const IndexLoop& loop, size_t itemsize);
void scatter(char* a, const char* d, const IndexLoop& loop, size_t itemsize);
void scatter_add(char* a, const char* d, const IndexLoop& loop, DType dtype);

// Positions of the true elements of a contiguous bool array of `shape`, as one row per dim
// (NumPy's nonzero): out[k][j] is the k-th coordinate of the j-th true element, C order.
std::vector<std::vector<int64_t>> nonzero(const bool* data, const std::vector<int64_t>& shape);

}  // namespace tl::kernels
