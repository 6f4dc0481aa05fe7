#include "core/format.h"
#include "autograd/node.h"
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <type_traits>
#include <vector>

namespace tl {
namespace {

// ---------------------------------------------------------------------------------------------
// Digits of one float, as NumPy's Dragon4 makes them in "unique" mode: the shortest digits that
// round-trip, unless they need more than `precision` digits after the cut-off, in which case
// the value correctly rounded at the cut-off (trailing zeros dropped). std::to_chars gives both
// the shortest form and exact rounding, so no big-integer arithmetic is needed here.

struct Sci {           // value = sign * d0.d1d2... * 10^exp
  bool neg = false;
  std::string digits;  // at least one digit; "0" for zero
  int exp = 0;
};

template <class T>
Sci parse_sci(const char* b, const char* e) {
  Sci s;
  if (b < e && *b == '-') { s.neg = true; ++b; }
  const char* p = b;
  for (; p < e && *p != 'e'; ++p)
    if (*p != '.') s.digits += *p;
  if (p < e) s.exp = std::atoi(std::string(p + 1, e).c_str());
  return s;
}

// std::to_chars for float/double; float16 is printed from its exact double value, and its
// shortest round-trip digits are found by trying 1 to 5 significant digits (5 always suffice).
template <class T>
std::to_chars_result chars(char* b, char* e, T x, std::chars_format f) { return std::to_chars(b, e, x, f); }
template <class T>
std::to_chars_result chars(char* b, char* e, T x, std::chars_format f, int precision) {
  return std::to_chars(b, e, x, f, precision);
}
std::to_chars_result chars(char* b, char* e, half x, std::chars_format f, int precision) {
  return std::to_chars(b, e, static_cast<double>(x), f, precision);
}
std::to_chars_result chars(char* b, char* e, half x, std::chars_format f) {
  for (int p = 0; p < 4; ++p) {
    auto r = std::to_chars(b, e, static_cast<double>(x), std::chars_format::scientific, p);
    if (half(std::strtod(std::string(b, r.ptr).c_str(), nullptr)).bits == x.bits) {
      if (f == std::chars_format::scientific) return r;
      break;
    }
  }
  // Not reached for scientific below 5 digits; fixed notation is only asked with a precision.
  return std::to_chars(b, e, static_cast<double>(x), std::chars_format::scientific, 4);
}

template <class T>
Sci shortest_sci(T x) {
  char buf[64];
  auto r = chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  return parse_sci<T>(buf, r.ptr);
}

void strip_trailing_zeros(std::string& d, size_t keep) {
  while (d.size() > keep && d.back() == '0') d.pop_back();
}

// Scientific digits with at most `precision` digits after the first (precision < 0: unlimited).
template <class T>
Sci sci_digits(T x, int precision) {
  Sci s = shortest_sci(x);
  if (precision < 0 || static_cast<int>(s.digits.size()) - 1 <= precision) return s;
  std::string buf(static_cast<size_t>(precision) + 32, '\0');
  auto r = chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::scientific, precision);
  s = parse_sci<T>(buf.data(), r.ptr);
  strip_trailing_zeros(s.digits, 1);
  return s;
}

struct Pos {           // sign + int_part "." frac_part
  std::string int_part;  // with '-' when negative
  std::string frac;      // without trailing zeros
};

// Positional digits with at most `precision` fractional digits (precision < 0: unlimited).
template <class T>
Pos pos_digits(T x, int precision) {
  Sci s = shortest_sci(x);
  const int frac_needed = std::max(0, static_cast<int>(s.digits.size()) - 1 - s.exp);
  Pos p;
  if (precision < 0 || frac_needed <= precision) {
    const std::string& d = s.digits;
    if (s.exp >= 0) {
      const size_t n_int = static_cast<size_t>(s.exp) + 1;
      p.int_part = d.size() >= n_int ? d.substr(0, n_int) : d + std::string(n_int - d.size(), '0');
      p.frac = d.size() > n_int ? d.substr(n_int) : "";
    } else {
      p.int_part = "0";
      p.frac = std::string(static_cast<size_t>(-s.exp - 1), '0') + d;
    }
    if (s.neg) p.int_part = "-" + p.int_part;
  } else {
    std::string buf(static_cast<size_t>(precision) + 330, '\0');  // 309 integer digits at most
    auto r = chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::fixed, precision);
    std::string str(buf.data(), r.ptr);
    const size_t dot = str.find('.');
    p.int_part = str.substr(0, dot);
    p.frac = dot == std::string::npos ? "" : str.substr(dot + 1);
  }
  strip_trailing_zeros(p.frac, 0);
  return p;
}

