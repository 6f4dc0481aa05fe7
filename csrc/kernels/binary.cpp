#include "kernels/binary.h"
#include "capture/elementwise_log.h"
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include "kernels/complex.h"
#include "kernels/strided_loop.h"

namespace tl::kernels {

namespace {

// The loop shared by every binary op: out[i] = f(a[i], b[i]). Contiguous, scalar-broadcast and
// general strided inner paths; the first three are simple counted loops that GCC vectorises.
template <class Out, class T, class F>
void run(const StridedView& out, const StridedView& a, const StridedView& b, F f) {
  constexpr int64_t SO = sizeof(Out), S = sizeof(T);
  strided_loop<3>(out.shape,
                  {out.bytes(), a.bytes(),
                   b.bytes()},
                  {&out.strides, &a.strides, &b.strides}, {SO, S, S},
                  [f](char** p, const int64_t* s, int64_t n) {
                    Out* __restrict o = reinterpret_cast<Out*>(p[0]);
                    const T* x = reinterpret_cast<const T*>(p[1]);
                    const T* y = reinterpret_cast<const T*>(p[2]);
                    if (s[0] == SO && s[1] == S && s[2] == S) {  // contiguous
                      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
                    } else if (s[0] == SO && s[1] == S && s[2] == 0) {  // tensor op scalar / column
                      const T yv = *y;
                      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
                    } else if (s[0] == SO && s[1] == 0 && s[2] == S) {  // scalar / column op tensor
                      const T xv = *x;
                      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
                    } else {
                      char* po = p[0];
                      const char* pa = p[1];
                      const char* pb = p[2];
                      for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1], pb += s[2])
                        *reinterpret_cast<Out*>(po) = f(*reinterpret_cast<const T*>(pa), *reinterpret_cast<const T*>(pb));
                    }
                  });
}

template <class T>
using wrap_t = std::conditional_t<std::is_same_v<T, bool>, bool, std::make_unsigned_t<T>>;

// Integer + - * with two's-complement wrap-around (NumPy's behaviour; signed overflow is UB in C++).
template <class T> inline T wadd(T x, T y) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return T(wrap_t<T>(x) + wrap_t<T>(y));
  else return T(x + y);
}
template <class T> inline T wsub(T x, T y) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return T(wrap_t<T>(x) - wrap_t<T>(y));
  else return T(x - y);
}
// Products in at least unsigned int: uint16 * uint16 would promote to int and overflow it.
template <class T>
using mul_t = std::common_type_t<wrap_t<T>, unsigned>;
template <class T> inline T wmul(T x, T y) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return T(mul_t<T>(x) * mul_t<T>(y));
  else return T(x * y);
}

// Python / NumPy floor division and remainder.
template <class T> inline T int_floordiv(T x, T y) {
  if (y == 0) return T(0);
  if constexpr (std::is_signed_v<T>) {
    if (y == T(-1)) return T(wrap_t<T>(0) - wrap_t<T>(x));  // INT_MIN // -1 wraps, like NumPy
    T q = x / y;
    if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
    return q;
  } else {
    return T(x / y);
  }
}
template <class T> inline T int_mod(T x, T y) {
  if (y == 0) return T(0);
  if constexpr (std::is_signed_v<T>) {
    if (y == T(-1)) return T(0);
    T r = x % y;
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
  } else {
    return T(x % y);
  }
}

// npy_divmod: the quotient of floor division and the Python-style remainder for floats.
template <class T> inline T float_divmod(T a, T b, T* modulus) {
  T mod = std::fmod(a, b);
  if (!b) {
    *modulus = mod;
    return a / b;
  }
  T div = (a - mod) / b;
  if (mod) {
    if ((b < 0) != (mod < 0)) {
      mod += b;
      div -= T(1);
    }
  } else {
    mod = std::copysign(T(0), b);
  }
  T floordiv;
  if (div) {
    floordiv = std::floor(div);
    if (div - floordiv > T(0.5)) floordiv += T(1);
  } else {
    floordiv = std::copysign(T(0), a / b);
  }
  *modulus = mod;
  return floordiv;
}
template <class T> inline T float_floordiv(T a, T b) {
  if (!b) return a / b;
  T mod;
  return float_divmod(a, b, &mod);
}
// nextafter in the operand's own precision: a float16 steps by one of its own ulps (computed in
// float32 the step would round away).
template <class T> inline T next_after(T x, T y) {
  if constexpr (std::is_same_v<T, half>) {
    const float fx = x, fy = y;
    if (fx != fx || fy != fy) return half(fx + fy);  // NaN
    if (fx == fy) return x;  // NumPy's npy_half_nextafter (C's nextafter returns y)
    if (fx == 0.f) return half::from_bits(static_cast<uint16_t>((y.bits & 0x8000u) | 1u));
    const bool away_from_zero = (fx < fy) == (fx > 0.f);
    return half::from_bits(static_cast<uint16_t>(away_from_zero ? x.bits + 1 : x.bits - 1));
  } else {
    return std::nextafter(x, y);
  }
}

