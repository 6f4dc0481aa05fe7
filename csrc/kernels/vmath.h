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
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>

// Forced inline: a call in the loop body would stop GCC from vectorising it.
#define TL_VMATH_INLINE inline __attribute__((always_inline))

namespace tl::vmath {

TL_VMATH_INLINE float bits_to_float(int32_t i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}
TL_VMATH_INLINE int32_t float_to_bits(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}
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

}  // namespace tl::vmath
