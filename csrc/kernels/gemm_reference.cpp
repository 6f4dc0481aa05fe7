#include "kernels/gemm.h"
#include <vector>

namespace tl::kernels {

template <class T>
void gemm_reference(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
                    int64_t ldb, T beta, T* C, int64_t ldc, const Epilogue<T>& ep) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      T acc = T(0);
      for (int64_t k = 0; k < K; ++k) {
        T a = ta ? A[k * lda + i] : A[i * lda + k];
        T b = tb ? B[j * ldb + k] : B[k * ldb + j];
        acc += a * b;
      }
      T v = alpha * acc;
      if (beta != T(0)) v += beta * C[i * ldc + j];
      if (ep.bias) v += ep.bias[j];
      if (ep.act == Activation::Relu && !(v > T(0))) v = v != v ? v : T(0);
      C[i * ldc + j] = v;
    }
  }
}

// Placeholder for the fast path: a cache-friendly i-k-j loop. Replaced by the packed kernels.
template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc, const Epilogue<T>& ep) {
  std::vector<T> row(N);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) row[j] = T(0);
    for (int64_t k = 0; k < K; ++k) {
      T a = ta ? A[k * lda + i] : A[i * lda + k];
      if (tb) for (int64_t j = 0; j < N; ++j) row[j] += a * B[j * ldb + k];
      else for (int64_t j = 0; j < N; ++j) row[j] += a * B[k * ldb + j];
    }
    for (int64_t j = 0; j < N; ++j) {
      T v = alpha * row[j];
      if (beta != T(0)) v += beta * C[i * ldc + j];
      if (ep.bias) v += ep.bias[j];
      if (ep.act == Activation::Relu && !(v > T(0))) v = v != v ? v : T(0);
      C[i * ldc + j] = v;
    }
  }
}

#define TL_INSTANTIATE(T)                                                                                     \
  template void gemm_reference<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*,   \
                                  int64_t, T, T*, int64_t, const Epilogue<T>&);                               \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, \
                        T*, int64_t, const Epilogue<T>&);
TL_INSTANTIATE(float)
TL_INSTANTIATE(double)
TL_INSTANTIATE(int64_t)
TL_INSTANTIATE(int32_t)
TL_INSTANTIATE(uint8_t)
#undef TL_INSTANTIATE

}  // namespace tl::kernels
