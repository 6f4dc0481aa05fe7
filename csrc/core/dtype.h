// dtype: the element types a tensor can hold, their sizes, names and NumPy 2 promotion.
#pragma once
#include <cstdint>
#include <cstddef>
#include <string>

namespace tl {

enum class DType : uint8_t { Bool = 0, UInt8, Int32, Int64, Float32, Float64 };
constexpr int kNumDTypes = 6;

inline size_t itemsize(DType d) {
  switch (d) {
    case DType::Bool: case DType::UInt8: return 1;
    case DType::Int32: case DType::Float32: return 4;
    case DType::Int64: case DType::Float64: return 8;
  }
  return 0;
}
// NumPy's names: "bool", "uint8", "int32", "int64", "float32", "float64".
const char* dtype_name(DType d);
// Parses a NumPy dtype name; throws std::invalid_argument (TypeError at the binding) otherwise.
DType dtype_from_name(const std::string& name);

inline bool is_floating(DType d) { return d == DType::Float32 || d == DType::Float64; }
inline bool is_integral(DType d, bool include_bool = false) {
  return d == DType::UInt8 || d == DType::Int32 || d == DType::Int64 || (include_bool && d == DType::Bool);
}

// NumPy 2 promotion of two array dtypes (np.result_type on arrays).
DType promote_types(DType a, DType b);

// Python scalars are "weak" in NumPy 2: they adopt the array's dtype within their kind.
enum class ScalarKind : uint8_t { None = 0, Bool, Int, Float };
// Result dtype of (array of dtype `a`) op (Python scalar of kind `k`).
DType promote_with_scalar(DType a, ScalarKind k);
// NumPy's casting rules: can values of `from` be cast to `to` under "same_kind"?
bool can_cast_same_kind(DType from, DType to);

template <class T> struct dtype_of;
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::UInt8; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };

}  // namespace tl

// Calls the lambda body with `scalar_t` bound to the C++ type of `dtype`.
#define TL_DISPATCH_CASE(enum_v, type, ...) \
  case ::tl::DType::enum_v: { using scalar_t = type; return __VA_ARGS__(); }

#define TL_DISPATCH_ALL(dtype, opname, ...)                                     \
  [&] {                                                                         \
    switch (dtype) {                                                            \
      TL_DISPATCH_CASE(Bool, bool, __VA_ARGS__)                                 \
      TL_DISPATCH_CASE(UInt8, uint8_t, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Int32, int32_t, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Float32, float, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Float64, double, __VA_ARGS__)                            \
    }                                                                           \
    throw std::invalid_argument(std::string("[") + opname + "] unsupported dtype"); \
  }()

#define TL_DISPATCH_NUMERIC(dtype, opname, ...)                                 \
  [&] {                                                                         \
    switch (dtype) {                                                            \
      TL_DISPATCH_CASE(UInt8, uint8_t, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Int32, int32_t, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Int64, int64_t, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Float32, float, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Float64, double, __VA_ARGS__)                            \
      default: break;                                                           \
    }                                                                           \
    throw ::tl::TypeError(std::string("[") + opname + "] not supported for dtype " + ::tl::dtype_name(dtype)); \
  }()

#define TL_DISPATCH_FLOAT(dtype, opname, ...)                                   \
  [&] {                                                                         \
    switch (dtype) {                                                            \
      TL_DISPATCH_CASE(Float32, float, __VA_ARGS__)                             \
      TL_DISPATCH_CASE(Float64, double, __VA_ARGS__)                            \
      default: break;                                                           \
    }                                                                           \
    throw ::tl::TypeError(std::string("[") + opname + "] needs a float tensor, got " + ::tl::dtype_name(dtype)); \
  }()
