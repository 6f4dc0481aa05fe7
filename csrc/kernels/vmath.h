// Branch-free float32 exp / tanh / sigmoid that GCC vectorises at baseline SSE2 (-O3): only
// +-*/, min/max, selects, float<->int32 conversion and integer shifts. libm's expf / tanhf are
// scalar calls that block vectorisation of the loops around them.
//
// exp:  Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, Cephes' degree-7 polynomial for e^r,
//       scaled by 2^n as two halves (2^(n/2) * 2^(n - n/2)) so results that are subnormal or
//       near FLT_MAX are formed without overflow of the scale factor. Within 1 ulp of the
//       correctly rounded result over the whole float range (tests check <= 2 ulp vs NumPy).
// tanh: Cephes' odd polynomial for |x| < 0.625, 1 - 2 / (e^{2|x|} + 1) with the sign restored
//       above; +-1 from |x| > 9.1 (where the result rounds to +-1 anyway).
// sigmoid: e = exp(-|x|), then 1 / (1 + e) for x >= 0 and e / (1 + e) below: no overflow for
//       any x, no cancellation; its last two operations run in double (still vectorised),
//       which keeps it within 2 ulp.
// NaN in, NaN out; exp(+inf) = inf, exp(-inf) = 0.
// tanh_f64: the same formulas in double (Cephes' rational P/Q below 0.625, fdlibm's exp above),
//       with the two branches' divisions merged into one; see tanh_f64.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>

// Forced inline: a call in the loop body would stop GCC from vectorising it.
#define TL_VMATH_INLINE inline __attribute__((always_inline))

