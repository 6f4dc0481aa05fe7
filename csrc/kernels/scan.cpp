#include "kernels/scan.h"
#include <algorithm>
#include <type_traits>
#include <vector>
#include "core/error.h"
#include "kernels/complex.h"
#include "kernels/parallel.h"
#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace tl::kernels {
namespace {

template <class T> inline T scan_step(ScanOp op, T acc, T x) {
  if constexpr (std::is_integral_v<T>) {
    // Wrap around like NumPy (unsigned arithmetic avoids signed-overflow UB).
    using U = std::make_unsigned_t<T>;
    using W = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, U>;
    return op == ScanOp::Sum ? T(U(W(U(acc)) + W(U(x)))) : T(U(W(U(acc)) * W(U(x))));
  } else {
    // tl::half computes in float and rounds back here, once per step (NumPy's half accumulate).
    return op == ScanOp::Sum ? T(acc + x) : T(acc * x);
  }
}

template <class T>
void scan_row(ScanOp op, const T* x, T* y, int64_t n, T acc, bool first) {
  int64_t i = 0;
  if (first) y[i++] = acc = x[0];
  for (; i < n; ++i) y[i] = acc = scan_step<T>(op, acc, x[i]);
}

// A row of at least this many bytes is written with non-temporal stores: it would not stay in
// cache anyway, and they skip reading the destination lines before writing them (a quarter of
// the memory traffic of an integer running sum, which is memory-bound).
constexpr int64_t kStreamBytes = int64_t(1) << 22;

template <class T>
void scan_row_streaming(ScanOp op, const T* x, T* y, int64_t n) {
#if defined(__SSE2__)
  T acc = x[0];
  y[0] = acc;
  for (int64_t i = 1; i < n; ++i) {
    acc = scan_step<T>(op, acc, x[i]);
    if constexpr (sizeof(T) == 8) _mm_stream_si64(reinterpret_cast<long long*>(y + i), static_cast<long long>(acc));
    else _mm_stream_si32(reinterpret_cast<int*>(y + i), static_cast<int>(acc));
  }
  _mm_sfence();  // the streamed stores are visible before anyone reads y
#else
  scan_row<T>(op, x, y, n, T(0), true);
#endif
}

}  // namespace

void scan(ScanOp op, const Tensor& x, const Tensor& out, int64_t outer, int64_t n, int64_t inner, bool reverse) {
  TL_CHECK(x.is_contiguous() && out.is_contiguous() && x.dtype() == out.dtype() && x.numel() == out.numel() &&
               outer * n * inner == x.numel(),
           "cumulative", "internal: bad scan buffers");
  if (x.numel() == 0) return;
  if (is_complex(x.dtype())) {
    TL_CHECK_TYPE(op == ScanOp::Prod && !reverse, "cumulative_sum", "internal: complex sums go through their parts");
    return complex_cumprod(x.dtype(), x.data_ptr(), out.data_ptr(), outer, n, inner);
  }
  const char* name = op == ScanOp::Sum ? "cumulative_sum" : "cumulative_prod";
  TL_DISPATCH_NUMERIC(x.dtype(), name, [&] {
    using T = scalar_t;
    const T* xp = x.data<T>();
    T* op_ = out.data<T>();
    if constexpr (std::is_integral_v<T> && (sizeof(T) == 4 || sizeof(T) == 8)) {
      if (inner == 1 && !reverse && n * int64_t(sizeof(T)) >= kStreamBytes) {
        for (int64_t o = 0; o < outer; ++o) scan_row_streaming<T>(op, xp + o * n, op_ + o * n, n);
        return;
      }
    }
    const int64_t grain = std::max<int64_t>(1, kParallelElementThreshold / std::max<int64_t>(n * inner, 1));
    parallel_for(0, outer, grain, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const T* xo = xp + o * n * inner;
        T* yo = op_ + o * n * inner;
        if (inner == 1) {  // the common 1-D / last-axis case: one running accumulator
          if (reverse) {
            T acc = xo[n - 1];
            yo[n - 1] = acc;
            for (int64_t i = n - 2; i >= 0; --i) yo[i] = acc = scan_step<T>(op, acc, xo[i]);
          } else {
            scan_row<T>(op, xo, yo, n, T(0), true);
          }
          continue;
        }
        for (int64_t s = 0; s < n; ++s) {
          const int64_t i = reverse ? n - 1 - s : s;
          const T* xi = xo + i * inner;
          T* yi = yo + i * inner;
          if (s == 0) {
            for (int64_t j = 0; j < inner; ++j) yi[j] = xi[j];
          } else {
            const T* prev = reverse ? yi + inner : yi - inner;
            for (int64_t j = 0; j < inner; ++j) yi[j] = scan_step<T>(op, prev[j], xi[j]);
          }
        }
      }
    });
  });
}

void cumprod_grad(const Tensor& x, const Tensor& g, const Tensor& out, int64_t outer, int64_t n, int64_t inner) {
  TL_CHECK(x.is_contiguous() && g.is_contiguous() && out.is_contiguous() && is_floating(x.dtype()) &&
               g.dtype() == x.dtype() && out.dtype() == x.dtype() && outer * n * inner == x.numel() &&
               g.numel() == x.numel() && out.numel() == x.numel(),
           "cumulative_prod", "internal: bad gradient buffers");
  if (x.numel() == 0) return;
  TL_DISPATCH_FLOAT(x.dtype(), "cumulative_prod", [&] {
    using T = scalar_t;
    const T *xp = x.data<T>(), *gp = g.data<T>();
    T* rp = out.data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        const int64_t base = o * n * inner + j;
        T s = 0;  // S_i, from the end
        for (int64_t i = n - 1; i >= 0; --i) {
          const int64_t at = base + i * inner;
          s = (i == n - 1) ? gp[at] : T(gp[at] + xp[at + inner] * s);
          rp[at] = s;
        }
        T prefix = 1;  // x_0 ... x_{i-1}
        for (int64_t i = 0; i < n; ++i) {
          const int64_t at = base + i * inner;
          rp[at] = prefix * rp[at];
          prefix *= xp[at];
        }
      }
  });
}

}  // namespace tl::kernels
