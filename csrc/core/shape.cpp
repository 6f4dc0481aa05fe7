#include "core/shape.h"
#include "core/error.h"

namespace tl {

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

int64_t checked_numel(const Shape& shape, const char* op) {
  int64_t n = 1;
  bool zero = false;
  for (int64_t d : shape) {
    TL_CHECK(d >= 0, op, "negative dimensions are not allowed: ", shape_str(shape));
    if (d == 0) zero = true;
  }
  if (zero) return 0;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(n, d, &n))
      throw MemoryError(str_cat("[", op, "] array of shape ", shape_str(shape), " is too large"));
  }
  return n;
}

Strides contiguous_strides(const Shape& shape) {
  Strides st(shape.size());
  int64_t s = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    st[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
  }
  return st;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else
      throw std::invalid_argument(str_cat("[", op, "] operands could not be broadcast together with shapes ",
                                          shape_str(a), " ", shape_str(b)));
  }
  return out;
}

int64_t normalize_axis(int64_t axis, int64_t ndim, const char* op) {
  if (axis < -ndim || axis >= ndim)
    throw std::out_of_range(str_cat("[", op, "] axis ", axis, " is out of bounds for array of dimension ", ndim));
  return axis < 0 ? axis + ndim : axis;
}

std::vector<int64_t> normalize_axes(const std::vector<int64_t>& axes, int64_t ndim, const char* op) {
  std::vector<int64_t> out;
  std::vector<bool> seen(ndim, false);
  for (int64_t a : axes) {
    int64_t n = normalize_axis(a, ndim, op);
    TL_CHECK(!seen[n], op, "repeated axis ", a);
    seen[n] = true;
    out.push_back(n);
  }
  return out;
}

bool is_contiguous(const Shape& shape, const Strides& strides) {
  int64_t expected = 1;
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    if (shape[i] == 0) return true;
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

}  // namespace tl