namespace tl::vmath {

// std::bit_cast (C++20) for this C++17 code.
template <class To, class From>
TL_VMATH_INLINE To bit_cast(From v) {
  static_assert(sizeof(To) == sizeof(From));
  To r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
TL_VMATH_INLINE float bits_to_float(int32_t i) { return bit_cast<float>(i); }
TL_VMATH_INLINE int32_t float_to_bits(float f) { return bit_cast<int32_t>(f); }
// c ? a : b through bit masks: both sides are always computed, so GCC vectorises it even under
// -ftrapping-math (a ?: on floats would be a branch it may not if-convert).
TL_VMATH_INLINE float select(bool c, float a, float b) {
  const int32_t m = -static_cast<int32_t>(c);
  return bits_to_float((float_to_bits(a) & m) | (float_to_bits(b) & ~m));
}

// e^x for x in [-87, 88] only (no clamping, NaN or subnormal handling: one 2^n scale). For
// callers that have already bounded x.
TL_VMATH_INLINE float exp_f32_bounded(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kC1 = 0.693359375f;
  constexpr float kC2 = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;
  const float n = (x * kLog2e + kRound) - kRound;
  const float r = (x - n * kC1) - n * kC2;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  return p * bits_to_float((static_cast<int32_t>(n) + 127) << 23);
}

TL_VMATH_INLINE float exp_f32(float x) {
  constexpr float kHi = 88.72283935546875f;    // above: inf
  constexpr float kLo = -103.97208404541016f;  // below: 0
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kC1 = 0.693359375f;           // ln2 split: kC1 has 9 significant bits, so n * kC1 is exact
  constexpr float kC2 = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;         // 1.5 * 2^23: adding and subtracting rounds to nearest int
  float xc = select(!(x >= kLo), kLo, x);  // NaN too (so the int conversion stays defined)
  xc = select(xc > kHi, kHi, xc);
  const float n = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - n * kC1) - n * kC2;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t ni = static_cast<int32_t>(n);
  const int32_t n1 = ni >> 1, n2 = ni - n1;
  float res = p * bits_to_float((n1 + 127) << 23) * bits_to_float((n2 + 127) << 23);
  res = select(x > kHi, std::numeric_limits<float>::infinity(), res);
  res = select(x < kLo, 0.0f, res);
  return select(x != x, x, res);
}

TL_VMATH_INLINE float tanh_f32(float x) {
  const float ax = select(x < 0.0f, -x, x);
  // Small |x|: x + x^3 P(x^2).
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  // Large |x|: 1 - 2 / (e^{2|x|} + 1), clamped so e^{2|x|} stays finite.
  const float ac = select(!(ax <= 9.1f), 9.1f, ax);  // NaN too (so the int conversion stays defined)
  const float e = exp_f32_bounded(2.0f * ac);
  float large = 1.0f - 2.0f / (e + 1.0f);
  large = select(x < 0.0f, -large, large);
  const float res = select(ax < 0.625f, small, large);
  return select(x != x, x, res);
}

TL_VMATH_INLINE float sigmoid_f32(float x) {
  const float ax = select(x < 0.0f, -x, x);
  const float e = exp_f32(-ax);
  // The last two operations in double: exp's error (scaled by < 1) is then all that is left.
  const double num = static_cast<double>(select(x < 0.0f, e, 1.0f));
  const float res = static_cast<float>(num / (1.0 + static_cast<double>(e)));
  return select(x != x, x, res);
}

TL_VMATH_INLINE double bits_to_double(int64_t i) { return bit_cast<double>(i); }
TL_VMATH_INLINE int64_t double_to_bits(double f) { return bit_cast<int64_t>(f); }
// A plain ?: for double: GCC if-converts it in the files that include this header (all built
// with -fno-trapping-math), while the float version's bit-mask form, with int64 masks, kept the
// baseline SSE2 loop scalar.
TL_VMATH_INLINE double select(bool c, double a, double b) { return c ? a : b; }

// e^v for v in [0, 44] only (tanh_f64's range): fdlibm's e_exp.c without its special cases.
// v = k ln2 + r with ln2 split in hi (32 significant bits, so k * kLn2Hi is exact) and lo parts,
// then e^r = 1 + r + r c / (2 - c) with c = r - r^2 P(r^2); within 1 ulp. k comes out of the
// low mantissa bits of v / ln2 + 1.5 * 2^52 (no double -> int64 conversion, which AVX2 lacks),
// and 2^k is formed directly in the exponent field.
TL_VMATH_INLINE double exp_f64_tanh_range(double v) {
  constexpr double kInvLn2 = 1.44269504088896338700e+00;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52
  const double t = v * kInvLn2 + kRound;
  const double k = t - kRound;
  const double hi = v - k * kLn2Hi;
  const double lo = k * kLn2Lo;
  const double r = hi - lo;
  const double r2 = r * r;
  double p = 4.13813679705723846039e-08;
  p = p * r2 - 1.65339022054652515390e-06;
  p = p * r2 + 6.61375632143793436117e-05;
  p = p * r2 - 2.77777777770155933842e-03;
  p = p * r2 + 1.66666666666666019037e-01;
  const double c = r - r2 * p;
  const double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
  // k (0..64) sits in t's low mantissa bits: shifting them to the exponent field gives 2^k.
  // Unsigned: t's high bits shift out (a signed shift that overflows is undefined behaviour).
  const uint64_t scale = (bit_cast<uint64_t>(t) << 52) + (uint64_t{1023} << 52);
  return y * bit_cast<double>(scale);
}

// tanh computed on |x| with x's sign bit put back (so tanh(-0.0) = -0.0 and the result is odd
// exactly). Below 0.625: Cephes' |x| + |x| z P(z) / Q(z), z = x^2; above: 1 - 2 / (e^{2|x|} + 1),
// |x| clamped to 22 (tanh rounds to 1 from 19.1 on; e^44 stays finite; inf and NaN too). Both
// are a + num / den, so one division serves both branches. Within 2 ulp (tests check vs NumPy).
TL_VMATH_INLINE double tanh_f64(double x) {
  const int64_t sign = double_to_bits(x) & (int64_t{1} << 63);
  const double ax = bits_to_double(double_to_bits(x) & ~(int64_t{1} << 63));
  const double z = ax * ax;
  double p = -9.64399179425052238628e-1;
  p = p * z - 9.92877231001918586564e1;
  p = p * z - 1.61468768441708447952e3;
  double q = z + 1.12811678491632931402e2;
  q = q * z + 2.23548839060100448583e3;
  q = q * z + 4.84406305325125486048e3;
  const double ac = select(!(ax <= 22.0), 22.0, ax);  // NaN too (keeps the exponent bits sane)
  const double e = exp_f64_tanh_range(2.0 * ac);
  const bool small = ax < 0.625;
  const double a = select(small, ax, 1.0);
  const double num = select(small, ax * z * p, -2.0);
  const double den = select(small, q, e + 1.0);
  const double res = bits_to_double(double_to_bits(a + num / den) | sign);
  return select(x != x, x, res);
}

}  // namespace tl::vmath