template <class T> inline T float_mod(T a, T b) {
  if (!b) return std::fmod(a, b);
  T mod;
  float_divmod(a, b, &mod);
  return mod;
}

// npy_logaddexp: log(exp(x) + exp(y)) without overflow; equal arguments (infinities of one sign
// included) give x + log(2), NaN propagates.
template <class T> inline T log_add_exp(T x, T y) {
  if (x == y) return T(x + T(0.693147180559945309417232121458176568));
  const T d = x - y;
  if (d > 0) return T(x + std::log1p(std::exp(-d)));
  if (d <= 0) return T(y + std::log1p(std::exp(d)));
  return d;  // NaN
}

// Integer power by squaring, wrapping like NumPy; e >= 0 (checked by the caller).
template <class T> inline T int_pow(T base, T e) {
  using U = mul_t<T>;
  U r = 1, b = U(wrap_t<T>(base));
  auto ue = static_cast<std::make_unsigned_t<T>>(e);
  while (ue) {
    if (ue & 1) r = U(r * b);
    b = U(b * b);
    ue >>= 1;
  }
  return T(r);
}

template <class T>
void arith(BinaryOp op, const StridedView& out, const StridedView& a, const StridedView& b) {
  constexpr bool F = is_float_v<T>;
  constexpr bool B = std::is_same_v<T, bool>;
  using C = compute_t<T>;  // float16 computes in float32 and rounds each result, as NumPy
  switch (op) {
    case BinaryOp::Add: if constexpr (B) return run<T, T>(out, a, b, [](T x, T y) { return T(x | y); });
                        else return run<T, T>(out, a, b, [](T x, T y) { return wadd(x, y); });
    case BinaryOp::Sub: if constexpr (!B) return run<T, T>(out, a, b, [](T x, T y) { return wsub(x, y); });
                        break;
    case BinaryOp::Mul: if constexpr (B) return run<T, T>(out, a, b, [](T x, T y) { return T(x & y); });
                        else return run<T, T>(out, a, b, [](T x, T y) { return wmul(x, y); });
    case BinaryOp::Div:
      if constexpr (F) return run<T, T>(out, a, b, [](T x, T y) { return T(x / y); });
      else if constexpr (!B) return run<T, T>(out, a, b, [](T x, T y) { return int_floordiv(x, y); });
      break;
    case BinaryOp::FloorDiv:
      if constexpr (F) return run<T, T>(out, a, b, [](T x, T y) { return T(float_floordiv(C(x), C(y))); });
      else if constexpr (!B) return run<T, T>(out, a, b, [](T x, T y) { return int_floordiv(x, y); });
      break;
    case BinaryOp::Mod:
      if constexpr (F) return run<T, T>(out, a, b, [](T x, T y) { return T(float_mod(C(x), C(y))); });
      else if constexpr (!B) return run<T, T>(out, a, b, [](T x, T y) { return int_mod(x, y); });
      break;
    case BinaryOp::Pow:
      if constexpr (F) {
        // x ** 2 (the common case) as a multiply: same correctly rounded result, vectorised.
        if (b.numel() > 0) {
          bool all_two = true;
          for (int64_t st : b.strides) all_two = all_two && st == 0;
          if (all_two && C(*b.ptr<T>()) == C(2)) return run<T, T>(out, a, b, [](T x, T) { return T(C(x) * C(x)); });
        }
        return run<T, T>(out, a, b, [](T x, T y) { return T(std::pow(C(x), C(y))); });
      } else if constexpr (!B) {
        return run<T, T>(out, a, b, [](T x, T y) { return int_pow(x, y); });
      }
      break;
    case BinaryOp::Max:
      if constexpr (F) return run<T, T>(out, a, b, [](T x, T y) { return (x >= y || x != x) ? x : y; });
      else return run<T, T>(out, a, b, [](T x, T y) { return x >= y ? x : y; });
    case BinaryOp::Min:
      if constexpr (F) return run<T, T>(out, a, b, [](T x, T y) { return (x <= y || x != x) ? x : y; });
      else return run<T, T>(out, a, b, [](T x, T y) { return x <= y ? x : y; });
    case BinaryOp::Hypot: if constexpr (F) return run<T, T>(out, a, b, [](T x, T y) { return T(std::hypot(x, y)); }); break;
    case BinaryOp::LogAddExp: if constexpr (F) return run<T, T>(out, a, b, [](T x, T y) { return log_add_exp(x, y); }); break;
    case BinaryOp::Atan2: if constexpr (F) return run<T, T>(out, a, b, [](T y, T x) { return T(std::atan2(y, x)); }); break;
    case BinaryOp::CopySign: if constexpr (F) return run<T, T>(out, a, b, [](T x, T y) { return T(std::copysign(x, y)); }); break;
    case BinaryOp::NextAfter: if constexpr (F) return run<T, T>(out, a, b, [](T x, T y) { return next_after(x, y); }); break;
    case BinaryOp::BitAnd: if constexpr (!F) return run<T, T>(out, a, b, [](T x, T y) { return T(x & y); }); break;
    case BinaryOp::BitOr: if constexpr (!F) return run<T, T>(out, a, b, [](T x, T y) { return T(x | y); }); break;
    case BinaryOp::BitXor: if constexpr (!F) return run<T, T>(out, a, b, [](T x, T y) { return T(x ^ y); }); break;
    default: break;
  }
  throw TypeError(str_cat("[", binary_op_name(op), "] not supported for dtype ", dtype_name(out.dtype)));
}

