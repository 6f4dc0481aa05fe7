// The body of one ISA's F32UnaryLoops table; included by unary_simd_{generic,avx2,avx512}.cpp
// with TL_UNARY_SIMD_NAME set to the accessor's name. Plain loops over vmath.h: the compiler
// vectorises them for the including file's instruction set.
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
void sigmoid_loop(float* o, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = vmath::sigmoid_f32(x[i]);
}

void isinf_loop(bool* o, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = __builtin_fabsf(x[i]) == __builtin_inff();
}
void signbit_loop(bool* o, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u;
    __builtin_memcpy(&u, &x[i], sizeof u);
    o[i] = bool(u >> 31);
  }
}

}  // namespace

const F32UnaryLoops& TL_UNARY_SIMD_NAME() {
  static const F32UnaryLoops loops{exp_loop, tanh_loop, sigmoid_loop, isinf_loop, signbit_loop};
  return loops;
}

}  // namespace tl::kernels
