// Portable GEMM micro-kernels: plain C++ over small fixed-size arrays that the compiler
// vectorises for whatever the baseline target is (SSE2 on x86-64, NEON on arm64). This is the
// path for CPUs without AVX2 and for other architectures.
#include "kernels/gemm_ukernel.h"

namespace tl::kernels {
namespace {

template <class TT, int kW>
struct VecPortable {
  using T = TT;
  struct Reg { T v[kW]; };
  static constexpr int W = kW;
  static Reg zero() { Reg r; for (int l = 0; l < W; ++l) r.v[l] = T(0); return r; }
  static Reg loadu(const T* p) { Reg r; for (int l = 0; l < W; ++l) r.v[l] = p[l]; return r; }
  static void storeu(T* p, const Reg& r) { for (int l = 0; l < W; ++l) p[l] = r.v[l]; }
  static Reg set1(T x) { Reg r; for (int l = 0; l < W; ++l) r.v[l] = x; return r; }
  static Reg fmadd(const Reg& a, const Reg& b, const Reg& c) {
    Reg r; for (int l = 0; l < W; ++l) r.v[l] = a.v[l] * b.v[l] + c.v[l]; return r;
  }
  static Reg mul(const Reg& a, const Reg& b) { Reg r; for (int l = 0; l < W; ++l) r.v[l] = a.v[l] * b.v[l]; return r; }
  static Reg add(const Reg& a, const Reg& b) { Reg r; for (int l = 0; l < W; ++l) r.v[l] = a.v[l] + b.v[l]; return r; }
  // Like MAXPS: b unless a > b, so max(0, NaN) is NaN.
  static Reg max(const Reg& a, const Reg& b) {
    Reg r; for (int l = 0; l < W; ++l) r.v[l] = a.v[l] > b.v[l] ? a.v[l] : b.v[l]; return r;
  }
};

#include "kernels/gemm_ukernel_impl.h"

}  // namespace

template <>
const GemmKernels<float>& gemm_kernels_generic<float>() {
  using V = VecPortable<float, 4>;
  static const GemmKernels<float> k{ukr_shape<V, 4, 2>(), ukr_shape<V, 4, 2>(), nullptr, &fma_probe<V>};
  return k;
}
template <>
const GemmKernels<double>& gemm_kernels_generic<double>() {
  using V = VecPortable<double, 2>;
  static const GemmKernels<double> k{ukr_shape<V, 4, 2>(), ukr_shape<V, 4, 2>(), nullptr, &fma_probe<V>};
  return k;
}

}  // namespace tl::kernels