std::string exp_str(int e, int min_digits) {
  std::string d = std::to_string(e < 0 ? -e : e);
  if (static_cast<int>(d.size()) < min_digits) d = std::string(min_digits - d.size(), '0') + d;
  return std::string(e < 0 ? "-" : "+") + d;
}

std::string pad_left(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}
std::string pad_right(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

// ---------------------------------------------------------------------------------------------
// Element formatters (NumPy's FloatingFormat, IntegerFormat, BoolFormat), built from the values
// that will be shown.

template <class T>
class FloatFormat {
 public:
  // plus: NumPy's sign='+' (a '+' before non-negative values), the imaginary parts of complex.
  FloatFormat(const std::vector<T>& data, int precision, bool suppress, bool plus = false)
      : precision_(precision), plus_(plus) {
    std::vector<T> finite;
    bool has_neginf = false, has_nonfinite = false;
    for (T v : data) {
      if (std::isfinite(v)) finite.push_back(v);
      else { has_nonfinite = true; if (std::isinf(v) && v < 0) has_neginf = true; }
    }
    bool any_nonzero = false;
    T max_val = 0, min_val = std::numeric_limits<T>::infinity();
    for (T v : finite) {
      if (v == 0) continue;
      any_nonzero = true;
      const T a = std::fabs(v);
      max_val = std::max(max_val, a);
      min_val = std::min(min_val, a);
    }
    // The comparisons are made in T, as NumPy 2 does with weak Python floats. The upper cut-off
    // is 10**min(8, finfo(T).precision) since NumPy 2.3: 1e8 for float64, 1e6 for float32.
    const T exp_cutoff_max = static_cast<T>(std::is_same_v<T, half> ? 1e3 : std::is_same_v<T, float> ? 1e6 : 1e8);
    // suppress=True keeps small values positional (rounded to `precision` digits).
    if (any_nonzero && (max_val >= exp_cutoff_max ||
                        (!suppress && (min_val < static_cast<T>(0.0001) || max_val / min_val > static_cast<T>(1000.)))))
      exp_format_ = true;

    if (finite.empty()) {
      pad_left_ = pad_right_ = 0;
    } else if (exp_format_) {
      size_t frac = 0, intl = 0;
      int exp_len = 0;
      for (T v : finite) {
        Sci s = sci_digits(v, precision_);
        frac = std::max(frac, s.digits.size() - 1);
        intl = std::max(intl, size_t(s.neg || plus_ ? 2 : 1));
        exp_len = std::max(exp_len, static_cast<int>(exp_str(s.exp, 2).size()));
      }
      exp_size_ = exp_len - 1;
      precision_ = static_cast<int>(frac);
      pad_left_ = intl;
      pad_right_ = static_cast<size_t>(exp_size_ + 2 + precision_);
    } else {
      for (T v : finite) {
        Pos p = pos_digits(v, precision_);
        pad_left_ = std::max(pad_left_, p.int_part.size() + (plus_ && p.int_part[0] != '-' ? 1 : 0));
        pad_right_ = std::max(pad_right_, p.frac.size());
      }
    }
    if (has_nonfinite) {
      const long offset = static_cast<long>(pad_right_) + 1;
      long pl = static_cast<long>(pad_left_);
      pl = std::max(pl, 3 - offset);
      pl = std::max(pl, 3 + (has_neginf || plus_ ? 1 : 0) - offset);
      pad_left_ = static_cast<size_t>(pl);
    }
  }

  std::string operator()(T x) const {
    if (!std::isfinite(x)) {
      std::string ret = std::isnan(x) ? "nan" : (x < 0 ? "-inf" : "inf");
      if (plus_ && ret[0] != '-') ret = "+" + ret;
      return pad_left(ret, pad_left_ + pad_right_ + 1);
    }
    if (exp_format_) {
      // NumPy asks Dragon4 for min_digits = precision here, i.e. the exact value correctly
      // rounded to `precision` digits (1.997e-04 as float32 becomes 1.9970001e-04 next to a
      // value that needs 8 digits), which is what to_chars with a precision gives.
      std::string buf(static_cast<size_t>(precision_) + 32, '\0');
      auto r = chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::scientific, precision_);
      Sci s = parse_sci<T>(buf.data(), r.ptr);
      std::string head = (s.neg ? "-" : plus_ ? "+" : "") + s.digits.substr(0, 1);
      return pad_left(head, pad_left_) + "." + s.digits.substr(1) + "e" + exp_str(s.exp, exp_size_);
    }
    Pos p = pos_digits(x, precision_);
    if (plus_ && p.int_part[0] != '-') p.int_part = "+" + p.int_part;
    return pad_left(p.int_part, pad_left_) + "." + pad_right(p.frac, pad_right_);
  }

 private:
  int precision_;
  bool plus_;
  bool exp_format_ = false;
  size_t pad_left_ = 0, pad_right_ = 0;
  int exp_size_ = -1;
};

