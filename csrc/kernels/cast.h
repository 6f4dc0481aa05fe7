// cast_value: C++ conversion without undefined behaviour, matching NumPy on x86 where NumPy's
// result is defined (bool is x != 0; float -> int of NaN/out-of-range gives the type's minimum,
// as cvttsd2si does; int -> smaller int wraps; float16 goes through float32, as NumPy does).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include "core/half.h"

namespace tl {

template <class To, class From>
inline To cast_value(From v) {
  if constexpr (std::is_same_v<From, half> && !std::is_same_v<To, half>) {
    return cast_value<To, float>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if constexpr (sizeof(To) < 4) {
      // NumPy (x86) goes through int32 then truncates: beyond int32's range it gives 0.
      return static_cast<To>(cast_value<int32_t, From>(v));
    } else if constexpr (std::is_unsigned_v<To>) {
      // NumPy's x86 code: below 2^(bits-1) (or NaN) the signed conversion (its minimum when
      // out of range, so negatives wrap), at or above it the signed conversion of v - 2^(bits-1)
      // with the top bit flipped (so 2^bits and beyond, inf included, give 0).
      using S = std::make_signed_t<To>;
      const From top = static_cast<From>(To(1) << (8 * sizeof(To) - 1));
      if (!(v >= top)) return static_cast<To>(cast_value<S, From>(v));
      return static_cast<To>(static_cast<To>(cast_value<S, From>(v - top)) ^ (To(1) << (8 * sizeof(To) - 1)));
    } else {
      if (!(v >= static_cast<From>(std::numeric_limits<To>::min()) &&
            v < -static_cast<From>(std::numeric_limits<To>::min())))
        return std::numeric_limits<To>::min();
      return static_cast<To>(v);
    }
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace tl
