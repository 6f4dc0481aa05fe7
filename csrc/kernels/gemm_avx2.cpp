// AVX2+FMA GEMM micro-kernels (compiled with -mavx2 -mfma; only reached when cpu.h reports
// AVX2). 16 ymm registers: the wide float tile is 6 x 16 (12 accumulators, 2 B vectors, one A
// broadcast), the narrow one 12 x 8 for N <= 8.
#include <immintrin.h>
#include "kernels/gemm_ukernel.h"

namespace tl::kernels {
namespace {

#include "kernels/gemm_pack_x86.h"

struct VecF {
  using T = float;
  using Reg = __m256;
  static constexpr int W = 8;
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg loadu(const T* p) { return _mm256_loadu_ps(p); }
  static void storeu(T* p, Reg r) { _mm256_storeu_ps(p, r); }
  static Reg loadu_n(const T* p, int n) { return _mm256_maskload_ps(p, first_lanes_mask(n)); }
  static void storeu_n(T* p, Reg r, int n) { _mm256_maskstore_ps(p, first_lanes_mask(n), r); }
  static Reg set1(T x) { return _mm256_set1_ps(x); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
};

struct VecD {
  using T = double;
  using Reg = __m256d;
  static constexpr int W = 4;
  static Reg zero() { return _mm256_setzero_pd(); }
  static Reg loadu(const T* p) { return _mm256_loadu_pd(p); }
  static void storeu(T* p, Reg r) { _mm256_storeu_pd(p, r); }
  // A 64-bit lane is selected by the sign of its upper 32 bits: set two 32-bit lanes per lane.
  static Reg loadu_n(const T* p, int n) { return _mm256_maskload_pd(p, first_lanes_mask(2 * n)); }
  static void storeu_n(T* p, Reg r, int n) { _mm256_maskstore_pd(p, first_lanes_mask(2 * n), r); }
  static Reg set1(T x) { return _mm256_set1_pd(x); }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_pd(a, b, c); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_pd(a, b); }
  static Reg add(Reg a, Reg b) { return _mm256_add_pd(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_pd(a, b); }
};

// No software prefetch of B in the k loop here: on this AMD EPYC (AVX2) it took load-port slots
// from the broadcasts; without it the conv shapes ran ~1.2-1.7x faster (7744x288 @ 288x64:
// 41 -> 58 GFLOP/s per thread, 576x576 @ 576x64: 57 -> 70). AVX-512 keeps it (gemm_ukernel_impl.h).
#define TL_GEMM_NO_B_PREFETCH 1
#include "kernels/gemm_ukernel_impl.h"

}  // namespace

template <>
const GemmKernels<float>& gemm_kernels_avx2<float>() {
  static const GemmKernels<float> k{ukr_shape<VecF, 6, 2>(), ukr_shape<VecF, 12, 1>(), &pack_trans_x86<PackF32>,
                                    &pack_copy_v<VecF>, &fma_probe<VecF>};
  return k;
}
template <>
const GemmKernels<double>& gemm_kernels_avx2<double>() {
  static const GemmKernels<double> k{ukr_shape<VecD, 6, 2>(), ukr_shape<VecD, 12, 1>(), &pack_trans_x86<PackF64>,
                                     &pack_copy_v<VecD>, &fma_probe<VecD>};
  return k;
}

}  // namespace tl::kernels