// Decimal digits of an integer of any width and sign (uint64 above 2^63 included).
template <class T>
std::string int_str(T x) {
  if constexpr (std::is_unsigned_v<T>) return std::to_string(static_cast<uint64_t>(x));
  else return std::to_string(static_cast<int64_t>(x));
}

template <class T>
class IntFormat {
 public:
  explicit IntFormat(const std::vector<T>& data) {
    if (data.empty()) return;
    auto [mn, mx] = std::minmax_element(data.begin(), data.end());
    width_ = std::max(int_str(*mx).size(), int_str(*mn).size());
  }
  std::string operator()(T x) const { return pad_left(int_str(x), width_); }

 private:
  size_t width_ = 0;
};

// NumPy's str() of a scalar (used for str of 0-d tensors): shortest round-trip digits,
// positional for 1e-4 <= |x| < 1e16 (1e6 for float32) and 0 as "1.0", else scientific "1e+20".
template <class T>
std::string scalar_str(T x) {
  if constexpr (std::is_same_v<T, bool>) {
    return x ? "True" : "False";
  } else if constexpr (is_float_v<T>) {
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
    // NumPy's cut-offs, compared in double: [1e-4, 1e16) for float64, [1e-4, 1e6) for float32.
    const double a = std::fabs(static_cast<double>(x));
    const double upper = std::is_same_v<T, half> ? 1e3 : std::is_same_v<T, float> ? 1e6 : 1e16;
    if (a == 0 || (a >= 1e-4 && a < upper)) {
      Pos p = pos_digits(x, -1);
      return p.int_part + "." + (p.frac.empty() ? "0" : p.frac);
    }
    Sci s = sci_digits(x, -1);
    std::string out = (s.neg ? "-" : "") + s.digits.substr(0, 1);
    if (s.digits.size() > 1) out += "." + s.digits.substr(1);
    return out + "e" + exp_str(s.exp, 2);
  } else {
    return int_str(x);
  }
}

// ---------------------------------------------------------------------------------------------
// Layout: NumPy's _formatArray (legacy=False).

std::string rstrip(const std::string& s) {
  size_t e = s.find_last_not_of(" \t\n");
  return e == std::string::npos ? std::string() : s.substr(0, e + 1);
}

struct Layout {
  const Shape& shape;
  const Strides& strides;
  std::function<std::string(int64_t)> fmt;  // element at an element offset from data_ptr
  std::string separator;
  bool summary;
  int64_t edge;

  void extend(std::string& s, std::string& line, const std::string& word, int64_t width,
              const std::string& next_prefix) const {
    bool wrap = static_cast<int64_t>(line.size() + word.size()) > width;
    if (line.size() <= next_prefix.size()) wrap = false;  // wrapping would not help
    if (wrap) {
      s += rstrip(line) + "\n";
      line = next_prefix;
    }
    line += word;
  }

