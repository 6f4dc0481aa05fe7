// strided_loop: the one N-operand iterator behind elementwise kernels (NumPy's ufunc loop).
// It drops size-1 dims, merges dims that are contiguous with each other for every operand,
// then calls inner(ptrs, byte_strides, n) over the last dim for each outer index, in parallel
// for large work. Inner loops test the strides to pick a contiguous (all == itemsize),
// scalar-broadcast (stride 0) or general path.
#pragma once
#include <array>
#include <cstdint>
#include <vector>
#include "core/shape.h"
#include "kernels/parallel.h"

namespace tl {

template <int N>
struct LoopGeometry {
  std::vector<int64_t> shape;                        // coalesced
  std::array<std::vector<int64_t>, N> byte_strides;  // per operand, coalesced
};

template <int N>
LoopGeometry<N> coalesce_loop(const Shape& shape, const std::array<const Strides*, N>& elem_strides,
                              const std::array<int64_t, N>& itemsizes) {
  LoopGeometry<N> g;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !g.shape.empty();
    for (int k = 0; k < N && merge; ++k) {
      int64_t s = (*elem_strides[k])[d] * itemsizes[k];
      merge = g.byte_strides[k].back() == s * shape[d];
    }
    if (merge) {
      g.shape.back() *= shape[d];
      for (int k = 0; k < N; ++k) g.byte_strides[k].back() = (*elem_strides[k])[d] * itemsizes[k];
    } else {
      g.shape.push_back(shape[d]);
      for (int k = 0; k < N; ++k) g.byte_strides[k].push_back((*elem_strides[k])[d] * itemsizes[k]);
    }
  }
  return g;
}

// inner(char** ptrs, const int64_t* byte_strides, int64_t n)
template <int N, class Inner>
void strided_loop(const Shape& shape, std::array<char*, N> base, const std::array<const Strides*, N>& elem_strides,
                  const std::array<int64_t, N>& itemsizes, Inner&& inner) {
  for (int64_t d : shape) if (d == 0) return;
  LoopGeometry<N> g = coalesce_loop<N>(shape, elem_strides, itemsizes);
  const int64_t nd = static_cast<int64_t>(g.shape.size());
  if (nd == 0) {
    int64_t st[N] = {};
    inner(base.data(), st, int64_t(1));
    return;
  }
  int64_t inner_strides[N];
  for (int k = 0; k < N; ++k) inner_strides[k] = g.byte_strides[k][nd - 1];
  const int64_t n_inner = g.shape[nd - 1];
  if (nd == 1) {
    parallel_for(0, n_inner, kParallelElementThreshold / 2, [&](int64_t b, int64_t e) {
      std::array<char*, N> p;
      for (int k = 0; k < N; ++k) p[k] = base[k] + b * inner_strides[k];
      inner(p.data(), inner_strides, e - b);
    });
    return;
  }
  int64_t rows = 1;
  for (int64_t d = 0; d < nd - 1; ++d) rows *= g.shape[d];
  int64_t grain = std::max<int64_t>(1, kParallelElementThreshold / 2 / std::max<int64_t>(n_inner, 1));
  parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
    // Unravel r0 into an outer index, then walk it like an odometer.
    std::vector<int64_t> idx(nd - 1, 0);
    std::array<char*, N> p = base;
    int64_t r = r0;
    for (int64_t d = nd - 2; d >= 0; --d) {
      idx[d] = r % g.shape[d];
      r /= g.shape[d];
      for (int k = 0; k < N; ++k) p[k] += idx[d] * g.byte_strides[k][d];
    }
    for (int64_t row = r0; row < r1; ++row) {
      inner(p.data(), inner_strides, n_inner);
      for (int64_t d = nd - 2; d >= 0; --d) {
        for (int k = 0; k < N; ++k) p[k] += g.byte_strides[k][d];
        if (++idx[d] < g.shape[d]) break;
        for (int k = 0; k < N; ++k) p[k] -= g.byte_strides[k][d] * g.shape[d];
        idx[d] = 0;
      }
    }
  });
}

}  // namespace tl
