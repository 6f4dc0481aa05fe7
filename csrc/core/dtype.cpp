#include "core/dtype.h"
#include "core/error.h"

namespace tl {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::Bool: return "bool";
    case DType::UInt8: return "uint8";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}

DType dtype_from_name(const std::string& n) {
  if (n == "bool" || n == "?" || n == "bool_") return DType::Bool;
  if (n == "uint8" || n == "B" || n == "u1") return DType::UInt8;
  if (n == "int32" || n == "i4" || n == "i") return DType::Int32;
  if (n == "int64" || n == "i8" || n == "l" || n == "q" || n == "int") return DType::Int64;
  if (n == "float32" || n == "f4" || n == "f") return DType::Float32;
  if (n == "float64" || n == "f8" || n == "d" || n == "float" || n == "double") return DType::Float64;
  throw TypeError("unsupported dtype '" + n + "': tensorlet supports bool, uint8, int32, int64, float32, float64");
}

// Lattice of NumPy 2 for our six types. uint8 with int32 -> int32, uint8 with int64 -> int64;
// any int with float32: int8/uint8 -> float32 would need int16 rules; NumPy gives
// uint8+float32 -> float32, int32+float32 -> float64, int64+float32 -> float64.
DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::Bool) return b;
  if (b == DType::Bool) return a;
  auto rank = [](DType d) { return static_cast<int>(d); };
  if (is_floating(a) && is_floating(b)) return rank(a) > rank(b) ? a : b;
  if (is_integral(a) && is_integral(b)) return rank(a) > rank(b) ? a : b;
  DType f = is_floating(a) ? a : b;
  DType i = is_floating(a) ? b : a;
  if (f == DType::Float64) return DType::Float64;
  return i == DType::UInt8 ? DType::Float32 : DType::Float64;
}

DType promote_with_scalar(DType a, ScalarKind k) {
  switch (k) {
    case ScalarKind::None: case ScalarKind::Bool: return a;
    case ScalarKind::Int: return a == DType::Bool ? DType::Int64 : a;
    case ScalarKind::Float: return is_floating(a) ? a : DType::Float64;
  }
  return a;
}

bool can_cast_same_kind(DType from, DType to) {
  // NumPy's kinds in order b < u < i < f: a cast is same_kind when it is safe or stays within
  // one kind. uint8 -> int32/int64 is safe; int32/int64 -> uint8 changes kind (signed to
  // unsigned) and is not safe, so it is refused, as np.can_cast('i8', 'u1', 'same_kind').
  auto kind = [](DType d) {
    switch (d) {
      case DType::Bool: return 0;
      case DType::UInt8: return 1;
      case DType::Int32: case DType::Int64: return 2;
      default: return 3;
    }
  };
  return kind(from) <= kind(to);
}

}  // namespace tl