  std::string rec(size_t axis, int64_t off, const std::string& hang, int64_t curr_width) const {
    const size_t axes_left = shape.size() - axis;
    if (axes_left == 0) return fmt(off);
    const std::string next_hang = hang + " ";
    const int64_t next_width = curr_width - 1;
    const int64_t n = shape[axis];
    const bool show_summary = summary && 2 * edge < n;
    const int64_t leading = show_summary ? edge : 0, trailing = show_summary ? edge : n;
    auto child = [&](int64_t i) { return rec(axis + 1, off + i * strides[axis], next_hang, next_width); };
    const std::string sep_r = rstrip(separator);
    std::string s;
    if (axes_left == 1) {
      const int64_t elem_width = curr_width - std::max<int64_t>(static_cast<int64_t>(sep_r.size()), 1);
      std::string line = hang;
      for (int64_t i = 0; i < leading; ++i) {
        extend(s, line, child(i), elem_width, hang);
        line += separator;
      }
      if (show_summary) {
        extend(s, line, "...", elem_width, hang);
        line += separator;
      }
      for (int64_t i = trailing; i > 1; --i) {
        extend(s, line, child(n - i), elem_width, hang);
        line += separator;
      }
      extend(s, line, child(n - 1), elem_width, hang);
      s += line;
    } else {
      const std::string line_sep = sep_r + std::string(axes_left - 1, '\n');
      for (int64_t i = 0; i < leading; ++i) s += hang + child(i) + line_sep;
      if (show_summary) s += hang + "..." + line_sep;
      for (int64_t i = trailing; i > 1; --i) s += hang + child(n - i) + line_sep;
      s += hang + child(n - 1);
    }
    return "[" + s.substr(hang.size()) + "]";
  }
};

// Element offsets of the values that will be shown (NumPy's _leading_trailing).
void shown_offsets(const Tensor& t, bool summary, int64_t edge, size_t axis, int64_t off, std::vector<int64_t>& out) {
  if (axis == t.shape().size()) {
    out.push_back(off);
    return;
  }
  const int64_t n = t.shape()[axis], st = t.strides()[axis];
  if (summary && n > 2 * edge) {
    for (int64_t i = 0; i < edge; ++i) shown_offsets(t, summary, edge, axis + 1, off + i * st, out);
    for (int64_t i = n - edge; i < n; ++i) shown_offsets(t, summary, edge, axis + 1, off + i * st, out);
  } else {
    for (int64_t i = 0; i < n; ++i) shown_offsets(t, summary, edge, axis + 1, off + i * st, out);
  }
}

// The element formatter for the shown values of a T tensor.
template <class T>
std::function<std::string(int64_t)> make_formatter(const Tensor& t, const std::vector<int64_t>& offs,
                                                   const PrintOptions& opts) {
  const T* base = t.data<T>();
  std::vector<T> vals;
  vals.reserve(offs.size());
  for (int64_t o : offs) vals.push_back(base[o]);
  if constexpr (std::is_same_v<T, bool>) {
    const std::string truestr = t.ndim() > 0 ? " True" : "True";
    return [base, truestr](int64_t o) { return base[o] ? truestr : std::string("False"); };
  } else if constexpr (is_float_v<T>) {
    FloatFormat<T> ff(vals, opts.precision, opts.suppress);
    return [base, ff](int64_t o) { return ff(base[o]); };
  } else {
    IntFormat<T> fi(vals);
    return [base, fi](int64_t o) { return fi(base[o]); };
  }
}

// NumPy's ComplexFloatingFormat: the real parts formatted as a float column, the imaginary
// parts as another with sign='+', and the 'j' before the imaginary part's padding.
template <class R>
std::function<std::string(int64_t)> make_complex_formatter(const Tensor& t, const std::vector<int64_t>& offs,
                                                           const PrintOptions& opts) {
  const R* base = static_cast<const R*>(t.data_ptr());
  std::vector<R> re, im;
  for (int64_t o : offs) {
    re.push_back(base[2 * o]);
    im.push_back(base[2 * o + 1]);
  }
  FloatFormat<R> fr(re, opts.precision, opts.suppress), fi(im, opts.precision, opts.suppress, true);
  return [base, fr, fi](int64_t o) {
    std::string i = fi(base[2 * o + 1]);
    const size_t sp = i.find_last_not_of(' ') + 1;
    return fr(base[2 * o]) + i.substr(0, sp) + "j" + i.substr(sp);
  };
}

