// Contiguous optimizer update loops (SGD, RMSprop, Adam; float32 and float64), compiled once
// per ISA (optim_simd_generic.cpp at baseline SSE2, optim_simd_avx2.cpp, optim_simd_avx512.cpp)
// from one source (optim_simd_impl.h) and picked at run time by kernels::active_isa() (cpu.h).
//
// Every file is built with -fno-math-errno (sqrt is one instruction, so the loops vectorise)
// and -ffp-contract=off: each operation rounds once, exactly as Keras's op-by-op formula does,
// so every ISA, every vector width and the scalar tails give bit-identical results (and the
// result does not depend on how a step is split between threads).
//
// The loops take hyperparameters already cast to T (see optim.cpp) and __restrict pointers:
// callers guarantee that no written buffer overlaps any other buffer of the same call.
#pragma once
#include <cstdint>

namespace tl::kernels {

template <class T>
struct SgdCoef {
  T lr, momentum;
};
template <class T>
struct RmspropCoef {
  T lr, rho, one_minus_rho, momentum, epsilon;
};
template <class T>
struct AdamCoef {
  T alpha, one_minus_beta_1, one_minus_beta_2, epsilon;
};

template <class T>
struct OptimLoopsT {
  // p -= g * lr
  void (*sgd)(T* p, const T* g, int64_t n, const SgdCoef<T>& c);
  // m = m * momentum - g * lr; p += m       (nesterov: p += m * momentum - g * lr)
  void (*sgd_momentum)(T* p, const T* g, T* m, int64_t n, const SgdCoef<T>& c);
  void (*sgd_nesterov)(T* p, const T* g, T* m, int64_t n, const SgdCoef<T>& c);
  // Indexed by 2 * centered + with_momentum; unused slot pointers may be null.
  //   v = rho * v + (1 - rho) * g^2
  //   centered: a = rho * a + (1 - rho) * g; d = v - a^2 + eps     else d = v + eps
  //   inc = lr * g / sqrt(d)
  //   momentum: m = momentum * m + inc; p -= m                     else p -= inc
  void (*rmsprop[4])(T* p, const T* g, T* v, T* m, T* a, int64_t n, const RmspropCoef<T>& c);
  //   m += (g - m) * (1 - beta_1); v += (g^2 - v) * (1 - beta_2); p -= (m * alpha) / (sqrt(v) + eps)
  void (*adam)(T* p, const T* g, T* m, T* v, int64_t n, const AdamCoef<T>& c);
};

struct OptimLoops {
  OptimLoopsT<float> f32;
  OptimLoopsT<double> f64;
};

const OptimLoops& optim_loops_generic();
const OptimLoops& optim_loops_avx2();
const OptimLoops& optim_loops_avx512();
// The table of the active ISA.
const OptimLoops& optim_loops();

}  // namespace tl::kernels
