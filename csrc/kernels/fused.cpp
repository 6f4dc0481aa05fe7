// Built for baseline x86-64 like the elementwise kernels it replaces: no FMA contraction, so each
// product and difference rounds as the separate eager kernels round it.
#include "kernels/fused.h"
#include <algorithm>
#include <stdexcept>
#include "kernels/parallel.h"

namespace tl::kernels {
namespace {

constexpr int64_t kColumnUnit = 16;  // columns per split unit: a 64-byte line of float32

// Columns [c0, c1) of the sweep: each column's bias sum runs over the rows in order, whatever
// the column split, so the result does not depend on the threads.
template <class T, Activation A>
void rows(T* gp, const T* g, const T* y, int64_t M, int64_t N, T* gb, int64_t c0, int64_t c1) {
  constexpr int64_t kBlock = 512;  // columns per sweep: the bias accumulators stay in L1
  for (int64_t j0 = c0; j0 < c1; j0 += kBlock) {
    const int64_t n = std::min(kBlock, c1 - j0);
    for (int64_t i = 0; i < M; ++i) {
      const T* gr = g + i * N + j0;
      const T* yr = y + i * N + j0;
      T* o = gp + i * N + j0;
      for (int64_t j = 0; j < n; ++j) {
        T d;
        if constexpr (A == Activation::Tanh) d = T(1) - yr[j] * yr[j];
        else if constexpr (A == Activation::Sigmoid) d = yr[j] * (T(1) - yr[j]);
        else d = yr[j] > T(0) ? T(1) : T(0);
        o[j] = gr[j] * d;
      }
      if (!gb) continue;
      T* b = gb + j0;
      if (i == 0) for (int64_t j = 0; j < n; ++j) b[j] = o[j];
      else for (int64_t j = 0; j < n; ++j) b[j] = b[j] + o[j];
    }
  }
}

}  // namespace

template <class T>
void activation_grad_bias(T* gp, const T* g, const T* y, int64_t M, int64_t N, Activation act, T* gb) {
  if (gb && M == 0) std::fill(gb, gb + N, T(0));
  void (*sweep)(T*, const T*, const T*, int64_t, int64_t, T*, int64_t, int64_t) = nullptr;
  switch (act) {
    case Activation::Tanh: sweep = rows<T, Activation::Tanh>; break;
    case Activation::Sigmoid: sweep = rows<T, Activation::Sigmoid>; break;
    case Activation::Relu: sweep = rows<T, Activation::Relu>; break;
    case Activation::None: throw std::invalid_argument("[activation_grad_bias] needs an activation");
  }
  if (M * N < kParallelElementThreshold / 2 || N < 2 * kColumnUnit) return sweep(gp, g, y, M, N, gb, 0, N);
  // The eager path's mask, product and column sum each run on the pool; so does this one sweep,
  // split by whole cache lines of columns.
  const int64_t units = (N + kColumnUnit - 1) / kColumnUnit;
  parallel_for(0, units, 1, [&](int64_t lo, int64_t hi) {
    sweep(gp, g, y, M, N, gb, lo * kColumnUnit, std::min(N, hi * kColumnUnit));
  });
}

template void activation_grad_bias<float>(float*, const float*, const float*, int64_t, int64_t, Activation, float*);
template void activation_grad_bias<double>(double*, const double*, const double*, int64_t, int64_t, Activation,
                                           double*);

}  // namespace tl::kernels
