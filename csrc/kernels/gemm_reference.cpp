// The plain triple-loop GEMM, kept as the oracle for tests of the fast paths in gemm.cpp.
#include <type_traits>
#include "kernels/gemm.h"

namespace tl::kernels {
namespace {
template <class T, bool = std::is_integral_v<T>> struct AccumType { using type = T; };
template <class T> struct AccumType<T, true> { using type = std::make_unsigned_t<T>; };
}  // namespace

template <class T>
void gemm_reference(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                    int64_t ldb, T beta, T* C, int64_t ldc, const Epilogue<T>& ep) {
  // Integers wrap modulo 2^bits (computed unsigned: signed overflow is undefined in C++).
  using Acc = typename AccumType<T>::type;
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      Acc acc = Acc(0);
      for (int64_t k = 0; k < K; ++k) {
        const Acc a = Acc(ta ? A[k * lda + i] : A[i * lda + k]);
        const Acc b = Acc(tb ? B[j * ldb + k] : B[k * ldb + j]);
        acc = Acc(acc + Acc(a * b));
      }
      Acc v = Acc(Acc(alpha) * acc);
      if (beta != T(0)) v = Acc(v + Acc(Acc(beta) * Acc(C[i * ldc + j])));
      if (ep.bias) v = Acc(v + Acc(ep.bias[j]));
      T out = T(v);
      if (ep.act == Activation::Relu && !(out > T(0))) out = out != out ? out : T(0);
      C[i * ldc + j] = out;
      if constexpr (std::is_floating_point_v<T>)
        if (ep.act == Activation::Tanh || ep.act == Activation::Sigmoid) apply_activation(&C[i * ldc + j], 1, ep.act);
    }
  }
}

#define TL_INSTANTIATE(T)                                                                                   \
  template void gemm_reference<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, \
                                  int64_t, T, T*, int64_t, const Epilogue<T>&);
TL_INSTANTIATE(float)
TL_INSTANTIATE(double)
TL_INSTANTIATE(int64_t)
TL_INSTANTIATE(int32_t)
TL_INSTANTIATE(uint8_t)
#undef TL_INSTANTIATE

}  // namespace tl::kernels
