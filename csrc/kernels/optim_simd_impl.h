// The body of one ISA's OptimLoops table; included by optim_simd_{generic,avx2,avx512}.cpp with
// TL_OPTIM_SIMD_NAME set to the accessor's name. Plain loops over __restrict pointers that the
// compiler vectorises for the including file's instruction set; the formulas are Keras 3's,
// operation for operation (see optim_simd.h).
#include <cmath>

#include "kernels/optim_simd.h"

namespace tl::kernels {
namespace {

template <class T>
void sgd_loop(T* __restrict p, const T* __restrict g, int64_t n, const SgdCoef<T>& c) {
  const T lr = c.lr;
  for (int64_t i = 0; i < n; ++i) p[i] -= g[i] * lr;
}

template <class T>
void sgd_momentum_loop(T* __restrict p, const T* __restrict g, T* __restrict m, int64_t n, const SgdCoef<T>& c) {
  const T lr = c.lr, momentum = c.momentum;
  for (int64_t i = 0; i < n; ++i) {
    const T mi = m[i] * momentum - g[i] * lr;
    m[i] = mi;
    p[i] += mi;
  }
}

template <class T>
void sgd_nesterov_loop(T* __restrict p, const T* __restrict g, T* __restrict m, int64_t n, const SgdCoef<T>& c) {
  const T lr = c.lr, momentum = c.momentum;
  for (int64_t i = 0; i < n; ++i) {
    const T gl = g[i] * lr;
    const T mi = m[i] * momentum - gl;
    m[i] = mi;
    p[i] += mi * momentum - gl;
  }
}

template <class T, bool kCentered, bool kMomentum>
void rmsprop_loop(T* __restrict p, const T* __restrict g, T* __restrict v, T* __restrict m, T* __restrict a,
                  int64_t n, const RmspropCoef<T>& c) {
  const T lr = c.lr, rho = c.rho, one_minus_rho = c.one_minus_rho, momentum = c.momentum, epsilon = c.epsilon;
  for (int64_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T vi = rho * v[i] + one_minus_rho * (gi * gi);
    v[i] = vi;
    T denom;
    if constexpr (kCentered) {
      const T ai = rho * a[i] + one_minus_rho * gi;
      a[i] = ai;
      denom = vi - ai * ai + epsilon;
    } else {
      denom = vi + epsilon;
    }
    const T inc = (lr * gi) / std::sqrt(denom);
    if constexpr (kMomentum) {
      const T mi = momentum * m[i] + inc;
      m[i] = mi;
      p[i] -= mi;
    } else {
      p[i] -= inc;
    }
  }
}

template <class T>
void adam_loop(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, int64_t n,
               const AdamCoef<T>& c) {
  const T alpha = c.alpha, b1 = c.one_minus_beta_1, b2 = c.one_minus_beta_2, epsilon = c.epsilon;
  for (int64_t i = 0; i < n; ++i) {
    const T gi = g[i];
    const T mi = m[i] + (gi - m[i]) * b1;
    const T vi = v[i] + (gi * gi - v[i]) * b2;
    m[i] = mi;
    v[i] = vi;
    p[i] -= (mi * alpha) / (std::sqrt(vi) + epsilon);
  }
}

template <class T>
constexpr OptimLoopsT<T> loops_for() {
  return OptimLoopsT<T>{sgd_loop<T>,
                        sgd_momentum_loop<T>,
                        sgd_nesterov_loop<T>,
                        {rmsprop_loop<T, false, false>, rmsprop_loop<T, false, true>, rmsprop_loop<T, true, false>,
                         rmsprop_loop<T, true, true>},
                        adam_loop<T>};
}

}  // namespace

const OptimLoops& TL_OPTIM_SIMD_NAME() {
  static const OptimLoops loops{loops_for<float>(), loops_for<double>()};
  return loops;
}

}  // namespace tl::kernels
