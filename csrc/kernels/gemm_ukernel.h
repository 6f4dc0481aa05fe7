// Internal to the GEMM: the micro-kernel contract between the blocked driver (gemm.cpp) and
// the per-ISA kernel files (gemm_generic.cpp, gemm_avx2.cpp, gemm_avx512.cpp).
//
// A micro-kernel computes one MR x NR tile of C from a K-long strip of op(A) and a packed
// strip of op(B), entirely in registers, then applies in its store
//     C = alpha * acc + beta * C  (+ bias row) (relu)
// with beta == 0 meaning C is not read. Edge tiles: the A and B strips are always full (the
// driver zero-pads packed panels), and the kernel loads/stores only the first m rows and n
// columns of C and of the bias (masked vector accesses), so no scratch tile is needed.
#pragma once
#include <cstdint>

namespace tl::kernels {

template <class T>
struct UkrArgs {
  int64_t k;           // depth of this strip (>= 1)
  const T* a;          // op(A) strip: MR rows x k
  int64_t a_stride;    // see AMode
  const T* b;          // op(B) strip: k rows of NR contiguous values, b_stride apart
  int64_t b_stride;    // NR for a packed panel, ldb when B is read in place
  T* c;                // m x n tile of C, row stride ldc
  int64_t ldc;
  int m, n;            // valid rows (1..MR) and columns (1..NR) of the tile
  T alpha, beta;
  const T* bias;       // the tile's n bias values, or null
  bool relu;
};

// How the kernel walks the A strip. KMajor: element (i, p) at a[i + p * a_stride] (a packed
// panel has a_stride == MR; a transposed, unpacked A has a_stride == lda). RowMajor: element
// (i, p) at a[i * a_stride + p] (an unpacked, non-transposed A).
enum AMode : int { kAKMajor = 0, kARowMajor = 1 };

template <class T>
using UkrFn = void (*)(const UkrArgs<T>&);

// Optional fast packing of a rows x k block that is stored row-major with row stride ld
// (element (r, p) at src[r * ld + p]) into dst[p * R + r], zero-padding rows..R-1. R is the
// kernel's MR (for A) or NR (for B). Null means the driver's portable loop is used.
template <class T>
using PackTransFn = void (*)(const T* src, int64_t ld, int64_t rows, int64_t k, int R, T* dst);

// Optional fast packing of a k x cols block stored row-major with row stride ld (element
// (p, r) at src[p * ld + r]) into dst[p * R + r], zero-padding cols..R-1.
template <class T>
using PackCopyFn = void (*)(const T* src, int64_t ld, int64_t cols, int64_t k, int R, T* dst);

template <class T>
struct UkrShape {
  int mr = 0, nr = 0;
  UkrFn<T> fn[2] = {nullptr, nullptr};  // indexed by AMode
};

template <class T>
struct GemmKernels {
  UkrShape<T> wide;    // the main kernel
  UkrShape<T> narrow;  // for N <= narrow.nr (e.g. the N=10 classifier layers)
  PackTransFn<T> pack_trans = nullptr;
  PackCopyFn<T> pack_copy = nullptr;
  // Runs `iters` rounds of independent FMAs at full width; returns the flops done (writes
  // one vector to sink, which must hold 16 values). For measuring this ISA's peak.
  double (*fma_probe)(int64_t iters, T* sink) = nullptr;
};

// One kernel set per ISA; only call the avx2/avx512 ones when the CPU supports them.
template <class T> const GemmKernels<T>& gemm_kernels_generic();
template <class T> const GemmKernels<T>& gemm_kernels_avx2();
template <class T> const GemmKernels<T>& gemm_kernels_avx512();

}  // namespace tl::kernels
