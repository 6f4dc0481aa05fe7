// Compiled with -fno-math-errno -fno-trapping-math (CMakeLists.txt) so sqrt is one instruction
// and the loops with selects vectorise. float32 exp / tanh / sigmoid and float64 tanh on
// contiguous runs go through the per-ISA loops of unary_simd.h.
#include "kernels/unary.h"
#include "capture/elementwise_log.h"
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include "kernels/complex.h"
#include "kernels/strided_loop.h"
#include "kernels/unary_simd.h"
#include "kernels/vmath.h"

namespace tl::kernels {

namespace {

template <class Out, class T, class F>
void run(const StridedView& out, const StridedView& x, F f) {
  constexpr int64_t SO = sizeof(Out), S = sizeof(T);
  strided_loop<2>(out.shape, {out.bytes(), x.bytes()},
                  {&out.strides, &x.strides}, {SO, S}, [f](char** p, const int64_t* s, int64_t n) {
                    if (s[0] == SO && s[1] == S) {
                      Out* __restrict o = reinterpret_cast<Out*>(p[0]);
                      const T* a = reinterpret_cast<const T*>(p[1]);
                      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
                    } else {
                      char* po = p[0];
                      const char* pa = p[1];
                      for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1])
                        *reinterpret_cast<Out*>(po) = f(*reinterpret_cast<const T*>(pa));
                    }
                  });
}

// Same, with the contiguous path handed to a per-ISA loop (unary_simd.h).
template <class T, class Out = T, class F>
void run_dispatched(const StridedView& out, const StridedView& x, void (*contiguous)(Out*, const T*, int64_t), F f) {
  constexpr int64_t S = sizeof(T), SO = sizeof(Out);
  strided_loop<2>(out.shape, {out.bytes(), x.bytes()},
                  {&out.strides, &x.strides}, {SO, S}, [contiguous, f](char** p, const int64_t* s, int64_t n) {
                    if (s[0] == SO && s[1] == S) {
                      contiguous(reinterpret_cast<Out*>(p[0]), reinterpret_cast<const T*>(p[1]), n);
                    } else {
                      char* po = p[0];
                      const char* pa = p[1];
                      for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1])
                        *reinterpret_cast<Out*>(po) = f(*reinterpret_cast<const T*>(pa));
                    }
                  });
}

// float32 and float64 through their per-ISA loops (l32, l64: unary_simd.h), other types through f.
template <class T, class Out, class L32, class L64, class F>
void run_fd(const StridedView& out, const StridedView& x, L32 l32, L64 l64, F f) {
  if constexpr (std::is_same_v<T, float>) run_dispatched<T, Out>(out, x, l32, f);
  else if constexpr (std::is_same_v<T, double>) run_dispatched<T, Out>(out, x, l64, f);
  else run<Out, T>(out, x, f);
}

template <class T>
using uint_of = std::make_unsigned_t<T>;
// Products in at least unsigned int: uint16 * uint16 would promote to int and overflow it.
template <class T>
using mul_of = std::common_type_t<uint_of<T>, unsigned>;