// str of a complex scalar, as NumPy's (and Python's): "(1+2j)", "-1.5j" when the real part is +0.
template <class R>
std::string complex_scalar_str(R re, R im) {
  auto part = [](R v) {
    std::string s = scalar_str(v);
    if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
    return s;
  };
  std::string i = part(im);
  if (i[0] != '-') i = "+" + i;
  if (re == 0 && !std::signbit(re)) return (i[0] == '+' ? i.substr(1) : i) + "j";
  return "(" + part(re) + i + "j)";
}

// NumPy's _array2string (a.size > 0): the bracketed body with wrapped lines.
std::string array2string(const Tensor& t, const std::string& separator, const std::string& prefix, int64_t linewidth,
                         const PrintOptions& opts) {
  const bool summary = t.numel() > opts.threshold;
  std::vector<int64_t> offs;
  shown_offsets(t, summary, opts.edgeitems, 0, 0, offs);
  std::function<std::string(int64_t)> fmt =
      t.dtype() == DType::Complex64    ? make_complex_formatter<float>(t, offs, opts)
      : t.dtype() == DType::Complex128 ? make_complex_formatter<double>(t, offs, opts)
                                       : TL_DISPATCH_ALL(t.dtype(), "repr", [&] { return make_formatter<scalar_t>(t, offs, opts); });
  Layout layout{t.shape(), t.strides(), fmt, separator, summary, opts.edgeitems};
  return layout.rec(0, 0, std::string(1 + prefix.size(), ' '), linewidth);
}

// Python's repr of a shape tuple: "(2, 3)", "(5,)", "()".
std::string shape_repr(const Shape& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  if (s.size() == 1) r += ",";
  return r + ")";
}

}  // namespace

PrintOptions& print_options() {
  static PrintOptions opts;
  return opts;
}

std::string tensor_repr(const Tensor& t, const PrintOptions& opts) {
  const std::string prefix = "tensor(";
  const int64_t n = t.numel();
  const std::string body = n == 0 ? "[]" : array2string(t, ", ", prefix, opts.linewidth - 1, opts);
  std::vector<std::string> extras;
  if ((n == 0 && !(t.ndim() == 1 && t.shape()[0] == 0)) || n > opts.threshold) extras.push_back("shape=" + shape_repr(t.shape()));
  const DType d = t.dtype();
  if (!(d == DType::Float64 || d == DType::Int64 || d == DType::Bool || d == DType::Complex128) || n == 0)
    extras.push_back(std::string("dtype=") + dtype_name(d));
  // As PyTorch: a non-leaf names the op that made it, a leaf says it requires grad.
  if (t.grad_fn()) extras.push_back(std::string("grad_fn=<") + t.grad_fn()->name() + ">");
  else if (t.requires_grad()) extras.push_back("requires_grad=True");
  if (extras.empty()) return prefix + body + ")";
  const std::string arr_str = prefix + body + ",";
  std::string extra_str;
  for (size_t i = 0; i < extras.size(); ++i) extra_str += (i ? ", " : "") + extras[i];
  extra_str += ")";
  const size_t nl = arr_str.rfind('\n');
  const size_t last_line_len = nl == std::string::npos ? arr_str.size() : arr_str.size() - nl - 1;
  const std::string spacer = static_cast<int64_t>(last_line_len + extra_str.size() + 1) > opts.linewidth
                                 ? "\n" + std::string(prefix.size(), ' ')
                                 : " ";
  return arr_str + spacer + extra_str;
}

std::string tensor_str(const Tensor& t, const PrintOptions& opts) {
  if (t.ndim() == 0 && is_complex(t.dtype())) {
    if (t.dtype() == DType::Complex64) return complex_scalar_str(t.data<float>()[0], t.data<float>()[1]);
    return complex_scalar_str(t.data<double>()[0], t.data<double>()[1]);
  }
  if (t.ndim() == 0)
    return TL_DISPATCH_ALL(t.dtype(), "str", [&]() -> std::string { return scalar_str(*t.data<scalar_t>()); });
  if (t.numel() == 0) return "[]";
  return array2string(t, " ", "", opts.linewidth, opts);
}

}  // namespace tl
