// AVX-512F GEMM micro-kernels (this file alone is compiled with -mavx512f...; only reached
// when cpu.h reports AVX-512 support). 32 zmm registers: the wide float tile is 12 x 32
// (24 accumulators, 2 B vectors, A broadcast from memory), the narrow one 16 x 16 for N <= 16.
#include <immintrin.h>
#include "kernels/gemm_ukernel.h"

// GCC 12 warns inside _mm512_max_ps about its own _mm512_undefined_ps() (a false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace tl::kernels {
namespace {

#include "kernels/gemm_pack_x86.h"

struct VecF {
  using T = float;
  using Reg = __m512;
  static constexpr int W = 16;
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg loadu(const T* p) { return _mm512_loadu_ps(p); }
  static void storeu(T* p, Reg r) { _mm512_storeu_ps(p, r); }
  static Reg loadu_n(const T* p, int n) { return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p); }
  static void storeu_n(T* p, Reg r, int n) { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), r); }
  static Reg set1(T x) { return _mm512_set1_ps(x); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm512_max_ps(a, b); }
};

struct VecD {
  using T = double;
  using Reg = __m512d;
  static constexpr int W = 8;
  static Reg zero() { return _mm512_setzero_pd(); }
  static Reg loadu(const T* p) { return _mm512_loadu_pd(p); }
  static void storeu(T* p, Reg r) { _mm512_storeu_pd(p, r); }
  static Reg loadu_n(const T* p, int n) { return _mm512_maskz_loadu_pd(__mmask8((1u << n) - 1), p); }
  static void storeu_n(T* p, Reg r, int n) { _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1), r); }
  static Reg set1(T x) { return _mm512_set1_pd(x); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_pd(a, b, c); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_pd(a, b); }
  static Reg add(Reg a, Reg b) { return _mm512_add_pd(a, b); }
  static Reg max(Reg a, Reg b) { return _mm512_max_pd(a, b); }
};

#include "kernels/gemm_ukernel_impl.h"

}  // namespace

template <>
const GemmKernels<float>& gemm_kernels_avx512<float>() {
  static const GemmKernels<float> k{ukr_shape<VecF, 12, 2>(), ukr_shape<VecF, 16, 1>(), &pack_trans_x86<PackF32>,
                                    &pack_copy_v<VecF>, &fma_probe<VecF>};
  return k;
}
template <>
const GemmKernels<double>& gemm_kernels_avx512<double>() {
  static const GemmKernels<double> k{ukr_shape<VecD, 12, 2>(), ukr_shape<VecD, 16, 1>(), &pack_trans_x86<PackF64>,
                                     &pack_copy_v<VecD>, &fma_probe<VecD>};
  return k;
}

}  // namespace tl::kernels
