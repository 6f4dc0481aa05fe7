#include "capture/recorder.h"
#include "ops/creation.h"
#include <cmath>
#include <cstring>
#include <limits>
#include "kernels/cast.h"
#include "kernels/copy.h"
#include "kernels/creation.h"

namespace tl {

void check_scalar_fits(const Scalar& value, DType dtype) {
  if (value.kind != ScalarKind::Int || !is_integral(dtype)) return;
  if (value.big) {  // in [2^63, 2^64): only uint64 holds it
    if (dtype != DType::UInt64)
      throw std::overflow_error(str_cat("Python integer ", static_cast<uint64_t>(value.i), " out of bounds for ",
                                        dtype_name(dtype)));
    return;
  }
  int64_t lo = 0, hi = 0;
  switch (dtype) {
    case DType::Int8: lo = -128; hi = 127; break;
    case DType::Int16: lo = -32768; hi = 32767; break;
    case DType::Int32: lo = std::numeric_limits<int32_t>::min(); hi = std::numeric_limits<int32_t>::max(); break;
    case DType::UInt8: lo = 0; hi = 255; break;
    case DType::UInt16: lo = 0; hi = 65535; break;
    case DType::UInt32: lo = 0; hi = std::numeric_limits<uint32_t>::max(); break;
    case DType::UInt64: lo = 0; hi = std::numeric_limits<int64_t>::max(); break;
    default: return;  // int64: the binding already refused Python ints outside int64
  }
  if (value.i < lo || value.i > hi)
    throw std::overflow_error(str_cat("Python integer ", value.i, " out of bounds for ", dtype_name(dtype)));
}

void check_inplace_target(const Tensor& t, const char* op) {
  t.check_writable(op);
  for (int64_t d = 0; d < t.ndim(); ++d)
    TL_CHECK(t.strides()[d] != 0 || t.shape()[d] <= 1, op,
             "assignment destination is read-only: a broadcast view's elements share memory");
}

Tensor full(const Shape& shape, Scalar value, DType dtype, const char* op) {
  TL_CAPTURE_OP(full, shape, value, dtype, op);
  checked_numel(shape, op);
  check_scalar_fits(value, dtype);
  return Tensor::full(shape, value, dtype);
}

namespace {

// Python's `start + step` for the second element: exact for ints (falling back to float64
// when int64 would overflow), float64 otherwise.
Scalar scalar_add(const Scalar& a, const Scalar& b) {
  if (a.kind != ScalarKind::Float && b.kind != ScalarKind::Float) {
    int64_t r;
    if (!__builtin_add_overflow(a.i, b.i, &r)) return Scalar::from_int(r);
    return Scalar::from_double(static_cast<double>(a.i) + static_cast<double>(b.i));
  }
  return Scalar::from_double(a.f + b.f);
}

double scalar_value(const Scalar& s) { return s.kind == ScalarKind::Float || s.big ? s.f : static_cast<double>(s.i); }

int64_t arange_length(const Scalar& start, const Scalar& stop, const Scalar& step) {
  double diff;
  int64_t idiff;
  if (start.kind != ScalarKind::Float && stop.kind != ScalarKind::Float && !__builtin_sub_overflow(stop.i, start.i, &idiff))
    diff = static_cast<double>(idiff);
  else
    diff = scalar_value(stop) - scalar_value(start);
  const double value = std::ceil(diff / scalar_value(step));
  TL_CHECK(!std::isnan(value), "arange", "arange: cannot compute length");
  TL_CHECK(value < 9.2233720368547758e18, "arange", "Maximum allowed size exceeded");
  return value > 0 ? static_cast<int64_t>(value) : 0;
}

template <class T>
T scalar_as(const Scalar& s) {
  return s.use_double<T>() ? cast_value<T>(s.f) : cast_value<T>(s.i);
}

}  // namespace

Tensor arange(Scalar start, Scalar stop, Scalar step, std::optional<DType> dtype_opt) {
  TL_CAPTURE_OP(arange, start, stop, step, dtype_opt);
  TL_CHECK(step.kind == ScalarKind::Float ? step.f != 0.0 : step.i != 0, "arange", "step must not be zero");
  const bool any_float = start.kind == ScalarKind::Float || stop.kind == ScalarKind::Float || step.kind == ScalarKind::Float;
  const DType dtype = dtype_opt ? *dtype_opt : (any_float ? DType::Float64 : DType::Int64);
  const int64_t n = arange_length(start, stop, step);
  const Scalar next = scalar_add(start, step);
  if (dtype == DType::Bool)
    TL_CHECK_TYPE(n <= 2, "arange", "arange() is only supported for booleans when the result has at most length 2.");
  // NumPy stores start and start + step into the result as Python numbers: floats are truncated
  // to Python ints first for integer dtypes, so both are bounds-checked like ints.
  auto as_checked_int = [&](const Scalar& v) {
    if (v.kind == ScalarKind::Float && is_integral(dtype) && std::isfinite(v.f) && std::fabs(v.f) < 9e18)
      check_scalar_fits(Scalar::from_int(static_cast<int64_t>(v.f)), dtype);
    else
      check_scalar_fits(v, dtype);
  };
  as_checked_int(start);
  if (n > 1) as_checked_int(next);
  Tensor out = Tensor::empty({n}, dtype);
  if (dtype == DType::Bool) {
    bool* p = out.data<bool>();
    if (n > 0) p[0] = scalar_as<bool>(start);
    if (n > 1) p[1] = scalar_as<bool>(next);
    return out;
  }
  TL_DISPATCH_NUMERIC(dtype, "arange", [&] {
    kernels::arange_fill<scalar_t>(out.data<scalar_t>(), n, scalar_as<scalar_t>(start), scalar_as<scalar_t>(next));
  });
  return out;
}

Tensor linspace(double start, double stop, int64_t num, bool endpoint, DType dtype) {
  TL_CAPTURE_OP(linspace, start, stop, num, endpoint, dtype);
  TL_CHECK(num >= 0, "linspace", "Number of samples, ", num, ", must be non-negative.");
  Tensor y = Tensor::empty({num}, DType::Float64);
  kernels::linspace_fill(y.data<double>(), num, start, stop, endpoint);
  if (is_integral(dtype)) {
    double* p = y.data<double>();
    for (int64_t i = 0; i < num; ++i) p[i] = std::floor(p[i]);
  }
  return y.to_dtype(dtype);
}

Tensor eye(int64_t n, int64_t m, int64_t k, DType dtype) {
  TL_CAPTURE_OP(eye, n, m, k, dtype);
  Tensor out = Tensor::zeros({n, m}, dtype);  // validates n, m >= 0 and the size
  char* base = static_cast<char*>(out.data_ptr());
  const size_t isz = out.itemsize();
  Tensor one = Tensor::scalar(Scalar::from_int(1), dtype);
  // Diagonal element (r, r + k) for the rows where the column is in range.
  if (k >= m || k <= -n) return out;  // no diagonal inside the matrix (also keeps r + k in range)
  const int64_t r0 = k >= 0 ? 0 : -k;
  for (int64_t r = r0; r < n && r + k < m; ++r)
    std::memcpy(base + static_cast<size_t>(r * m + r + k) * isz, one.data_ptr(), isz);
  return out;
}

}  // namespace tl
