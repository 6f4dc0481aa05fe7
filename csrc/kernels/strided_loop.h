// strided_loop: the one N-operand iterator behind elementwise kernels (NumPy's ufunc loop).
// It drops size-1 dims, orders the dims by operand 0's strides (so an output written through a
// transposed view is still walked along its memory), merges dims that are contiguous with each
// other for every operand, then calls inner(ptrs, byte_strides, n) over the last dim for each
// outer index, in parallel for large work. Inner loops test the strides to pick a contiguous
// (all == itemsize), scalar-broadcast (stride 0) or general path.
//
// No heap allocation: the geometry lives in fixed arrays of kMaxDims (NumPy's limit is 64; we
// refuse more than 32 dims of size > 1 with a ValueError before touching memory: such a tensor
// has at least 2^33 elements; size-1 dims are dropped first, so any number of those is fine). The inner callable must
// be purely elementwise (every operand indexed by the same multi-index): dims may be permuted.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include "core/shape.h"
#include "kernels/denormal.h"
#include "kernels/parallel.h"
#include "kernels/view.h"

namespace tl {

constexpr int kMaxDims = 32;

// A fixed-capacity list of dims with the few vector operations the loops use.
struct LoopDims {
  int64_t v[kMaxDims];
  int n = 0;
  size_t size() const { return static_cast<size_t>(n); }
  bool empty() const { return n == 0; }
  int64_t& operator[](size_t i) { return v[i]; }
  const int64_t& operator[](size_t i) const { return v[i]; }
  int64_t& back() { return v[n - 1]; }
  void push_back(int64_t x) { v[n++] = x; }
  const int64_t* begin() const { return v; }
  const int64_t* end() const { return v + n; }
};

template <int N>
struct LoopGeometry {
  LoopDims shape;                          // coalesced, outermost first
  std::array<LoopDims, N> byte_strides;    // per operand, coalesced
};

// S: Shape (std::vector) or kernels::Dims (a StridedView's), indexable with size().
template <int N, class S>
LoopGeometry<N> coalesce_loop_impl(const S& shape, const std::array<const S*, N>& elem_strides,
                                   const std::array<int64_t, N>& itemsizes) {
  const int ndim = static_cast<int>(shape.size());
  int nonunit = 0;
  for (int d = 0; d < ndim; ++d) nonunit += shape[d] != 1;
  if (nonunit > kMaxDims)
    throw std::invalid_argument("[elementwise] tensors with more than " + std::to_string(kMaxDims) +
                                " dimensions of size > 1 are not supported (got " + std::to_string(nonunit) + ")");
  // Non-unit dims, then a stable sort by |stride of operand 0|, largest first, when operand
  // 0 is not already in that order (fresh outputs are: the sort is skipped).
  int order[kMaxDims];
  int m = 0;
  for (int d = 0; d < ndim; ++d)
    if (shape[d] != 1) order[m++] = d;
  const S& s0 = *elem_strides[0];
  bool sorted = true;
  for (int i = 1; i < m && sorted; ++i) sorted = std::llabs(s0[order[i - 1]]) >= std::llabs(s0[order[i]]);
  if (!sorted) {
    for (int i = 1; i < m; ++i) {
      int v = order[i], j = i;
      while (j > 0 && std::llabs(s0[order[j - 1]]) < std::llabs(s0[v])) { order[j] = order[j - 1]; --j; }
      order[j] = v;
    }
  }
  LoopGeometry<N> g;
  for (int i = 0; i < m; ++i) {
    const int d = order[i];
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

template <int N>
LoopGeometry<N> coalesce_loop(const Shape& shape, const std::array<const Strides*, N>& elem_strides,
                              const std::array<int64_t, N>& itemsizes) {
  return coalesce_loop_impl<N, Shape>(shape, elem_strides, itemsizes);
}

template <int N, class S, class Inner>
void strided_loop_impl(const S& shape, std::array<char*, N> base, const std::array<const S*, N>& elem_strides,
                       const std::array<int64_t, N>& itemsizes, Inner&& inner) {
  for (int64_t d : shape) if (d == 0) return;
  kernels::DenormalGuard flush_mode;  // small work runs here, not in parallel_for
  const LoopGeometry<N> g = coalesce_loop_impl<N, S>(shape, elem_strides, itemsizes);
  const int nd = g.shape.n;
  if (nd == 0) {
    int64_t st[N] = {};
    inner(base.data(), st, int64_t(1));
    return;
  }
  int64_t inner_strides[N];
  for (int k = 0; k < N; ++k) inner_strides[k] = g.byte_strides[k][nd - 1];
  const int64_t n_inner = g.shape[nd - 1];
  if (nd == 1) {
    if (n_inner < kParallelElementThreshold) {  // small work: no parallel_for round trip
      inner(base.data(), inner_strides, n_inner);
      return;
    }
    parallel_for(0, n_inner, kParallelElementThreshold / 2, [&](int64_t b, int64_t e) {
      std::array<char*, N> p;
      for (int k = 0; k < N; ++k) p[k] = base[k] + b * inner_strides[k];
      inner(p.data(), inner_strides, e - b);
    });
    return;
  }
  int64_t rows = 1;
  for (int d = 0; d < nd - 1; ++d) rows *= g.shape[d];
  int64_t grain = std::max<int64_t>(1, kParallelElementThreshold / 2 / std::max<int64_t>(n_inner, 1));
  auto run_rows = [&](int64_t r0, int64_t r1) {
    // Unravel r0 into an outer index, then walk it like an odometer.
    int64_t idx[kMaxDims];
    std::array<char*, N> p = base;
    int64_t r = r0;
    for (int d = nd - 2; d >= 0; --d) {
      idx[d] = r % g.shape[d];
      r /= g.shape[d];
      for (int k = 0; k < N; ++k) p[k] += idx[d] * g.byte_strides[k][d];
    }
    for (int64_t row = r0; row < r1; ++row) {
      inner(p.data(), inner_strides, n_inner);
      for (int d = nd - 2; d >= 0; --d) {
        for (int k = 0; k < N; ++k) p[k] += g.byte_strides[k][d];
        if (++idx[d] < g.shape[d]) break;
        for (int k = 0; k < N; ++k) p[k] -= g.byte_strides[k][d] * g.shape[d];
        idx[d] = 0;
      }
    }
  };
  if (rows * n_inner < kParallelElementThreshold) {
    run_rows(0, rows);
    return;
  }
  parallel_for(0, rows, grain, run_rows);
}

// inner(char** ptrs, const int64_t* byte_strides, int64_t n)
template <int N, class Inner>
void strided_loop(const Shape& shape, std::array<char*, N> base, const std::array<const Strides*, N>& elem_strides,
                  const std::array<int64_t, N>& itemsizes, Inner&& inner) {
  strided_loop_impl<N, Shape>(shape, base, elem_strides, itemsizes, std::forward<Inner>(inner));
}

// The same over a kernel view's dims (kernels::StridedView::shape / strides).
template <int N, class Inner>
void strided_loop(const kernels::Dims& shape, std::array<char*, N> base,
                  const std::array<const kernels::Dims*, N>& elem_strides, const std::array<int64_t, N>& itemsizes,
                  Inner&& inner) {
  strided_loop_impl<N, kernels::Dims>(shape, base, elem_strides, itemsizes, std::forward<Inner>(inner));
}

// The same over kernel views: operand k is views[k] (its data, strides and itemsize), the loop
// runs over views[0]'s shape (every operand already broadcast to it).
template <int N, class Inner>
void strided_loop(const std::array<const kernels::StridedView*, N>& views, Inner&& inner) {
  std::array<char*, N> base;
  std::array<const kernels::Dims*, N> strides;
  std::array<int64_t, N> sizes;
  for (int k = 0; k < N; ++k) {
    base[k] = views[k]->bytes();
    strides[k] = &views[k]->strides;
    sizes[k] = static_cast<int64_t>(views[k]->itemsize());
  }
  strided_loop_impl<N, kernels::Dims>(views[0]->shape, base, strides, sizes, std::forward<Inner>(inner));
}

}  // namespace tl
