// GEMM: C = alpha * op(A) @ op(B) + beta * C, row-major, with an optional fused epilogue
// (add a bias row, then an activation) applied while the tile is in registers.
//   op(A) is M x K: A is M x K with row stride lda (trans_a = false) or K x M (trans_a = true).
//   op(B) is K x N: likewise with ldb. C is M x N with row stride ldc.
// beta == 0 means C is write-only (NaNs in C are not propagated), as in BLAS.
#pragma once
#include <cstdint>

namespace tl::kernels {

// Relu runs on the tile in registers; Tanh and Sigmoid (float types only) on each finished row
// panel of C while it is still in cache, with the elementwise kernels' own loops
// (apply_activation), so a fused GEMM gives the same bits as GEMM then tanh / sigmoid.
enum class Activation : uint8_t { None = 0, Relu = 1, Tanh = 2, Sigmoid = 3 };

template <class T>
struct Epilogue {
  const T* bias = nullptr;  // length N, added to every row, or null
  Activation act = Activation::None;
};

// x[i] = act(x[i]) for i < n, as the unary tanh / sigmoid / relu kernels compute it (float types).
template <class T>
void apply_activation(T* x, int64_t n, Activation act);

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
          const T* B, int64_t ldb, T beta, T* C, int64_t ldc, const Epilogue<T>& ep = {});

// An op(A) that is never stored whole (a convolution's patch matrix): the driver asks it for
// packed blocks of A instead of reading a matrix (BLIS's packm with a gathering pack; oneDNN's
// gemm-conv packs its patches the same way). See gemm_implicit_a.
template <class T>
class ASource {
 public:
  virtual ~ASource() = default;
  // The layout pack() writes a block in: a row-major matrix (element (r, p) at dst[r * k + p])
  // or a column-major one (at dst[p * S + r]), where S = rows rounded up to R and the rows
  // from `rows` to S are zero.
  virtual bool row_major() const = 0;
  virtual void pack(int64_t i, int64_t rows, int64_t p0, int64_t k, int R, T* dst) const = 0;
};

// C (M x N, row stride ldc) = a (M x K, packed on demand) @ B (K x N, row-major, row stride
// ldb) + beta * C, then the epilogue; on the thread pool like gemm(). Float types only. Not
// logged for a captured step by itself: the caller (a conv kernel) logs its whole call.
template <class T>
void gemm_implicit_a(const ASource<T>& a, int64_t M, int64_t N, int64_t K, const T* B, int64_t ldb, T beta, T* C,
                     int64_t ldc, const Epilogue<T>& ep = {});

// Plain triple loop, kept as the oracle for tests of the fast paths.
template <class T>
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda,
                    const T* B, int64_t ldb, T beta, T* C, int64_t ldc, const Epilogue<T>& ep = {});

}  // namespace tl::kernels