template <class T>
void compare(BinaryOp op, const StridedView& out, const StridedView& a, const StridedView& b) {
  switch (op) {
    case BinaryOp::Eq: return run<bool, T>(out, a, b, [](T x, T y) { return x == y; });
    case BinaryOp::Ne: return run<bool, T>(out, a, b, [](T x, T y) { return x != y; });
    case BinaryOp::Lt: return run<bool, T>(out, a, b, [](T x, T y) { return x < y; });
    case BinaryOp::Le: return run<bool, T>(out, a, b, [](T x, T y) { return x <= y; });
    case BinaryOp::Gt: return run<bool, T>(out, a, b, [](T x, T y) { return x > y; });
    case BinaryOp::Ge: return run<bool, T>(out, a, b, [](T x, T y) { return x >= y; });
    case BinaryOp::LogicalAnd: return run<bool, T>(out, a, b, [](T x, T y) { return (x != T(0)) & (y != T(0)); });
    case BinaryOp::LogicalOr: return run<bool, T>(out, a, b, [](T x, T y) { return (x != T(0)) | (y != T(0)); });
    case BinaryOp::LogicalXor: return run<bool, T>(out, a, b, [](T x, T y) { return (x != T(0)) != (y != T(0)); });
    default: break;
  }
  throw TypeError(str_cat("[", binary_op_name(op), "] is not a comparison"));
}

}  // namespace

void binary(BinaryOp op, const StridedView& out, const StridedView& a, const StridedView& b) {
  TL_CAPTURE_ELEMENTWISE([op](const StridedView& o, const StridedView& x, const StridedView& y) { binary(op, o, x, y); },
                         out, a, b);
  TL_CHECK(a.dtype == b.dtype, "binary", "operands must share a dtype, got ", dtype_name(a.dtype), " and ",
           dtype_name(b.dtype));
  if (is_complex(a.dtype)) return complex_binary(op, out, a, b);
  if (is_comparison(op) || is_logical(op)) {
    TL_CHECK(out.dtype == DType::Bool, "binary", "comparison output must be bool");
    TL_DISPATCH_ALL(a.dtype, "binary", [&] { compare<scalar_t>(op, out, a, b); });
    return;
  }
  TL_CHECK(out.dtype == a.dtype, "binary", "output dtype ", dtype_name(out.dtype), " differs from input dtype ",
           dtype_name(a.dtype));
  TL_DISPATCH_ALL(out.dtype, "binary", [&] { arith<scalar_t>(op, out, a, b); });
}

