// Scalar: a Python number entering the core (fill values, weak operands of binary ops).
#pragma once
#include <cstdint>
#include <type_traits>
#include "core/dtype.h"

namespace tl {

struct Scalar {
  ScalarKind kind = ScalarKind::Int;
  double f = 0.0;   // valid when kind == Float (the real part when kind == Complex)
  double im = 0.0;  // the imaginary part when kind == Complex, else 0
  int64_t i = 0;    // valid when kind == Int or Bool
  // Int only: the value is in [2^63, 2^64) (a uint64 Python int), `i` holds its 64 bits and
  // `f` the value.
  bool big = false;

  Scalar() = default;
  static Scalar from_bool(bool b) { Scalar s; s.kind = ScalarKind::Bool; s.i = b; s.f = b; return s; }
  static Scalar from_int(int64_t v) { Scalar s; s.kind = ScalarKind::Int; s.i = v; s.f = static_cast<double>(v); return s; }
  static Scalar from_uint(uint64_t v) {
    Scalar s = from_int(static_cast<int64_t>(v));
    s.big = v > static_cast<uint64_t>(INT64_MAX);
    s.f = static_cast<double>(v);
    return s;
  }
  static Scalar from_double(double v) { Scalar s; s.kind = ScalarKind::Float; s.f = v; s.i = 0; return s; }
  static Scalar from_complex(double re, double imag) {
    Scalar s = from_double(re);
    s.kind = ScalarKind::Complex;
    s.im = imag;
    return s;
  }

  // Read through the double when it is a float or a big int going into a float type.
  template <class T> bool use_double() const {
    return kind == ScalarKind::Float || kind == ScalarKind::Complex || (big && !std::is_integral_v<T>);
  }
  template <class T> T to() const {
    if (use_double<T>()) return static_cast<T>(f);
    return static_cast<T>(i);
  }
};
template <> inline bool Scalar::to<bool>() const {
  return kind == ScalarKind::Complex ? (f != 0.0 || im != 0.0) : kind == ScalarKind::Float ? f != 0.0 : i != 0;
}

}  // namespace tl
