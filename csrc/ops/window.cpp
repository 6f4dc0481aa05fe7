#include "capture/recorder.h"
#include "ops/window.h"
#include <algorithm>
#include <cctype>
#include "core/error.h"
#include "ops/shape_ops.h"

namespace tl {
namespace {

int64_t checked_mul_add(int64_t a, int64_t b, int64_t c, const char* op, const std::string& ctx) {
  int64_t r;
  TL_CHECK(!__builtin_mul_overflow(a, b, &r) && !__builtin_add_overflow(r, c, &r), op, ctx,
           ": the window's size overflows int64");
  return r;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Padding parse_padding(const std::string& s, const char* op) {
  const std::string p = lower(s);
  if (p == "valid") return Padding::Valid;
  if (p == "same") return Padding::Same;
  throw std::invalid_argument(str_cat("[", op, "] padding must be 'valid' or 'same', got '", s, "'"));
}

bool parse_channels_first(const std::string& data_format, const char* op) {
  const std::string f = lower(data_format);
  if (f == "channels_last") return false;
  if (f == "channels_first") return true;
  throw std::invalid_argument(
      str_cat("[", op, "] data_format must be 'channels_last' or 'channels_first', got '", data_format, "'"));
}

std::vector<int64_t> spatial_arg(const char* op, const char* name, const std::vector<int64_t>& v, int64_t spatial) {
  TL_CHECK(v.size() == 1 || int64_t(v.size()) == spatial, op, name, " must be one integer or ", spatial,
           " (one per spatial dimension), got ", shape_str(v));
  for (int64_t s : v) TL_CHECK(s > 0, op, name, " must be positive, got ", shape_str(v));
  return v.size() == 1 ? std::vector<int64_t>(size_t(spatial), v[0]) : v;
}

kernels::Window make_window(const char* op, const Shape& x, const std::string& x_desc,
                            const std::vector<int64_t>& size, const std::vector<int64_t>& strides,
                            const std::vector<int64_t>& dilation, Padding padding, const std::string& what) {
  const int64_t spatial = int64_t(x.size()) - 2;
  kernels::Window w;
  w.N = x.front();
  w.C = x.back();
  w.H = spatial == 2 ? x[1] : 1;
  w.OH = 1;  // 1-D data: one row, kept by the 1-row window
  w.W = x[size_t(spatial)];
  int64_t* in[2] = {&w.H, &w.W};
  int64_t* k[2] = {&w.KH, &w.KW};
  int64_t* out[2] = {&w.OH, &w.OW};
  int64_t* st[2] = {&w.sh, &w.sw};
  int64_t* dil[2] = {&w.dh, &w.dw};
  int64_t* pad[2] = {&w.ph, &w.pw};
  for (int64_t d = 0; d < spatial; ++d) {
    const int64_t i = spatial == 2 ? d : 1;  // 1-D data use the W slots
    const int64_t n = *in[i], s = strides[size_t(d)];
    const int64_t span = checked_mul_add(size[size_t(d)] - 1, dilation[size_t(d)], 1, op, what);
    *k[i] = size[size_t(d)];
    *st[i] = s;
    *dil[i] = dilation[size_t(d)];
    if (padding == Padding::Valid) {
      TL_CHECK(span <= n, op, what, " spans ", span, " cells along spatial dim ", d, ", more than the ", n,
               " of the input ", x_desc, " with padding='valid'");
      *out[i] = (n - span) / s + 1;
      *pad[i] = 0;
    } else {
      const int64_t o = n / s + (n % s != 0);
      *out[i] = o;
      const int64_t total = o == 0 ? 0 : std::max<int64_t>(checked_mul_add(o - 1, s, span, op, what) - n, 0);
      *pad[i] = total / 2;
    }
  }
  return w;
}

Tensor to_channels_last(const Tensor& x) {
  TL_CAPTURE_OP(to_channels_last, x);
  std::vector<int64_t> perm{0};
  for (int64_t d = 2; d < x.ndim(); ++d) perm.push_back(d);
  perm.push_back(1);
  return transpose(x, perm);
}

Tensor to_channels_first(const Tensor& y) {
  TL_CAPTURE_OP(to_channels_first, y);
  std::vector<int64_t> perm{0, y.ndim() - 1};
  for (int64_t d = 1; d + 1 < y.ndim(); ++d) perm.push_back(d);
  return transpose(y, perm);
}

}  // namespace tl
