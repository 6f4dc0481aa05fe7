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

// Positions of the true elements of a contiguous bool array of `shape` (NumPy's nonzero):
// rows[k][j] is the k-th coordinate of the j-th true element, C order; each row has room for
// count_true(data, numel) entries.
void nonzero(const bool* data, const std::vector<int64_t>& shape, int64_t* const* rows);

// Fast paths for the commonest advanced indexes: one index array on the leading dim of a view
// whose rows are single elements (`row_bytes == itemsize`, any element stride) or contiguous
// rows of `row_bytes`. They do what gather/scatter do without the per-element offset tables.
// `a_stride` is the byte distance between rows of `a`.
//
// d[k] = a[idx[k]] for k < n (negative idx counts from the end). Parallel. Returns the first k
// whose index is outside [-size, size), or -1; d is then partly written (the caller discards it).
int64_t take_rows(const char* a, int64_t size, int64_t a_stride, const int64_t* idx, int64_t n, char* d,
                  int64_t row_bytes, size_t itemsize);
// The first k with idx[k] outside [-size, size), or -1.
int64_t first_bad_index(const int64_t* idx, int64_t n, int64_t size);
// a[idx[k]] = d[k * d_stride] (byte stride; 0 broadcasts one row), for indices already checked
// by first_bad_index. Serial, so a repeated index keeps the last write, as NumPy.
void put_rows(char* a, int64_t size, int64_t a_stride, const int64_t* idx, int64_t n, const char* d, int64_t d_stride,
              int64_t row_bytes, size_t itemsize);
// The number of true elements of a contiguous bool array.
int64_t count_true(const bool* m, int64_t n);
// Copies the rows i of `a` with m[i] true, in order, to the dense d (room for count_true rows).
void mask_rows(const char* a, int64_t a_stride, const bool* m, int64_t n, char* d, int64_t row_bytes,
               size_t itemsize);
// Flat positions (C order) of the true elements of a contiguous bool array: out has room for
// count_true(m, n) of them.
void flat_nonzero(const bool* m, int64_t n, int64_t* out);

}  // namespace tl::kernels
