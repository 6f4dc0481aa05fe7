#include "kernels/binary.h"
#include "kernels/strided_loop.h"

namespace tl::kernels {

namespace {

template <class T, class F>
void run(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  constexpr int64_t S = sizeof(T);
  strided_loop<3>(out.shape(),
                  {static_cast<char*>(out.data_ptr()), static_cast<char*>(a.data_ptr()),
                   static_cast<char*>(b.data_ptr())},
                  {&out.strides(), &a.strides(), &b.strides()}, {S, S, S},
                  [f](char** p, const int64_t* s, int64_t n) {
                    T* o = reinterpret_cast<T*>(p[0]);
                    const T* x = reinterpret_cast<const T*>(p[1]);
                    const T* y = reinterpret_cast<const T*>(p[2]);
                    if (s[0] == S && s[1] == S && s[2] == S) {  // contiguous
                      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
                    } else if (s[0] == S && s[1] == S && s[2] == 0) {  // tensor op scalar/row
                      const T yv = *y;
                      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
                    } else if (s[0] == S && s[1] == 0 && s[2] == S) {  // scalar/row op tensor
                      const T xv = *x;
                      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        *reinterpret_cast<T*>(p[0] + i * s[0]) =
                            f(*reinterpret_cast<const T*>(p[1] + i * s[1]), *reinterpret_cast<const T*>(p[2] + i * s[2]));
                    }
                  });
}

}  // namespace

void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  TL_DISPATCH_NUMERIC(out.dtype(), "binary", [&] {
    using T = scalar_t;
    switch (op) {
      case BinaryOp::Add: return run<T>(out, a, b, [](T x, T y) { return T(x + y); });
      case BinaryOp::Sub: return run<T>(out, a, b, [](T x, T y) { return T(x - y); });
      case BinaryOp::Mul: return run<T>(out, a, b, [](T x, T y) { return T(x * y); });
      case BinaryOp::Div: return run<T>(out, a, b, [](T x, T y) { return T(x / y); });
    }
  });
}

}  // namespace tl::kernels
