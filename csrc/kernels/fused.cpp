// Built for baseline x86-64 like the elementwise kernels it replaces: no FMA contraction, so each
// product and difference rounds as the separate eager kernels round it.
#include "kernels/fused.h"
#include <algorithm>
#include <stdexcept>

namespace tl::kernels {
namespace {

template <class T, Activation A>
void rows(T* gp, const T* g, const T* y, int64_t M, int64_t N, T* gb) {
  constexpr int64_t kBlock = 512;  // columns per sweep: the bias accumulators stay in L1
  for (int64_t j0 = 0; j0 < N; j0 += kBlock) {
    const int64_t n = std::min(kBlock, N - j0);
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
  switch (act) {
    case Activation::Tanh: return rows<T, Activation::Tanh>(gp, g, y, M, N, gb);
    case Activation::Sigmoid: return rows<T, Activation::Sigmoid>(gp, g, y, M, N, gb);
    case Activation::Relu: return rows<T, Activation::Relu>(gp, g, y, M, N, gb);
    case Activation::None: break;
  }
  throw std::invalid_argument("[activation_grad_bias] needs an activation");
}

template void activation_grad_bias<float>(float*, const float*, const float*, int64_t, int64_t, Activation, float*);
template void activation_grad_bias<double>(double*, const double*, const double*, int64_t, int64_t, Activation,
                                           double*);

}  // namespace tl::kernels
