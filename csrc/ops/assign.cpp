#include "capture/recorder.h"
#include "ops/assign.h"
#include <cmath>
#include <sstream>
#include "core/shape.h"
#include "kernels/copy.h"
#include "ops/creation.h"
#include "ops/inplace.h"
#include "ops/shape_ops.h"

namespace tl {

void check_same_kind(DType from, DType to, const char* op) {
  TL_CHECK_TYPE(can_cast_same_kind(from, to), op, "Cannot cast ufunc '", op, "' output from dtype('",
                dtype_name(from), "') to dtype('", dtype_name(to), "') with casting rule 'same_kind'");
}

void assign_out(const Tensor& out, const Tensor& result, const char* op) {
  TL_CAPTURE_OP(assign_out, out, result, op);
  check_inplace_target(out, op);
  check_same_kind(result.dtype(), out.dtype(), op);
  Shape shape;
  bool ok = true;
  try {
    shape = broadcast_shapes(result.shape(), out.shape(), op);
  } catch (const std::invalid_argument&) {
    ok = false;
  }
  TL_CHECK(ok && shape == out.shape(), op, "non-broadcastable output operand with shape ", shape_str(out.shape()),
           " doesn't match the broadcast shape ", shape_str(ok ? shape : result.shape()));
  // result is a fresh tensor, so out may overlap the inputs freely.
  begin_inplace_write(out, op);
  kernels::copy_cast(out, broadcast_view(result, out.shape()));
}

Scalar assign_scalar(const Scalar& s, DType dtype, const char* op) {
  if (dtype == DType::Bool) return Scalar::from_bool(s.to<bool>());
  if (s.kind != ScalarKind::Float || !is_integral(dtype)) {
    check_scalar_fits(s, dtype);
    return s;
  }
  TL_CHECK(!std::isnan(s.f), op, "cannot convert float NaN to integer");
  if (std::isinf(s.f)) throw std::overflow_error(str_cat("[", op, "] cannot convert float infinity to integer"));
  const double t = std::trunc(s.f);
  if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0))
    throw std::overflow_error(str_cat("[", op, "] Python int too large to convert to C long"));
  Scalar i = Scalar::from_int(static_cast<int64_t>(t));
  check_scalar_fits(i, dtype);
  return i;
}

void check_int_assign(const Tensor& src, DType to, const char* op) {
  double bad = 0.0;
  if (!kernels::has_invalid_int_cast(src, to, &bad)) return;
  std::ostringstream v;
  v << bad;
  const std::string what = std::isnan(bad) ? "cannot convert float NaN to integer"
                           : std::isinf(bad) ? "cannot convert float infinity to integer"
                                             : "float " + v.str() + " is out of range for " + dtype_name(to);
  throw std::invalid_argument(str_cat("[", op, "] ", what, ": writing ", dtype_name(src.dtype()), " values into an ",
                                      dtype_name(to), " tensor (NumPy would store an undefined number)"));
}

}  // namespace tl
