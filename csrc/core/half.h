// half: IEEE 754 binary16 storage for float16 tensors. Arithmetic goes through float (the
// implicit conversion), and the result is rounded back on assignment, as NumPy's float16 loops
// compute in float32. Conversions round to nearest even, keep subnormals, inf and NaN (ports of
// NumPy's npy_floatbits_to_halfbits / npy_doublebits_to_halfbits / npy_halfbits_to_floatbits,
// so results match np.float16 bit for bit; tests/test_float16.py checks all 65536 patterns).
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace tl {

inline uint16_t float_to_half_bits(float value) {
  uint32_t f;
  std::memcpy(&f, &value, 4);
  const uint16_t sgn = static_cast<uint16_t>((f & 0x80000000u) >> 16);
  uint32_t f_exp = f & 0x7f800000u;
  if (f_exp >= 0x47800000u) {  // overflow, inf or NaN
    const uint32_t f_sig = f & 0x007fffffu;
    if (f_exp == 0x7f800000u && f_sig != 0) {
      uint16_t ret = static_cast<uint16_t>(0x7c00u + (f_sig >> 13));
      if (ret == 0x7c00u) ++ret;  // keep a NaN whose payload was in the dropped bits a NaN
      return static_cast<uint16_t>(sgn + ret);
    }
    return static_cast<uint16_t>(sgn + 0x7c00u);
  }
  if (f_exp <= 0x38000000u) {  // a subnormal half or a signed zero
    if (f_exp < 0x33000000u) return sgn;
    f_exp >>= 23;
    uint32_t f_sig = 0x00800000u + (f & 0x007fffffu);
    f_sig >>= (113 - f_exp);
    // Round half to even; the shift may have dropped up to 11 low bits, checked in f itself.
    if (((f_sig & 0x00003fffu) != 0x00001000u) || (f & 0x000007ffu)) f_sig += 0x00001000u;
    return static_cast<uint16_t>(sgn + static_cast<uint16_t>(f_sig >> 13));
  }
  const uint16_t h_exp = static_cast<uint16_t>((f_exp - 0x38000000u) >> 13);
  uint32_t f_sig = f & 0x007fffffu;
  if ((f_sig & 0x00003fffu) != 0x00001000u) f_sig += 0x00001000u;
  // A carry out of the significand bumps the exponent (up to inf), which is the right result.
  return static_cast<uint16_t>(sgn + static_cast<uint16_t>((f_sig >> 13) + h_exp));
}

// Directly from double: going through float would round twice.
inline uint16_t double_to_half_bits(double value) {
  uint64_t d;
  std::memcpy(&d, &value, 8);
  const uint16_t sgn = static_cast<uint16_t>((d & 0x8000000000000000ULL) >> 48);
  uint64_t d_exp = d & 0x7ff0000000000000ULL;
  if (d_exp >= 0x40f0000000000000ULL) {
    const uint64_t d_sig = d & 0x000fffffffffffffULL;
    if (d_exp == 0x7ff0000000000000ULL && d_sig != 0) {
      uint16_t ret = static_cast<uint16_t>(0x7c00u + (d_sig >> 42));
      if (ret == 0x7c00u) ++ret;
      return static_cast<uint16_t>(sgn + ret);
    }
    return static_cast<uint16_t>(sgn + 0x7c00u);
  }
  if (d_exp <= 0x3f00000000000000ULL) {
    if (d_exp < 0x3e60000000000000ULL) return sgn;
    d_exp >>= 52;
    uint64_t d_sig = 0x0010000000000000ULL + (d & 0x000fffffffffffffULL);
    d_sig <<= (d_exp - 998);  // doubles have room to align without losing bits
    if ((d_sig & 0x003fffffffffffffULL) != 0x0010000000000000ULL) d_sig += 0x0010000000000000ULL;
    return static_cast<uint16_t>(sgn + static_cast<uint16_t>(d_sig >> 53));
  }
  const uint16_t h_exp = static_cast<uint16_t>((d_exp - 0x3f00000000000000ULL) >> 42);
  uint64_t d_sig = d & 0x000fffffffffffffULL;
  if ((d_sig & 0x000007ffffffffffULL) != 0x0000020000000000ULL) d_sig += 0x0000020000000000ULL;
  return static_cast<uint16_t>(sgn + static_cast<uint16_t>((d_sig >> 42) + h_exp));
}

inline float half_bits_to_float(uint16_t h) {
  const uint32_t sgn = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t h_exp = h & 0x7c00u;
  uint32_t bits;
  if (h_exp == 0) {  // zero or subnormal: normalise the significand
    uint32_t h_sig = h & 0x03ffu;
    if (h_sig == 0) {
      bits = sgn;
    } else {
      h_sig <<= 1;
      while ((h_sig & 0x0400u) == 0) {
        h_sig <<= 1;
        ++h_exp;
      }
      bits = sgn + ((127 - 15 - h_exp) << 23) + ((h_sig & 0x03ffu) << 13);
    }
  } else if (h_exp == 0x7c00u) {
    bits = sgn + 0x7f800000u + (static_cast<uint32_t>(h & 0x03ffu) << 13);
  } else {
    bits = sgn + ((static_cast<uint32_t>(h & 0x7fffu) + 0x1c000u) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

struct half {
  uint16_t bits = 0;

  half() = default;
  half(float f) : bits(float_to_half_bits(f)) {}  // NOLINT: implicit, so `half h = x * y;` rounds
  half(double d) : bits(double_to_half_bits(d)) {}
  // Integers: exact into float below 2^24, and anything larger is inf in half anyway.
  template <class I, std::enable_if_t<std::is_integral_v<I>, int> = 0>
  half(I v) : bits(float_to_half_bits(static_cast<float>(v))) {}
  operator float() const { return half_bits_to_float(bits); }  // NOLINT

  static half from_bits(uint16_t b) {
    half h;
    h.bits = b;
    return h;
  }
};
static_assert(sizeof(half) == 2 && std::is_trivially_copyable_v<half>);

// Floating point including half (std::is_floating_point is false for half).
template <class T>
inline constexpr bool is_float_v = std::is_floating_point_v<T> || std::is_same_v<T, half>;
// The type a float op computes in: float for half, T itself otherwise.
template <class T>
using compute_t = std::conditional_t<std::is_same_v<T, half>, float, T>;

}  // namespace tl

namespace std {
template <>
class numeric_limits<tl::half> {
 public:
  static constexpr bool is_specialized = true;
  static constexpr bool is_signed = true;
  static constexpr bool is_integer = false;
  static constexpr bool has_infinity = true;
  static constexpr bool has_quiet_NaN = true;
  static constexpr int digits = 11;
  static tl::half lowest() { return tl::half::from_bits(0xfbffu); }  // -65504
  static tl::half max() { return tl::half::from_bits(0x7bffu); }     // 65504
  static tl::half min() { return tl::half::from_bits(0x0400u); }     // 2^-14
  static tl::half denorm_min() { return tl::half::from_bits(0x0001u); }
  static tl::half epsilon() { return tl::half::from_bits(0x1400u); }  // 2^-10
  static tl::half infinity() { return tl::half::from_bits(0x7c00u); }
  static tl::half quiet_NaN() { return tl::half::from_bits(0x7e00u); }
};
}  // namespace std
