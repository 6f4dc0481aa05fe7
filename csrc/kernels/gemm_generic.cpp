// Portable GEMM micro-kernels: plain C++ over small fixed-size arrays that the compiler
// vectorises for whatever the baseline target is (SSE2 on x86-64, NEON on arm64). This is the
// path for CPUs without AVX2 and for other architectures.
#include <cstring>
#include "kernels/gemm_ukernel.h"

namespace tl::kernels {
namespace {

// GCC/Clang vector extensions: portable SIMD that compiles to SSE2 on baseline x86-64 and to
// NEON on arm64, with the register allocation of real vector types.
template <class TT, int kW>
struct VecPortable {
  using T = TT;
  typedef T Reg __attribute__((vector_size(kW * sizeof(T))));
  static constexpr int W = kW;
  static Reg zero() { return Reg{}; }
  static Reg loadu(const T* p) { Reg r; std::memcpy(&r, p, sizeof r); return r; }
  static void storeu(T* p, Reg r) { std::memcpy(p, &r, sizeof r); }
  static Reg loadu_n(const T* p, int n) { Reg r{}; for (int l = 0; l < n; ++l) r[l] = p[l]; return r; }
  static void storeu_n(T* p, Reg r, int n) { for (int l = 0; l < n; ++l) p[l] = r[l]; }
  static Reg set1(T x) { return Reg{} + x; }
  static Reg fmadd(Reg a, Reg b, Reg c) { return a * b + c; }
  static Reg mul(Reg a, Reg b) { return a * b; }
  static Reg add(Reg a, Reg b) { return a + b; }
  // Like MAXPS: b unless a > b, so max(0, NaN) is NaN.
  static Reg max(Reg a, Reg b) { Reg r; for (int l = 0; l < W; ++l) r[l] = a[l] > b[l] ? a[l] : b[l]; return r; }
};

#include "kernels/gemm_ukernel_impl.h"

}  // namespace

template <>
const GemmKernels<float>& gemm_kernels_generic<float>() {
  using V = VecPortable<float, 4>;
  static const GemmKernels<float> k{ukr_shape<V, 4, 2>(), ukr_shape<V, 4, 2>(), nullptr, &pack_copy_v<V>, &fma_probe<V>};
  return k;
}
template <>
const GemmKernels<double>& gemm_kernels_generic<double>() {
  using V = VecPortable<double, 2>;
  static const GemmKernels<double> k{ukr_shape<V, 4, 2>(), ukr_shape<V, 4, 2>(), nullptr, &pack_copy_v<V>, &fma_probe<V>};
  return k;
}

}  // namespace tl::kernels
