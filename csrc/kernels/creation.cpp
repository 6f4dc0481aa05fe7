#include "kernels/creation.h"
#include <cmath>
#include <limits>
#include <type_traits>
#include "core/half.h"

// These loops stay on the calling thread and outside the flush mode (kernels/denormal.h): they
// are memory-bound, so a second core would gain little, and samples such as
// linspace(0, 1e-320, 4) stay NumPy's subnormals even under set_flush_denormal(True).

namespace tl::kernels {

template <class T>
void arange_fill(T* out, int64_t n, T first, T second) {
  if (n <= 0) return;
  out[0] = first;
  if (n == 1) return;
  out[1] = second;
  if constexpr (is_float_v<T>) {
    using C = compute_t<T>;  // float16: in float32, as NumPy's HALF_fill
    const C f = first, delta = C(second) - C(first);
    for (int64_t i = 2; i < n; ++i) out[i] = T(f + static_cast<C>(i) * delta);
  } else {
    // NumPy computes start + i*delta in npy_intp and truncates; unsigned wrap-around is
    // well defined, signed overflow is not, so go through uint64.
    const uint64_t f = static_cast<uint64_t>(static_cast<int64_t>(first));
    const uint64_t d = static_cast<uint64_t>(static_cast<int64_t>(second)) - f;
    for (int64_t i = 2; i < n; ++i) out[i] = static_cast<T>(f + static_cast<uint64_t>(i) * d);
  }
}

#define TL_ARANGE_FILL(T) template void arange_fill<T>(T*, int64_t, T, T);
TL_ARANGE_FILL(uint8_t)
TL_ARANGE_FILL(uint16_t)
TL_ARANGE_FILL(uint32_t)
TL_ARANGE_FILL(uint64_t)
TL_ARANGE_FILL(int8_t)
TL_ARANGE_FILL(int16_t)
TL_ARANGE_FILL(int32_t)
TL_ARANGE_FILL(int64_t)
TL_ARANGE_FILL(half)
TL_ARANGE_FILL(float)
TL_ARANGE_FILL(double)
#undef TL_ARANGE_FILL

void linspace_fill(double* out, int64_t n, double start, double stop, bool endpoint) {
  if (n <= 0) return;
  const int64_t div = endpoint ? n - 1 : n;
  const double delta = stop - start;
  if (div > 0) {
    const double step = delta / static_cast<double>(div);
    const double ddiv = static_cast<double>(div);
    const bool step_zero = step == 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double y = step_zero ? (static_cast<double>(i) / ddiv) * delta : static_cast<double>(i) * step;
      out[i] = y + start;
    }
  } else {
    // div == 0: a single sample (endpoint=True, num=1); NumPy computes 0 * delta + start.
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<double>(i) * delta + start;
  }
  if (endpoint && n > 1) out[n - 1] = stop;
}

}  // namespace tl::kernels
