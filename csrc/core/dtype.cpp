#include "core/dtype.h"
#include "core/error.h"
#include <algorithm>

namespace tl {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::Bool: return "bool";
    case DType::Int8: return "int8";
    case DType::Int16: return "int16";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::UInt8: return "uint8";
    case DType::UInt16: return "uint16";
    case DType::UInt32: return "uint32";
    case DType::UInt64: return "uint64";
    case DType::Float16: return "float16";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Complex64: return "complex64";
    case DType::Complex128: return "complex128";
  }
  return "?";
}

DType dtype_from_name(const std::string& n) {
  // Names and the one-letter codes of numpy.dtype on a 64-bit Linux (long is 64 bits).
  if (n == "bool" || n == "?" || n == "bool_" || n == "b1") return DType::Bool;
  if (n == "int8" || n == "i1" || n == "b") return DType::Int8;
  if (n == "int16" || n == "i2" || n == "h") return DType::Int16;
  if (n == "int32" || n == "i4" || n == "i") return DType::Int32;
  if (n == "int64" || n == "i8" || n == "l" || n == "q" || n == "int") return DType::Int64;
  if (n == "uint8" || n == "u1" || n == "B") return DType::UInt8;
  if (n == "uint16" || n == "u2" || n == "H") return DType::UInt16;
  if (n == "uint32" || n == "u4" || n == "I") return DType::UInt32;
  if (n == "uint64" || n == "u8" || n == "L" || n == "Q") return DType::UInt64;
  if (n == "float16" || n == "f2" || n == "e" || n == "half") return DType::Float16;
  if (n == "float32" || n == "f4" || n == "f") return DType::Float32;
  if (n == "float64" || n == "f8" || n == "d" || n == "float" || n == "double") return DType::Float64;
  if (n == "complex64" || n == "c8" || n == "F") return DType::Complex64;
  if (n == "complex128" || n == "c16" || n == "D" || n == "complex" || n == "cdouble") return DType::Complex128;
  throw TypeError("unsupported dtype '" + n +
                  "': tensorlet supports bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, "
                  "float32, float64, complex64, complex128");
}

namespace {
DType int_of_size(size_t n, bool is_signed) {
  switch (n) {
    case 1: return is_signed ? DType::Int8 : DType::UInt8;
    case 2: return is_signed ? DType::Int16 : DType::UInt16;
    case 4: return is_signed ? DType::Int32 : DType::UInt32;
    default: return is_signed ? DType::Int64 : DType::UInt64;
  }
}
DType float_of_size(size_t n) {
  return n <= 2 ? DType::Float16 : n == 4 ? DType::Float32 : DType::Float64;
}
}  // namespace

// NumPy 2's lattice (np.promote_types): within a kind the larger type; unsigned with signed the
// smallest signed type holding both (uint64 with any signed type has none: float64); an integer
// with a float the smallest float wider than the integer (int8 -> float16, int16 -> float32,
// int32/int64 -> float64), or the float itself if larger.
// Complex with anything: the complex dtype whose component is the promotion of the other
// operand with that component (int16 with complex64 is complex64, int32 with it complex128, as
// float32 with int32 is float64).
DType promote_types(DType a, DType b) {
  if (a == b) return a;
  const DKind ka = dtype_kind(a), kb = dtype_kind(b);
  if (ka == DKind::Bool) return b;
  if (kb == DKind::Bool) return a;
  if (ka == DKind::Complex || kb == DKind::Complex) {
    const DType f = promote_types(complex_component(a), complex_component(b));
    return itemsize(f) == 8 ? DType::Complex128 : DType::Complex64;
  }
  const size_t sa = itemsize(a), sb = itemsize(b);
  if (ka == kb) return sa >= sb ? a : b;
  if (ka == DKind::Float || kb == DKind::Float) {
    const DType f = ka == DKind::Float ? a : b;
    const size_t int_size = ka == DKind::Float ? sb : sa;
    return float_of_size(std::max(itemsize(f), std::min<size_t>(2 * int_size, 8)));
  }
  const size_t su = ka == DKind::UInt ? sa : sb, si = ka == DKind::Int ? sa : sb;
  if (si > su) return int_of_size(si, true);
  return su < 8 ? int_of_size(2 * su, true) : DType::Float64;
}

DType promote_with_scalar(DType a, ScalarKind k) {
  switch (k) {
    case ScalarKind::None: case ScalarKind::Bool: return a;
    case ScalarKind::Int: return a == DType::Bool ? DType::Int64 : a;
    case ScalarKind::Float: return is_inexact(a) ? a : DType::Float64;
    // A Python complex keeps a float array's precision (float32 -> complex64) and makes
    // bool / integer arrays complex128, as NumPy 2 and the standard's mixed-kind rule.
    case ScalarKind::Complex:
      if (is_complex(a)) return a;
      return a == DType::Float64 || !is_floating(a) ? DType::Complex128 : DType::Complex64;
  }
  return a;
}

bool can_cast_same_kind(DType from, DType to) {
  // NumPy's kinds in order b < u < i < f < c: a cast is same_kind when it is safe or stays within
  // one kind, which for these kinds is "the kind does not go down": uint64 -> int8 is
  // same_kind (np.can_cast('u8', 'i1', 'same_kind')), int8 -> uint64 is not.
  return static_cast<int>(dtype_kind(from)) <= static_cast<int>(dtype_kind(to));
}

}  // namespace tl