template <class T>
void math(UnaryOp op, const StridedView& out, const StridedView& x) {
  constexpr bool F = is_float_v<T>;
  constexpr bool B = std::is_same_v<T, bool>;
  constexpr bool S = std::is_signed_v<T> && !F;
  using C = compute_t<T>;  // float16 computes in float32 and rounds each result, as NumPy
  const F32UnaryLoops& L = f32_unary_loops();
  switch (op) {
    case UnaryOp::Neg:
      if constexpr (F) return run<T, T>(out, x, [](T v) { return -v; });
      else if constexpr (!B) return run<T, T>(out, x, [](T v) { return T(uint_of<T>(0) - uint_of<T>(v)); });
      break;
    case UnaryOp::Pos: return run<T, T>(out, x, [](T v) { return v; });
    case UnaryOp::Abs:
      if constexpr (F) return run<T, T>(out, x, [](T v) { return std::fabs(v); });
      else if constexpr (S) return run<T, T>(out, x, [](T v) { return v < 0 ? T(uint_of<T>(0) - uint_of<T>(v)) : v; });
      else return run<T, T>(out, x, [](T v) { return v; });
    case UnaryOp::Square:
      if constexpr (F) return run<T, T>(out, x, [](T v) { return v * v; });
      else if constexpr (!B) return run<T, T>(out, x, [](T v) { return T(mul_of<T>(v) * mul_of<T>(v)); });
      break;
    case UnaryOp::Sign:
      if constexpr (F) return run<T, T>(out, x, [](T v) { return v > 0 ? T(1) : (v < 0 ? T(-1) : v); });
      else if constexpr (!B) return run<T, T>(out, x, [](T v) { return T((v > 0) - (v < 0)); });
      break;
    case UnaryOp::Reciprocal:
      if constexpr (F) return run<T, T>(out, x, [](T v) { return T(1) / v; });
      // 1 / v truncated: only 1 (and -1 for signed types) give nonzero results; 0 for v == 0,
      // which NumPy leaves undefined.
      else if constexpr (S) return run<T, T>(out, x, [](T v) { return (v == T(1) || v == T(-1)) ? v : T(0); });
      else if constexpr (!B) return run<T, T>(out, x, [](T v) { return v == T(1) ? v : T(0); });
      break;
    case UnaryOp::Relu:
      if constexpr (B) return run<T, T>(out, x, [](T v) { return v; });
      else return run<T, T>(out, x, [](T v) { return v < 0 ? T(0) : v; });
    case UnaryOp::Floor:
      if constexpr (F) return run_fd<T, T>(out, x, L.floor, L.floor64, [](T v) { return std::floor(v); });
      else return run<T, T>(out, x, [](T v) { return v; });
    case UnaryOp::Ceil:
      if constexpr (F) return run_fd<T, T>(out, x, L.ceil, L.ceil64, [](T v) { return std::ceil(v); });
      else return run<T, T>(out, x, [](T v) { return v; });
    case UnaryOp::Trunc:
      if constexpr (F) return run_fd<T, T>(out, x, L.trunc, L.trunc64, [](T v) { return std::trunc(v); });
      else return run<T, T>(out, x, [](T v) { return v; });
    case UnaryOp::Round:  // nearbyint in the default rounding mode: half to even, as np.round
      if constexpr (F) return run_fd<T, T>(out, x, L.round, L.round64, [](T v) { return std::nearbyint(v); });
      else if constexpr (!B) return run<T, T>(out, x, [](T v) { return v; });
      break;
    case UnaryOp::BitNot:
      if constexpr (B) return run<T, T>(out, x, [](T v) { return !v; });
      else if constexpr (!F) return run<T, T>(out, x, [](T v) { return T(~v); });
      break;
    case UnaryOp::IsNan:
      if constexpr (F) return run<bool, T>(out, x, [](T v) { return v != v; });
      else return run<bool, T>(out, x, [](T) { return false; });
    case UnaryOp::IsFinite:
      if constexpr (F) return run<bool, T>(out, x, [](T v) { return v - v == T(0); });
      else return run<bool, T>(out, x, [](T) { return true; });
    case UnaryOp::IsInf:
      if constexpr (F)
        return run_fd<T, bool>(out, x, L.isinf, L.isinf64, [](T v) { return std::fabs(C(v)) == std::numeric_limits<C>::infinity(); });
      else return run<bool, T>(out, x, [](T) { return false; });
    case UnaryOp::Signbit:  // the sign bit itself: true for -0.0 and for NaNs with the sign set
      if constexpr (F) return run_fd<T, bool>(out, x, L.signbit, L.signbit64, [](T v) { return std::signbit(C(v)); });
      else if constexpr (std::is_signed_v<T>) return run<bool, T>(out, x, [](T v) { return v < 0; });
      else return run<bool, T>(out, x, [](T) { return false; });
    case UnaryOp::LogicalNot: return run<bool, T>(out, x, [](T v) { return v == T(0); });
    default: break;
  }
  if constexpr (std::is_same_v<T, float>) {
    const F32UnaryLoops& loops = f32_unary_loops();
    switch (op) {
      case UnaryOp::Exp: return run_dispatched<T>(out, x, loops.exp, [](T v) { return vmath::exp_f32(v); });
      case UnaryOp::Tanh: return run_dispatched<T>(out, x, loops.tanh, [](T v) { return vmath::tanh_f32(v); });
      case UnaryOp::Sigmoid:
        return run_dispatched<T>(out, x, loops.sigmoid, [](T v) { return vmath::sigmoid_f32(v); });
      default: break;
    }
  }
  if constexpr (std::is_same_v<T, double>) {
    if (op == UnaryOp::Tanh)
      return run_dispatched<T>(out, x, f32_unary_loops().tanh64, [](T v) { return vmath::tanh_f64(v); });
  }
  if constexpr (F) {
    switch (op) {
      case UnaryOp::Exp: return run<T, T>(out, x, [](C v) { return std::exp(v); });
      case UnaryOp::Expm1: return run<T, T>(out, x, [](C v) { return std::expm1(v); });
      case UnaryOp::Tanh: return run<T, T>(out, x, [](C v) { return std::tanh(v); });
      case UnaryOp::Sigmoid:
        return run<T, T>(out, x, [](C v) {
          const C e = std::exp(-std::fabs(v));
          return (v < 0 ? e : C(1)) / (C(1) + e);
        });
      case UnaryOp::Log: return run<T, T>(out, x, [](C v) { return std::log(v); });
      case UnaryOp::Log1p: return run<T, T>(out, x, [](C v) { return std::log1p(v); });
      case UnaryOp::Log2: return run<T, T>(out, x, [](C v) { return std::log2(v); });
      case UnaryOp::Log10: return run<T, T>(out, x, [](C v) { return std::log10(v); });
      case UnaryOp::Sqrt: return run<T, T>(out, x, [](C v) { return std::sqrt(v); });
      case UnaryOp::Sin: return run<T, T>(out, x, [](C v) { return std::sin(v); });
      case UnaryOp::Cos: return run<T, T>(out, x, [](C v) { return std::cos(v); });
      case UnaryOp::Tan: return run<T, T>(out, x, [](C v) { return std::tan(v); });
      case UnaryOp::Arcsin: return run<T, T>(out, x, [](C v) { return std::asin(v); });
      case UnaryOp::Arccos: return run<T, T>(out, x, [](C v) { return std::acos(v); });
      case UnaryOp::Arctan: return run<T, T>(out, x, [](C v) { return std::atan(v); });
      case UnaryOp::Sinh: return run<T, T>(out, x, [](C v) { return std::sinh(v); });
      case UnaryOp::Cosh: return run<T, T>(out, x, [](C v) { return std::cosh(v); });
      case UnaryOp::Arcsinh: return run<T, T>(out, x, [](C v) { return std::asinh(v); });
      case UnaryOp::Arccosh: return run<T, T>(out, x, [](C v) { return std::acosh(v); });
      case UnaryOp::Arctanh: return run<T, T>(out, x, [](C v) { return std::atanh(v); });
      case UnaryOp::Erf: return run<T, T>(out, x, [](C v) { return std::erf(v); });
      default: break;
    }
  }
  throw TypeError(str_cat("[", unary_op_name(op), "] not supported for dtype ", dtype_name(x.dtype)));
}

}  // namespace

