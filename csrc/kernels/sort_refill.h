// The last step of a float value sort whose keys merge -0.0 with +0.0 and every NaN into one
// (sort.cpp's radix sort, sort_avx2.cpp's quicksort): the run of zeros, which starts after the
// `below_zero` keys smaller than zero's, and the NaN tail (the last `nans`) are rewritten from x
// in input order, so signs and NaN payloads come out as NumPy's stable sort gives them.
// Internal linkage: each including file (compiled for its own ISA) keeps its own copy.
#pragma once
#include <cstdint>

namespace tl::kernels {
namespace {

template <class T>
inline void refill_zeros_and_nans(const T* x, int64_t n, int64_t below_zero, int64_t zeros, int64_t nans,
                                  T* values) {
  if (nans == 0 && zeros == 0) return;
  int64_t z = below_zero, q = n - nans;
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] == T(0)) values[z++] = x[i];
    else if (x[i] != x[i]) values[q++] = x[i];
  }
}

}  // namespace
}  // namespace tl::kernels
