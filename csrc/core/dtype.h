// dtype: the element types a tensor can hold, their sizes, names and NumPy 2 promotion.
#pragma once
#include <cstdint>
#include <cstddef>
#include <string>
#include "core/half.h"

namespace tl {

// New dtypes are appended: the numbering is not persisted, but keeping the old values stable
// keeps every switch and table below easy to check.
enum class DType : uint8_t {
  Bool = 0, UInt8, Int32, Int64, Float32, Float64, Int8, Int16, UInt16, UInt32, UInt64, Float16,
  Complex64, Complex128
};
constexpr int kNumDTypes = 14;

enum class DKind : uint8_t { Bool = 0, UInt, Int, Float, Complex };  // NumPy's b < u < i < f < c
inline DKind dtype_kind(DType d) {
  switch (d) {
    case DType::Bool: return DKind::Bool;
    case DType::UInt8: case DType::UInt16: case DType::UInt32: case DType::UInt64: return DKind::UInt;
    case DType::Int8: case DType::Int16: case DType::Int32: case DType::Int64: return DKind::Int;
    case DType::Float16: case DType::Float32: case DType::Float64: return DKind::Float;
    case DType::Complex64: case DType::Complex128: return DKind::Complex;
  }
  return DKind::Float;
}

inline size_t itemsize(DType d) {
  switch (d) {
    case DType::Bool: case DType::UInt8: case DType::Int8: return 1;
    case DType::Int16: case DType::UInt16: case DType::Float16: return 2;
    case DType::Int32: case DType::UInt32: case DType::Float32: return 4;
    case DType::Int64: case DType::UInt64: case DType::Float64: case DType::Complex64: return 8;
    case DType::Complex128: return 16;
  }
  return 0;
}
// NumPy's names: "bool", "int8", ..., "uint64", "float16", "float32", "float64", "complex64", "complex128".
const char* dtype_name(DType d);
// Parses a NumPy dtype name; throws std::invalid_argument (TypeError at the binding) otherwise.
DType dtype_from_name(const std::string& name);

// Real floating dtypes only (float16/32/64); complex dtypes are is_complex, both is_inexact.
// The generic kernels and dispatch macros never see complex: csrc/kernels/complex.cpp holds
// every complex loop, reached through one hook per kernel entry point.
inline bool is_floating(DType d) { return dtype_kind(d) == DKind::Float; }
inline bool is_complex(DType d) { return dtype_kind(d) == DKind::Complex; }
inline bool is_inexact(DType d) { return is_floating(d) || is_complex(d); }
// complex64 -> float32, complex128 -> float64; other dtypes unchanged.
inline DType complex_component(DType d) {
  return d == DType::Complex64 ? DType::Float32 : d == DType::Complex128 ? DType::Float64 : d;
}
inline bool is_unsigned(DType d) { return dtype_kind(d) == DKind::UInt; }
inline bool is_integral(DType d, bool include_bool = false) {
  const DKind k = dtype_kind(d);
  return k == DKind::UInt || k == DKind::Int || (include_bool && k == DKind::Bool);
}

// NumPy 2 promotion of two array dtypes (np.result_type on arrays).
DType promote_types(DType a, DType b);

// Python scalars are "weak" in NumPy 2: they adopt the array's dtype within their kind.
enum class ScalarKind : uint8_t { None = 0, Bool, Int, Float, Complex };
// Result dtype of (array of dtype `a`) op (Python scalar of kind `k`).
DType promote_with_scalar(DType a, ScalarKind k);
// NumPy's casting rules: can values of `from` be cast to `to` under "same_kind"?
bool can_cast_same_kind(DType from, DType to);

template <class T> struct dtype_of;
#define TL_DTYPE_OF(type, enum_v) \
  template <> struct dtype_of<type> { static constexpr DType value = DType::enum_v; };
TL_DTYPE_OF(bool, Bool)
TL_DTYPE_OF(int8_t, Int8)
TL_DTYPE_OF(int16_t, Int16)
TL_DTYPE_OF(int32_t, Int32)
TL_DTYPE_OF(int64_t, Int64)
TL_DTYPE_OF(uint8_t, UInt8)
TL_DTYPE_OF(uint16_t, UInt16)
TL_DTYPE_OF(uint32_t, UInt32)
TL_DTYPE_OF(uint64_t, UInt64)
TL_DTYPE_OF(half, Float16)
TL_DTYPE_OF(float, Float32)
TL_DTYPE_OF(double, Float64)
#undef TL_DTYPE_OF

}  // namespace tl

// Calls the lambda body with `scalar_t` bound to the C++ type of `dtype`.
#define TL_DISPATCH_CASE(enum_v, type, ...) \
  case ::tl::DType::enum_v: { using scalar_t = type; return __VA_ARGS__(); }

#define TL_DISPATCH_INT_CASES_(...)                                             \
      TL_DISPATCH_CASE(UInt8, uint8_t, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(UInt16, uint16_t, __VA_ARGS__)                           \
      TL_DISPATCH_CASE(UInt32, uint32_t, __VA_ARGS__)                           \
      TL_DISPATCH_CASE(UInt64, uint64_t, __VA_ARGS__)                           \
      TL_DISPATCH_CASE(Int8, int8_t, __VA_ARGS__)                               \
      TL_DISPATCH_CASE(Int16, int16_t, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Int32, int32_t, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)

#define TL_DISPATCH_ALL(dtype, opname, ...)                                     \
  [&] {                                                                         \
    switch (dtype) {                                                            \
      TL_DISPATCH_CASE(Bool, bool, __VA_ARGS__)                                 \
      TL_DISPATCH_INT_CASES_(__VA_ARGS__)                                       \
      TL_DISPATCH_CASE(Float16, ::tl::half, __VA_ARGS__)                        \
      TL_DISPATCH_CASE(Float32, float, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Float64, double, __VA_ARGS__)                            \
      default: break;                                                           \
    }                                                                           \
    throw ::tl::TypeError(std::string("[") + opname + "] not supported for dtype " + ::tl::dtype_name(dtype)); \
  }()

#define TL_DISPATCH_NUMERIC(dtype, opname, ...)                                 \
  [&] {                                                                         \
    switch (dtype) {                                                            \
      TL_DISPATCH_INT_CASES_(__VA_ARGS__)                                       \
      TL_DISPATCH_CASE(Float16, ::tl::half, __VA_ARGS__)                        \
      TL_DISPATCH_CASE(Float32, float, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Float64, double, __VA_ARGS__)                            \
      default: break;                                                           \
    }                                                                           \
    throw ::tl::TypeError(std::string("[") + opname + "] not supported for dtype " + ::tl::dtype_name(dtype)); \
  }()

// The heavy float kernels (conv, gemm-based layers, losses, norms) exist for float32 and
// float64 only: instantiating them for float16 would cost build time for a dtype nobody
// trains in on a CPU. Ops that accept float16 anyway (conv, depthwise_conv, pooling) compute
// in heavy_compute_dtype and round the result back once, as NumPy's half loops do.
namespace tl {
inline DType heavy_compute_dtype(DType dt) { return dt == DType::Float16 ? DType::Float32 : dt; }
}  // namespace tl
#define TL_DISPATCH_FLOAT(dtype, opname, ...)                                   \
  [&] {                                                                         \
    switch (dtype) {                                                            \
      TL_DISPATCH_CASE(Float32, float, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Float64, double, __VA_ARGS__)                            \
      default: break;                                                           \
    }                                                                           \
    throw ::tl::TypeError(std::string("[") + opname + "] needs a float32 or float64 tensor, got " + ::tl::dtype_name(dtype)); \
  }()
