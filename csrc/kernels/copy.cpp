#include "kernels/copy.h"
#include <cstring>
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
  TL_CHECK(dst.shape() == src.shape(), "copy", "shape mismatch ", shape_str(dst.shape()), " and ",
           shape_str(src.shape()));
  TL_DISPATCH_ALL(dst.dtype(), "copy", [&] {
    using To = scalar_t;
    TL_DISPATCH_ALL(src.dtype(), "copy", [&] { copy_typed<To, scalar_t>(dst, src); });
  });
}

void fill(const Tensor& dst, Scalar value) {
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

}  // namespace tl::kernels