void max_grad_weight(const StridedView& w, const StridedView& x, const StridedView& y) {
  TL_CHECK(is_floating(w.dtype) && x.dtype == w.dtype && y.dtype == w.dtype, "max_grad_weight",
           "internal dtype mismatch");
  TL_DISPATCH_FLOAT(w.dtype, "max_grad_weight", [&] {
    using T = scalar_t;
    run<T, T>(w, x, y, [](T a, T b) { return a > b ? T(1) : (a == b ? T(0.5) : T(0)); });
  });
}

namespace {
// c ? a : b without a branch: a random mask (Dropout's) mispredicts a third of the time, which
// made where ~10x slower than a copy. The bitwise blend of the two values' bytes vectorises.
template <class T>
inline T select(unsigned char c, T a, T b) {  // c: a bool's byte, any nonzero value is true
  if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
    using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    U ua, ub;
    std::memcpy(&ua, &a, sizeof(T));
    std::memcpy(&ub, &b, sizeof(T));
    const U m = U(0) - U(c != 0);
    const U r = (ua & m) | (ub & ~m);
    T out;
    std::memcpy(&out, &r, sizeof(T));
    return out;
  } else {
    return c != 0 ? a : b;
  }
}
}  // namespace

void where(const StridedView& out, const StridedView& cond, const StridedView& x, const StridedView& y) {
  TL_CAPTURE_ELEMENTWISE(
      [](const StridedView& o, const StridedView& c, const StridedView& a, const StridedView& b) { where(o, c, a, b); },
      out, cond, x, y);
  TL_CHECK(cond.dtype == DType::Bool && x.dtype == out.dtype && y.dtype == out.dtype, "where",
           "internal dtype mismatch");
  if (is_complex(out.dtype)) return complex_where(out, cond, x, y);
  TL_DISPATCH_ALL(out.dtype, "where", [&] {
    using T = scalar_t;
    constexpr int64_t S = sizeof(T);
    strided_loop<4>(out.shape,
                    {out.bytes(), cond.bytes(),
                     x.bytes(), y.bytes()},
                    {&out.strides, &cond.strides, &x.strides, &y.strides}, {S, 1, S, S},
                    [](char** p, const int64_t* s, int64_t n) {
                      T* __restrict o = reinterpret_cast<T*>(p[0]);
                      const unsigned char* c = reinterpret_cast<const unsigned char*>(p[1]);
                      const T* a = reinterpret_cast<const T*>(p[2]);
                      const T* b = reinterpret_cast<const T*>(p[3]);
                      if (s[0] == S && s[1] == 1 && s[2] == S && s[3] == S) {
                        for (int64_t i = 0; i < n; ++i) o[i] = select(c[i], a[i], b[i]);
                      } else if (s[0] == S && s[1] == 1 && s[2] == S && s[3] == 0) {
                        const T bv = *b;
                        for (int64_t i = 0; i < n; ++i) o[i] = select(c[i], a[i], bv);
                      } else if (s[0] == S && s[1] == 1 && s[2] == 0 && s[3] == S) {
                        const T av = *a;
                        for (int64_t i = 0; i < n; ++i) o[i] = select(c[i], av, b[i]);
                      } else {
                        for (int64_t i = 0; i < n; ++i)
                          *reinterpret_cast<T*>(p[0] + i * s[0]) =
                              *reinterpret_cast<const bool*>(p[1] + i * s[1])
                                  ? *reinterpret_cast<const T*>(p[2] + i * s[2])
                                  : *reinterpret_cast<const T*>(p[3] + i * s[3]);
                      }
                    });
  });
}

namespace {
template <class T>
bool any_negative_typed(const StridedView& t) {
  std::atomic<bool> found{false};
  if constexpr (std::is_signed_v<T> && std::is_integral_v<T>) {
    strided_loop<1>(t.shape, {t.bytes()}, {&t.strides}, {int64_t(sizeof(T))},
                    [&found](char** p, const int64_t* s, int64_t n) {
                      bool neg = false;
                      for (int64_t i = 0; i < n; ++i) neg |= *reinterpret_cast<const T*>(p[0] + i * s[0]) < 0;
                      if (neg) found.store(true, std::memory_order_relaxed);
                    });
  }
  return found.load();
}
}  // namespace

bool any_negative(const StridedView& t) {
  capture::opaque();  // a decision on tensor data outside a logged kernel: replays re-run the op
  return TL_DISPATCH_ALL(t.dtype, "power", [&] { return any_negative_typed<scalar_t>(t); });
}

}  // namespace tl::kernels