void unary(UnaryOp op, const StridedView& out, const StridedView& x) {
  TL_CAPTURE_ELEMENTWISE([op](const StridedView& o, const StridedView& v) { unary(op, o, v); }, out, x);
  if (is_complex(x.dtype)) return complex_unary(op, out, x);
  const bool to_bool = unary_dtypes(op) == UnaryDTypes::ToBool;
  TL_CHECK(to_bool ? out.dtype == DType::Bool : out.dtype == x.dtype, unary_op_name(op),
           "internal dtype mismatch: ", dtype_name(out.dtype), " from ", dtype_name(x.dtype));
  TL_DISPATCH_ALL(x.dtype, unary_op_name(op), [&] { math<scalar_t>(op, out, x); });
}

void step_positive(const StridedView& out, const StridedView& x) {
  TL_CAPTURE_ELEMENTWISE([](const StridedView& o, const StridedView& v) { step_positive(o, v); }, out, x);
  TL_CHECK(out.dtype == x.dtype && x.dtype != DType::Bool, "step_positive", "internal dtype mismatch");
  TL_DISPATCH_ALL(x.dtype, "step_positive", [&] {
    using T = scalar_t;
    if constexpr (!std::is_same_v<T, bool>) run<T, T>(out, x, [](T v) { return v > 0 ? T(1) : T(0); });
  });
}

}  // namespace tl::kernels
