#include "kernels/copy.h"
#include "capture/recorder.h"
#include <atomic>
#include <cstring>
#include <limits>
#include "kernels/cast.h"
#include "kernels/strided_loop.h"

namespace tl::kernels {

template <class To, class From>
static void copy_typed(const Tensor& dst, const Tensor& src) {
  strided_loop<2>(dst.shape(), {static_cast<char*>(dst.data_ptr()), static_cast<char*>(src.data_ptr())},
                  {&dst.strides(), &src.strides()}, {int64_t(sizeof(To)), int64_t(sizeof(From))},
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

void copy_cast(const Tensor& dst, const Tensor& src) {
  TL_CAPTURE_KERNEL((dst), (src), copy_cast(dst, src));
  TL_CHECK(dst.shape() == src.shape(), "copy", "shape mismatch ", shape_str(dst.shape()), " and ",
           shape_str(src.shape()));
  TL_DISPATCH_ALL(dst.dtype(), "copy", [&] {
    using To = scalar_t;
    TL_DISPATCH_ALL(src.dtype(), "copy", [&] { copy_typed<To, scalar_t>(dst, src); });
  });
}

void fill(const Tensor& dst, Scalar value) {
  TL_CAPTURE_KERNEL((dst), (), fill(dst, value));
  TL_DISPATCH_ALL(dst.dtype(), "fill", [&] {
    scalar_t v = value.kind == ScalarKind::Float ? cast_value<scalar_t>(value.f) : cast_value<scalar_t>(value.i);
    strided_loop<1>(dst.shape(), {static_cast<char*>(dst.data_ptr())}, {&dst.strides()}, {int64_t(sizeof(scalar_t))},
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

template <class From, class Int>
static bool scan_int_cast(const Tensor& src, double* bad) {
  // cast_value's valid range: [min, -min) of Int, compared in From exactly as it does.
  const From lo = static_cast<From>(std::numeric_limits<Int>::min());
  std::atomic<bool> found{false};  // chunks may run on several threads
  strided_loop<1>(src.shape(), {static_cast<char*>(src.data_ptr())}, {&src.strides()}, {int64_t(sizeof(From))},
                  [&](char** p, const int64_t* s, int64_t n) {
                    if (found.load(std::memory_order_relaxed)) return;
                    for (int64_t i = 0; i < n; ++i) {
                      const From v = *reinterpret_cast<const From*>(p[0] + i * s[0]);
                      if (!(v >= lo && v < -lo)) {
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
  // uint8 is cast through int32 (cast_value, as NumPy): beyond int32's range is invalid.
  const bool i32 = to == DType::Int32 || to == DType::UInt8;
  if (src.dtype() == DType::Float32)
    return i32 ? scan_int_cast<float, int32_t>(src, bad) : scan_int_cast<float, int64_t>(src, bad);
  return i32 ? scan_int_cast<double, int32_t>(src, bad) : scan_int_cast<double, int64_t>(src, bad);
}

}  // namespace tl::kernels
