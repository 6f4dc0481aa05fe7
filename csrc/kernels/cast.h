// cast_value: C++ conversion without undefined behaviour, matching NumPy on x86 where NumPy's
// result is defined (bool is x != 0; float -> int of NaN/out-of-range gives the type's minimum,
// as cvttsd2si does; int -> smaller int wraps).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace tl {

template <class To, class From>
inline To cast_value(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if constexpr (sizeof(To) < 4) {
      // NumPy (x86) goes through int32 then truncates: beyond int32's range it gives 0.
      return static_cast<To>(cast_value<int32_t, From>(v));
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
