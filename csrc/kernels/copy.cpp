#include "kernels/copy.h"
#include "capture/elementwise_log.h"
#include "capture/recorder.h"
#include <atomic>
#include <cstring>
#include <limits>
#include "kernels/cast.h"
#include "kernels/complex.h"
#include "kernels/strided_loop.h"

namespace tl::kernels {

template <class To, class From>
static void copy_typed(const StridedView& dst, const StridedView& src) {
  strided_loop<2>(dst.shape, {dst.bytes(), src.bytes()},
                  {&dst.strides, &src.strides}, {int64_t(sizeof(To)), int64_t(sizeof(From))},
                  [](char** p, const int64_t* s, int64_t n) {
                    To* d = reinterpret_cast<To*>(p[0]);
                    const From* a = reinterpret_cast<const From*>(p[1]);
                    if (s[0] == int64_t(sizeof(To)) && s[1] == int64_t(sizeof(From))) {
                      if constexpr (std::is_same_v<To, From>) {
                        std::memcpy(d, a, n * sizeof(To));
                      } else {
                        for (int64_t i = 0; i < n; ++i) d[i] = cast_value<To>(a[i]);
                      }
                    } else if (s[1] == 0) {
                      const To v = cast_value<To>(*a);
                      for (int64_t i = 0; i < n; ++i) *reinterpret_cast<To*>(p[0] + i * s[0]) = v;
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        *reinterpret_cast<To*>(p[0] + i * s[0]) =
                            cast_value<To>(*reinterpret_cast<const From*>(p[1] + i * s[1]));
                    }
                  });
}

void copy_cast(const StridedView& dst, const StridedView& src) {
  TL_CAPTURE_ELEMENTWISE([](const StridedView& d, const StridedView& s) { copy_cast(d, s); }, dst, src);
  TL_CHECK(dst.shape == src.shape, "copy", "shape mismatch ", shape_str(dst.shape.vec()), " and ",
           shape_str(src.shape.vec()));
  if (is_complex(dst.dtype) || is_complex(src.dtype)) return complex_copy_cast(dst, src);
  TL_DISPATCH_ALL(dst.dtype, "copy", [&] {
    using To = scalar_t;
    TL_DISPATCH_ALL(src.dtype, "copy", [&] { copy_typed<To, scalar_t>(dst, src); });
  });
}

void fill(const StridedView& dst, Scalar value) {
  TL_CAPTURE_ELEMENTWISE([value](const StridedView& d) { fill(d, value); }, dst);
  if (is_complex(dst.dtype)) return complex_fill(dst, value);
  TL_DISPATCH_ALL(dst.dtype, "fill", [&] {
    scalar_t v = value.use_double<scalar_t>() ? cast_value<scalar_t>(value.f) : cast_value<scalar_t>(value.i);
    strided_loop<1>(dst.shape, {dst.bytes()}, {&dst.strides}, {int64_t(sizeof(scalar_t))},
                    [v](char** p, const int64_t* s, int64_t n) {
                      if (s[0] == int64_t(sizeof(scalar_t))) {
                        scalar_t* d = reinterpret_cast<scalar_t*>(p[0]);
                        for (int64_t i = 0; i < n; ++i) d[i] = v;
                      } else {
                        for (int64_t i = 0; i < n; ++i) *reinterpret_cast<scalar_t*>(p[0] + i * s[0]) = v;
                      }
                    });
  });
}

// Is some element of src outside [lo, hi) (NaN included)? The first one goes to *bad.
template <class From>
static bool scan_int_cast(const Tensor& src, double lo_d, double hi_d, double* bad) {
  using C = compute_t<From>;
  const C lo = static_cast<C>(lo_d), hi = static_cast<C>(hi_d);
  std::atomic<bool> found{false};  // chunks may run on several threads
  strided_loop<1>(src.shape(), {static_cast<char*>(src.data_ptr())}, {&src.strides()}, {int64_t(sizeof(From))},
                  [&](char** p, const int64_t* s, int64_t n) {
                    if (found.load(std::memory_order_relaxed)) return;
                    for (int64_t i = 0; i < n; ++i) {
                      const C v = static_cast<C>(*reinterpret_cast<const From*>(p[0] + i * s[0]));
                      if (!(v >= lo && v < hi)) {
                        bool expected = false;
                        if (found.compare_exchange_strong(expected, true)) *bad = static_cast<double>(v);
                        return;
                      }
                    }
                  });
  return found.load();
}

bool has_invalid_int_cast(const Tensor& src, DType to, double* bad) {
  capture::opaque();  // a check on tensor data: replays re-run the op
  if (!is_floating(src.dtype()) || !is_integral(to)) return false;
  // cast_value's defined range: types below 32 bits go through int32 (as NumPy); unsigned
  // 32/64-bit types take [-2^(bits-1), 2^bits) (negatives wrap, as NumPy's x86 conversion).
  double lo = -2147483648.0, hi = 2147483648.0;
  switch (to) {
    case DType::Int64: lo = -9223372036854775808.0; hi = 9223372036854775808.0; break;
    case DType::UInt32: hi = 4294967296.0; break;
    case DType::UInt64: lo = -9223372036854775808.0; hi = 18446744073709551616.0; break;
    default: break;
  }
  return TL_DISPATCH_ALL(src.dtype(), "cast", [&] {
    if constexpr (is_float_v<scalar_t>) return scan_int_cast<scalar_t>(src, lo, hi, bad);
    else return false;
  });
}

}  // namespace tl::kernels
