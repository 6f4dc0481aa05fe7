// The complex64 / complex128 kernels (see complex.h). Only the ops listed there are
// instantiated: two element types times about forty small loops.
#include "kernels/complex.h"
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include "capture/kernel_log.h"
#include "kernels/cast.h"
#include "kernels/complex_simd.h"
#include "kernels/reduce_impl.h"
#include "kernels/strided_loop.h"

namespace tl::kernels {

namespace {

using c64 = std::complex<float>;
using c128 = std::complex<double>;
template <class T> inline constexpr bool is_complex_v = false;
template <class R> inline constexpr bool is_complex_v<std::complex<R>> = true;

// Calls f.template operator()<C>() with C the std::complex type of a complex dtype.
template <class F>
decltype(auto) dispatch_complex(DType d, const char* op, F&& f) {
  if (d == DType::Complex64) return f(c64{});
  if (d == DType::Complex128) return f(c128{});
  throw TypeError(str_cat("[", op, "] not supported for dtype ", dtype_name(d)));
}

// out[i] = f(x[i]) over a strided pair: a typed contiguous path (GCC vectorises the simple
// ones), and a general strided one.
// `fast`, when given, is the per-ISA loop (complex_simd.h) for contiguous runs.
template <class Out, class In, class F>
void map1(const StridedView& out, const StridedView& x, F f, void (*fast)(Out*, const In*, int64_t) = nullptr) {
  constexpr int64_t SO = sizeof(Out), SI = sizeof(In);
  strided_loop<2>(out.shape, {out.bytes(), x.bytes()}, {&out.strides, &x.strides}, {SO, SI},
                  [f, fast](char** p, const int64_t* s, int64_t n) {
                    if (fast && s[0] == SO && s[1] == SI) {
                      fast(reinterpret_cast<Out*>(p[0]), reinterpret_cast<const In*>(p[1]), n);
                      return;
                    }
                    if (s[0] == SO && s[1] == SI) {
                      Out* __restrict o = reinterpret_cast<Out*>(p[0]);
                      const In* a = reinterpret_cast<const In*>(p[1]);
                      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
                      return;
                    }
                    for (int64_t i = 0; i < n; ++i)
                      *reinterpret_cast<Out*>(p[0] + i * s[0]) = f(*reinterpret_cast<const In*>(p[1] + i * s[1]));
                  });
}

// out[i] = f(a[i], b[i]): contiguous, scalar-broadcast (either side) and general paths.
template <class Out, class In, class F>
void map2(const StridedView& out, const StridedView& a, const StridedView& b, F f,
          void (*fast)(Out*, const In*, const In*, int64_t) = nullptr) {
  constexpr int64_t SO = sizeof(Out), SI = sizeof(In);
  strided_loop<3>(out.shape, {out.bytes(), a.bytes(), b.bytes()}, {&out.strides, &a.strides, &b.strides},
                  {SO, SI, SI}, [f, fast](char** p, const int64_t* s, int64_t n) {
                    Out* __restrict o = reinterpret_cast<Out*>(p[0]);
                    const In* x = reinterpret_cast<const In*>(p[1]);
                    const In* y = reinterpret_cast<const In*>(p[2]);
                    if (fast && s[0] == SO && s[1] == SI && s[2] == SI) {
                      fast(o, x, y, n);
                    } else if (s[0] == SO && s[1] == SI && s[2] == SI) {
                      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
                    } else if (s[0] == SO && s[1] == SI && s[2] == 0) {
                      const In yv = *y;
                      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
                    } else if (s[0] == SO && s[1] == 0 && s[2] == SI) {
                      const In xv = *x;
                      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        *reinterpret_cast<Out*>(p[0] + i * s[0]) = f(*reinterpret_cast<const In*>(p[1] + i * s[1]),
                                                                     *reinterpret_cast<const In*>(p[2] + i * s[2]));
                    }
                  });
}

template <class C>
const ComplexLoops<C>& simd() {
  if constexpr (std::is_same_v<C, c64>) return complex_loops().c64;
  else return complex_loops().c128;
}

// ---- casts ----
template <class To, class From>
To cast_to_complex(From v) {
  using R = typename To::value_type;
  if constexpr (is_complex_v<From>) return To(static_cast<R>(v.real()), static_cast<R>(v.imag()));
  else return To(cast_value<R>(v), R(0));
}
template <class To, class C>
To cast_from_complex(C v) {
  if constexpr (std::is_same_v<To, bool>) return v.real() != 0 || v.imag() != 0;
  else return cast_value<To>(v.real());
}

// ---- unary ----
// The textbook product, with the C library's Annex G recovery (__mulsc3: an infinite operand
// gives an infinite result) only when both parts came out NaN: std::complex's operator* checks
// the same but GCC then keeps the whole loop scalar around the call.
template <class C>
inline C mul_c(C x, C y) {
  const auto a = x.real(), b = x.imag(), c = y.real(), d = y.imag();
  const auto re = a * c - b * d, im = a * d + b * c;
  if (re != re && im != im) return x * y;
  return C(re, im);
}
// |z| without overflow: complex64 through double (exact squares, one rounding), complex128 by
// scaling with the larger part; infinities and NaNs take hypot's rules (inf beats NaN).
template <class C>
inline typename C::value_type abs_c(C z) {
  using R = typename C::value_type;
  const R x = std::fabs(z.real()), y = std::fabs(z.imag());
  if (!(x <= std::numeric_limits<R>::max() && y <= std::numeric_limits<R>::max())) return std::hypot(x, y);
  if constexpr (std::is_same_v<R, float>) {
    return static_cast<float>(std::sqrt(double(x) * double(x) + double(y) * double(y)));
  } else {
    const R m = x > y ? x : y, n = x > y ? y : x;
    if (m == 0) return R(0);
    const R r = n / m;
    return m * std::sqrt(1 + r * r);
  }
}
template <class C>
inline bool is_nan(C z) { return z.real() != z.real() || z.imag() != z.imag(); }

// NumPy's nc_expm1 for finite z (accurate near 0); cexp's special cases elsewhere.
template <class C>
C expm1_c(C z) {
  using R = typename C::value_type;
  const R a = z.real(), b = z.imag();
  if (!std::isfinite(a) || !std::isfinite(b)) return std::exp(z) - C(1);
  const R h = std::sin(b / 2);
  const R re = std::expm1(a) * std::cos(b) - 2 * h * h;
  // An exact zero is +0: the standard's expm1(-0 + 0j) is 0 + 0j (-0 * 1 - 0 would be -0).
  return C(re == 0 ? R(0) : re, std::exp(a) * std::sin(b));
}
// log(1 + z): NumPy's nc_log1p (log |1 + z| + i arg(1 + z)), with log1p for the modulus near 1.
template <class C>
C log1p_c(C z) {
  using R = typename C::value_type;
  const R a = z.real(), b = z.imag();
  const R arg = std::atan2(b, a + 1);
  if (std::fabs(a) < R(0.5) && std::fabs(b) < R(0.5)) return C(R(0.5) * std::log1p(a * (a + 2) + b * b), arg);
  return C(std::log(std::hypot(a + 1, b)), arg);
}
// z / |z|, 0 for 0, NaN + NaN j for a NaN part (the standard's sign).
template <class C>
C sign_c(C z) {
  using R = typename C::value_type;
  if (is_nan(z)) return C(std::numeric_limits<R>::quiet_NaN(), std::numeric_limits<R>::quiet_NaN());
  if (z.real() == 0 && z.imag() == 0) return C(0, 0);
  const R m = abs_c(z);
  if (std::isinf(m)) {  // an infinite part: its direction (inf / inf would be NaN)
    return C(std::isinf(z.real()) ? std::copysign(R(1), z.real()) : std::copysign(R(0), z.real()),
             std::isinf(z.imag()) ? std::copysign(R(1), z.imag()) : std::copysign(R(0), z.imag())) /
           (std::isinf(z.real()) && std::isinf(z.imag()) ? std::sqrt(R(2)) : R(1));
  }
  return C(z.real() / m, z.imag() / m);
}
// tanh with the standard's infinite case: tanh(+-inf + bj) is +-1 + 0j with the sign of b
// (Annex G, which glibc follows, gives the sign of sin(2b)); tan(z) = -i tanh(iz) keeps it.
template <class C>
C tanh_c(C z) {
  using R = typename C::value_type;
  if (std::isinf(z.real()) && std::isfinite(z.imag()))
    return C(std::copysign(R(1), z.real()), std::copysign(R(0), z.imag()));
  return std::tanh(z);
}
template <class C>
C tan_c(C z) {
  if (std::isfinite(z.real()) && std::isfinite(z.imag())) return std::tan(z);
  const C t = tanh_c(C(-z.imag(), z.real()));
  return C(t.imag(), -t.real());
}
template <class C>
C scale(C z, typename C::value_type k) {
  return C(z.real() * k, z.imag() * k);
}

template <class C>
void unary_typed(UnaryOp op, const StridedView& out, const StridedView& x) {
  using R = typename C::value_type;
  switch (op) {
    case UnaryOp::Neg: return map1<C, C>(out, x, [](C z) { return -z; });
    case UnaryOp::Pos: return map1<C, C>(out, x, [](C z) { return z; });
    case UnaryOp::Abs: return map1<R, C>(out, x, [](C z) { return abs_c(z); }, simd<C>().abs);
    case UnaryOp::Square: return map1<C, C>(out, x, [](C z) { return mul_c(z, z); });
    case UnaryOp::Sign: return map1<C, C>(out, x, [](C z) { return sign_c(z); });
    case UnaryOp::Reciprocal: return map1<C, C>(out, x, [](C z) { return C(1) / z; });
    case UnaryOp::Round:
      return map1<C, C>(out, x, [](C z) { return C(std::nearbyint(z.real()), std::nearbyint(z.imag())); });
    case UnaryOp::Exp: return map1<C, C>(out, x, [](C z) { return std::exp(z); });
    case UnaryOp::Expm1: return map1<C, C>(out, x, [](C z) { return expm1_c(z); });
    case UnaryOp::Log: return map1<C, C>(out, x, [](C z) { return std::log(z); });
    case UnaryOp::Log1p: return map1<C, C>(out, x, [](C z) { return log1p_c(z); });
    case UnaryOp::Log2:
      return map1<C, C>(out, x, [](C z) { return scale(std::log(z), R(1.44269504088896340735992468100189214)); });
    case UnaryOp::Log10:
      return map1<C, C>(out, x, [](C z) { return scale(std::log(z), R(0.434294481903251827651128918916605082)); });
    case UnaryOp::Sqrt: return map1<C, C>(out, x, [](C z) { return std::sqrt(z); });
    case UnaryOp::Sin: return map1<C, C>(out, x, [](C z) { return std::sin(z); });
    case UnaryOp::Cos: return map1<C, C>(out, x, [](C z) { return std::cos(z); });
    case UnaryOp::Tan: return map1<C, C>(out, x, [](C z) { return tan_c(z); });
    case UnaryOp::Arcsin: return map1<C, C>(out, x, [](C z) { return std::asin(z); });
    case UnaryOp::Arccos: return map1<C, C>(out, x, [](C z) { return std::acos(z); });
    case UnaryOp::Arctan: return map1<C, C>(out, x, [](C z) { return std::atan(z); });
    case UnaryOp::Sinh: return map1<C, C>(out, x, [](C z) { return std::sinh(z); });
    case UnaryOp::Cosh: return map1<C, C>(out, x, [](C z) { return std::cosh(z); });
    case UnaryOp::Tanh: return map1<C, C>(out, x, [](C z) { return tanh_c(z); });
    case UnaryOp::Arcsinh: return map1<C, C>(out, x, [](C z) { return std::asinh(z); });
    case UnaryOp::Arccosh: return map1<C, C>(out, x, [](C z) { return std::acosh(z); });
    case UnaryOp::Arctanh: return map1<C, C>(out, x, [](C z) { return std::atanh(z); });
    case UnaryOp::IsNan: return map1<bool, C>(out, x, [](C z) { return is_nan(z); });
    case UnaryOp::IsFinite:
      return map1<bool, C>(out, x, [](C z) { return std::isfinite(z.real()) && std::isfinite(z.imag()); });
    case UnaryOp::IsInf:
      return map1<bool, C>(out, x, [](C z) { return std::isinf(z.real()) || std::isinf(z.imag()); });
    case UnaryOp::LogicalNot: return map1<bool, C>(out, x, [](C z) { return z.real() == 0 && z.imag() == 0; });
    default: break;
  }
  throw TypeError(str_cat("[", unary_op_name(op), "] not supported for complex dtype ", dtype_name(x.dtype)));
}

// ---- binary ----
// NumPy's npy_cpow: 0 ** 0 is 1, 0 ** positive real is 0, small integer exponents by repeated
// multiplication (exact for Gaussian integers), else the C library's cpow.
template <class C>
C pow_c(C a, C b) {
  using R = typename C::value_type;
  if (b.real() == 0 && b.imag() == 0) return C(1, 0);
  if (a.real() == 0 && a.imag() == 0) {  // NumPy 2: 0 ** b is 0 when real(b) > 0, else NaN
    if (b.real() > 0) return C(0, 0);
    return C(std::numeric_limits<R>::quiet_NaN(), std::numeric_limits<R>::quiet_NaN());
  }
  if (b.imag() == 0 && b.real() > -100 && b.real() < 100 && b.real() == std::trunc(b.real())) {
    long n = static_cast<long>(b.real());
    if (n == 1) return a;
    if (n == 2) return a * a;
    if (n == 3) return a * a * a;
    const bool neg = n < 0;
    if (neg) n = -n;
    C r(1, 0), p = a;
    for (long m = n; m; m >>= 1) {
      if (m & 1) r *= p;
      p *= p;
    }
    return neg ? C(1) / r : r;
  }
  return std::pow(a, b);
}
template <class C>
inline bool nonzero(C z) { return z.real() != 0 || z.imag() != 0; }

template <class C>
void binary_typed(BinaryOp op, const StridedView& out, const StridedView& a, const StridedView& b) {
  switch (op) {
    case BinaryOp::Add: return map2<C, C>(out, a, b, [](C x, C y) { return x + y; }, simd<C>().add);
    case BinaryOp::Sub: return map2<C, C>(out, a, b, [](C x, C y) { return x - y; }, simd<C>().sub);
    case BinaryOp::Mul: return map2<C, C>(out, a, b, [](C x, C y) { return mul_c(x, y); }, simd<C>().mul);
    case BinaryOp::Div: return map2<C, C>(out, a, b, [](C x, C y) { return x / y; });
    case BinaryOp::Pow: return map2<C, C>(out, a, b, [](C x, C y) { return pow_c(x, y); });
    case BinaryOp::Eq: return map2<bool, C>(out, a, b, [](C x, C y) { return x == y; });
    case BinaryOp::Ne: return map2<bool, C>(out, a, b, [](C x, C y) { return x != y; });
    case BinaryOp::LogicalAnd: return map2<bool, C>(out, a, b, [](C x, C y) { return nonzero(x) && nonzero(y); });
    case BinaryOp::LogicalOr: return map2<bool, C>(out, a, b, [](C x, C y) { return nonzero(x) || nonzero(y); });
    case BinaryOp::LogicalXor: return map2<bool, C>(out, a, b, [](C x, C y) { return nonzero(x) != nonzero(y); });
    default: break;
  }
  throw TypeError(str_cat("[", binary_op_name(op), "] not supported for complex dtype ", dtype_name(a.dtype),
                          " (complex numbers are not ordered)"));
}

// ---- reductions: accumulated in complex128 ----
struct CSum {
  using acc_t = c128;
  static c128 identity() { return c128(0); }
  static c128 merge(c128 a, c128 b) { return a + b; }
};
struct CProd {
  using acc_t = c128;
  static c128 identity() { return c128(1); }
  static c128 merge(c128 a, c128 b) { return a * b; }
};
struct CAny {
  using acc_t = bool;
  static bool identity() { return false; }
  static bool merge(bool a, bool b) { return a || b; }
};
struct CAll {
  using acc_t = bool;
  static bool identity() { return true; }
  static bool merge(bool a, bool b) { return a && b; }
};
// reduce_general's Op from a fold over complex inputs of type C.
template <class C, class Fold>
struct COp : Fold {
  using in_t = C;
  using typename Fold::acc_t;
  static acc_t lift(C z) {
    if constexpr (std::is_same_v<acc_t, bool>) return nonzero(z);
    else return c128(z);
  }
  static acc_t combine(acc_t a, C z) { return Fold::merge(a, lift(z)); }
};

template <class C, class Fold, class Out, class Fin>
void reduce_with(const Fin& fin, const StridedView& out, const StridedView& x, const std::vector<bool>& mask) {
  using Op = COp<C, Fold>;
  ReduceGeometry g = reduce_geometry(x.shape, x.strides, mask);
  Out* o = out.ptr<Out>();
  if (g.n_out == 0) return;
  if (g.n_red == 0) {
    for (int64_t i = 0; i < g.n_out; ++i) o[i] = fin(Op::identity());
    return;
  }
  reduce_general<Op>(fin, o, x.ptr<C>(), g);
}

template <class C>
void reduce_typed(ReduceOp op, const StridedView& out, const StridedView& x, const std::vector<bool>& mask) {
  const auto to_c = [](c128 v) { return C(v); };
  const auto to_b = [](bool v) { return v; };
  if (op == ReduceOp::Sum && out.numel() == 1 && x.numel() > 0) {
    // A whole contiguous tensor: the per-ISA pairwise sum (a reversed or strided x, or a partial
    // reduction, takes reduce_general's order below).
    bool contiguous = true;
    int64_t expect = 1;
    for (int64_t d = x.ndim() - 1; d >= 0; --d) {
      contiguous = contiguous && (x.shape[d] == 1 || x.strides[d] == expect);
      expect *= x.shape[d];
    }
    if (contiguous) {
      *out.ptr<C>() = C(simd<C>().sum(x.ptr<C>(), x.numel()));
      return;
    }
  }
  switch (op) {
    case ReduceOp::Sum: return reduce_with<C, CSum, C>(to_c, out, x, mask);
    case ReduceOp::Prod: return reduce_with<C, CProd, C>(to_c, out, x, mask);
    case ReduceOp::Mean: {
      double n = 1;
      for (int64_t d = 0; d < x.ndim(); ++d)
        if (mask[d]) n *= static_cast<double>(x.shape[d]);
      return reduce_with<C, CSum, C>([n](c128 v) { return C(v / n); }, out, x, mask);
    }
    case ReduceOp::Any: return reduce_with<C, CAny, bool>(to_b, out, x, mask);
    case ReduceOp::All: return reduce_with<C, CAll, bool>(to_b, out, x, mask);
    default: break;
  }
  throw TypeError(str_cat("[", op == ReduceOp::Max ? "max" : "min", "] not supported for complex dtype ",
                          dtype_name(x.dtype), " (complex numbers are not ordered)"));
}

// 16 bytes moved as one value (where on complex128).
struct alignas(8) Bytes16 {
  uint64_t w[2];
};

}  // namespace

void complex_copy_cast(const StridedView& dst, const StridedView& src) {
  if (is_complex(dst.dtype) && is_complex(src.dtype)) {
    return dispatch_complex(dst.dtype, "copy", [&](auto to) {
      using To = decltype(to);
      dispatch_complex(src.dtype, "copy", [&](auto from) {
        using From = decltype(from);
        map1<To, From>(dst, src, [](From v) { return cast_to_complex<To>(v); });
      });
    });
  }
  if (is_complex(dst.dtype)) {
    return dispatch_complex(dst.dtype, "copy", [&](auto to) {
      using To = decltype(to);
      TL_DISPATCH_ALL(src.dtype, "copy", [&] {
        using From = scalar_t;
        map1<To, From>(dst, src, [](From v) { return cast_to_complex<To>(v); });
      });
    });
  }
  dispatch_complex(src.dtype, "copy", [&](auto from) {
    using From = decltype(from);
    TL_DISPATCH_ALL(dst.dtype, "copy", [&] {
      using To = scalar_t;
      map1<To, From>(dst, src, [](From v) { return cast_from_complex<To>(v); });
    });
  });
}

void complex_fill(const StridedView& dst, Scalar value) {
  dispatch_complex(dst.dtype, "fill", [&](auto zero) {
    using C = decltype(zero);
    using R = typename C::value_type;
    const C v = value.use_double<R>() ? C(static_cast<R>(value.f), static_cast<R>(value.im))
                                      : C(static_cast<R>(value.i), R(0));
    map1<C, C>(dst, dst, [v](C) { return v; });
  });
}

void complex_unary(UnaryOp op, const StridedView& out, const StridedView& x) {
  dispatch_complex(x.dtype, unary_op_name(op), [&](auto zero) { unary_typed<decltype(zero)>(op, out, x); });
}

void complex_conj(const StridedView& out, const StridedView& x) {
  TL_CAPTURE_KERNEL((out), (x), complex_conj(out, x));
  dispatch_complex(x.dtype, "conj", [&](auto zero) {
    using C = decltype(zero);
    map1<C, C>(out, x, [](C z) { return std::conj(z); });
  });
}

void complex_binary(BinaryOp op, const StridedView& out, const StridedView& a, const StridedView& b) {
  dispatch_complex(a.dtype, binary_op_name(op), [&](auto zero) { binary_typed<decltype(zero)>(op, out, a, b); });
}

void complex_where(const StridedView& out, const StridedView& cond, const StridedView& x, const StridedView& y) {
  // Moved as opaque values of the complex size: no arithmetic happens.
  const auto run = [&](auto zero) {
    using T = decltype(zero);
    constexpr int64_t S = sizeof(T);
    strided_loop<4>(out.shape, {out.bytes(), cond.bytes(), x.bytes(), y.bytes()},
                    {&out.strides, &cond.strides, &x.strides, &y.strides}, {S, 1, S, S},
                    [](char** p, const int64_t* s, int64_t n) {
                      for (int64_t i = 0; i < n; ++i)
                        std::memcpy(p[0] + i * s[0], *reinterpret_cast<const bool*>(p[1] + i * s[1]) ? p[2] + i * s[2]
                                                                                                   : p[3] + i * s[3],
                                    S);
                    });
  };
  if (out.dtype == DType::Complex64) return run(uint64_t{});
  TL_CHECK(out.dtype == DType::Complex128, "where", "internal: not a complex dtype");
  run(Bytes16{});
}

void complex_reduce(ReduceOp op, const StridedView& out, const StridedView& x, const std::vector<bool>& mask) {
  dispatch_complex(x.dtype, "reduce", [&](auto zero) { reduce_typed<decltype(zero)>(op, out, x, mask); });
}

namespace {
// NumPy's multiply.accumulate step: the textbook product without `*`'s Annex G recovery, so
// the NaNs and infinities that follow an infinite factor are NumPy's.
template <class C>
inline C plain_mul(C x, C y) {
  return C(x.real() * y.real() - x.imag() * y.imag(), x.real() * y.imag() + x.imag() * y.real());
}
}  // namespace

void complex_cumprod(DType dtype, const void* x, void* out, int64_t outer, int64_t n, int64_t inner) {
  dispatch_complex(dtype, "cumulative_prod", [&](auto zero) {
    using C = decltype(zero);
    const C* xp = static_cast<const C*>(x);
    C* yp = static_cast<C*>(out);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < n; ++i) {
        const C* xi = xp + (o * n + i) * inner;
        C* yi = yp + (o * n + i) * inner;
        for (int64_t j = 0; j < inner; ++j) yi[j] = i ? plain_mul(yi[j - inner], xi[j]) : xi[j];
      }
  });
}

}  // namespace tl::kernels
