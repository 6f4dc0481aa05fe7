// The body of one ISA's F32UnaryLoops table; included by unary_simd_{generic,avx2,avx512}.cpp
// with TL_UNARY_SIMD_NAME set to the accessor's name. Plain loops over vmath.h: the compiler
// vectorises them for the including file's instruction set.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/unary_simd.h"
#include "kernels/vmath.h"

namespace tl::kernels {
namespace {

void exp_loop(float* o, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = vmath::exp_f32(x[i]);
}
void tanh_loop(float* o, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = vmath::tanh_f32(x[i]);
}
void tanh64_loop(double* o, const double* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = vmath::tanh_f64(x[i]);
}
void sigmoid_loop(float* o, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = vmath::sigmoid_f32(x[i]);
}

// The two float tests, as templates over float and double (the sign is the top bit of T's bits).
template <class T> void isinf_loop(bool* o, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = std::fabs(x[i]) == std::numeric_limits<T>::infinity();
}
template <class T> void signbit_loop(bool* o, const T* x, int64_t n) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  for (int64_t i = 0; i < n; ++i) {
    Bits u;
    __builtin_memcpy(&u, &x[i], sizeof u);
    o[i] = bool(u >> (8 * sizeof(T) - 1));
  }
}

// The roundings and float64 tests, as templates over float and double. The builtins become one
// round instruction per vector with SSE4.1 (the AVX2 and AVX-512 files); at baseline, libm calls.
template <class T> void floor_loop(T* o, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = __builtin_floor(x[i]);
}
template <class T> void ceil_loop(T* o, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = __builtin_ceil(x[i]);
}
template <class T> void trunc_loop(T* o, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = __builtin_trunc(x[i]);
}
template <class T> void round_loop(T* o, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = __builtin_nearbyint(x[i]);
}

}  // namespace

const F32UnaryLoops& TL_UNARY_SIMD_NAME() {
  static const F32UnaryLoops loops{exp_loop,          tanh_loop,          sigmoid_loop,        isinf_loop<float>,
                                   signbit_loop<float>, floor_loop<float>,  ceil_loop<float>,    trunc_loop<float>,
                                   round_loop<float>, floor_loop<double>, ceil_loop<double>,   trunc_loop<double>,
                                   round_loop<double>, isinf_loop<double>, signbit_loop<double>,      tanh64_loop};
  return loops;
}

}  // namespace tl::kernels
