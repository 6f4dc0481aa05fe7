// The body of one ISA's ComplexSimdLoops table; included by complex_simd_{generic,avx2,avx512}.cpp
// with TL_COMPLEX_SIMD_NAME set to the accessor's name. Plain loops over the parts as a flat
// array of reals, which the compiler vectorises for the including file's instruction set.
// Special values are found by a cheap flag in the vector loop and redone by the scalar formula,
// block by block into a local buffer (the output may alias an input).
#include <cmath>
#include <cstring>
#include <limits>
#include "kernels/complex_simd.h"

namespace tl::kernels {
namespace {

constexpr int64_t kBlock = 256;

// a + b or a - b, part by part.
template <class C, bool Sub>
void add_loop(C* out, const C* a, const C* b, int64_t n) {
  using R = typename C::value_type;
  R* o = reinterpret_cast<R*>(out);
  const R* x = reinterpret_cast<const R*>(a);
  const R* y = reinterpret_cast<const R*>(b);
  for (int64_t i = 0; i < 2 * n; ++i) o[i] = Sub ? x[i] - y[i] : x[i] + y[i];
}

// The parts go through planar buffers: written interleaved, GCC's vectoriser recognises a
// complex product and fuses it into fmaddsub despite -ffp-contract=off (other bits).
template <class C>
void mul_loop(C* out, const C* a, const C* b, int64_t n) {
  using R = typename C::value_type;
  R re[kBlock], im[kBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t m = n - i0 < kBlock ? n - i0 : kBlock;
    const R* x = reinterpret_cast<const R*>(a + i0);
    const R* y = reinterpret_cast<const R*>(b + i0);
    int nan_pairs = 0;
    for (int64_t i = 0; i < m; ++i) {
      const R ar = x[2 * i], ai = x[2 * i + 1], br = y[2 * i], bi = y[2 * i + 1];
      re[i] = ar * br - ai * bi;
      im[i] = ar * bi + ai * br;
      nan_pairs |= (re[i] != re[i]) & (im[i] != im[i]);
    }
    if (nan_pairs)
      for (int64_t i = 0; i < m; ++i)
        if (re[i] != re[i] && im[i] != im[i]) {
          const C z = a[i0 + i] * b[i0 + i];  // Annex G recovery (__mulsc3)
          re[i] = z.real();
          im[i] = z.imag();
        }
    R* o = reinterpret_cast<R*>(out + i0);
    for (int64_t i = 0; i < m; ++i) {
      o[2 * i] = re[i];
      o[2 * i + 1] = im[i];
    }
  }
}

// complex.cpp's abs_c for finite parts (the vector loop), hypot's rules for the rest.
template <class C>
void abs_loop(typename C::value_type* out, const C* xs, int64_t n) {
  using R = typename C::value_type;
  constexpr R kMax = std::numeric_limits<R>::max();
  R t[kBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t m = n - i0 < kBlock ? n - i0 : kBlock;
    const R* p = reinterpret_cast<const R*>(xs + i0);
    int special = 0;
    for (int64_t i = 0; i < m; ++i) {
      const R x = std::fabs(p[2 * i]), y = std::fabs(p[2 * i + 1]);
      special |= !(x <= kMax) | !(y <= kMax);
      if constexpr (sizeof(R) == 4) {
        t[i] = static_cast<float>(std::sqrt(double(x) * double(x) + double(y) * double(y)));
      } else {
        const R big = x > y ? x : y, small = x > y ? y : x;
        const R r = small / (big == 0 ? R(1) : big);
        t[i] = big == 0 ? R(0) : big * std::sqrt(1 + r * r);
      }
    }
    if (special)
      for (int64_t i = 0; i < m; ++i) {
        const R x = std::fabs(p[2 * i]), y = std::fabs(p[2 * i + 1]);
        if (!(x <= kMax && y <= kMax)) t[i] = std::hypot(x, y);
      }
    std::memcpy(out + i0, t, sizeof(R) * m);
  }
}

// NumPy's pairwise sum of complex values, over n reals (parts interleaved): eight running sums
// over blocks of at most 128 reals, halves (whole groups of eight) above; in double throughout.
template <class R>
std::complex<double> pairwise(const R* a, int64_t n) {
  if (n < 8) {
    double rr = 0, ri = 0;
    for (int64_t i = 0; i < n; i += 2) {
      rr += static_cast<double>(a[i]);
      ri += static_cast<double>(a[i + 1]);
    }
    return {rr, ri};
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = static_cast<double>(a[j]);
    int64_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (int j = 0; j < 8; ++j) r[j] += static_cast<double>(a[i + j]);
    double rr = (r[0] + r[2]) + (r[4] + r[6]), ri = (r[1] + r[3]) + (r[5] + r[7]);
    for (; i < n; i += 2) {
      rr += static_cast<double>(a[i]);
      ri += static_cast<double>(a[i + 1]);
    }
    return {rr, ri};
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

template <class C>
std::complex<double> sum_loop(const C* x, int64_t n) {
  return pairwise(reinterpret_cast<const typename C::value_type*>(x), 2 * n);
}

template <class C>
constexpr ComplexLoops<C> loops_of() {
  return ComplexLoops<C>{add_loop<C, false>, add_loop<C, true>, mul_loop<C>, abs_loop<C>, sum_loop<C>};
}

}  // namespace

const ComplexSimdLoops& TL_COMPLEX_SIMD_NAME() {
  static const ComplexSimdLoops loops{loops_of<std::complex<float>>(), loops_of<std::complex<double>>()};
  return loops;
}

}  // namespace tl::kernels
