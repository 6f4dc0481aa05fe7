// Scalar: a Python number entering the core (fill values, weak operands of binary ops).
#pragma once
#include <cstdint>
#include "core/dtype.h"

namespace tl {

struct Scalar {
  ScalarKind kind = ScalarKind::Int;
  double f = 0.0;   // valid when kind == Float
  int64_t i = 0;    // valid when kind == Int or Bool

  Scalar() = default;
  static Scalar from_bool(bool b) { Scalar s; s.kind = ScalarKind::Bool; s.i = b; s.f = b; return s; }
  static Scalar from_int(int64_t v) { Scalar s; s.kind = ScalarKind::Int; s.i = v; s.f = static_cast<double>(v); return s; }
  static Scalar from_double(double v) { Scalar s; s.kind = ScalarKind::Float; s.f = v; s.i = 0; return s; }

  template <class T> T to() const {
    if (kind == ScalarKind::Float) return static_cast<T>(f);
    return static_cast<T>(i);
  }
};
template <> inline bool Scalar::to<bool>() const { return kind == ScalarKind::Float ? f != 0.0 : i != 0; }

}  // namespace tl
