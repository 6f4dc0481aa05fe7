#include "capture/recorder.h"
#include "ops/shape_ops.h"
#include <numeric>
#include "autograd/function.h"
#include "ops/reduce.h"

namespace tl {

Tensor broadcast_view(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  const int64_t nd = static_cast<int64_t>(shape.size()), td = t.ndim();
  TL_CHECK(td <= nd, "broadcast_to", "input operand has more dimensions than allowed by the axis remapping: cannot broadcast shape ",
           shape_str(t.shape()), " to ", shape_str(shape));
  Strides st(nd, 0);
  for (int64_t i = 0; i < td; ++i) {
    int64_t d = t.shape()[i], target = shape[nd - td + i];
    if (d == target) st[nd - td + i] = t.strides()[i];
    else TL_CHECK(d == 1, "broadcast_to", "operands could not be broadcast together with remapped shapes: cannot broadcast ",
                  shape_str(t.shape()), " to ", shape_str(shape));
  }
  return t.view_with(shape, std::move(st), t.offset());
}

namespace {

struct BroadcastBackward : Node {
  const char* name() const override { return "ExpandBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {sum_to(g, input_meta[0].shape)}; }
};

struct ReshapeBackward : Node {
  const char* name() const override { return "ViewBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {reshape(g, input_meta[0].shape)}; }
};

struct TransposeBackward : Node {
  std::vector<int64_t> inverse;
  const char* name() const override { return "PermuteBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {transpose(g, inverse)}; }
};

}  // namespace

Tensor broadcast_to(const Tensor& t, const Shape& shape) {
  TL_CAPTURE_OP(broadcast_to, t, shape);
  for (int64_t d : shape) TL_CHECK(d >= 0, "broadcast_to", "all elements of broadcast shape must be non-negative");
  // A view's size and byte span must fit in int64 too (NumPy: "array is too big"): an unchecked
  // (2**40,)*3 wrapped to size 0.
  const int64_t n = checked_numel(shape, "broadcast_to");
  if (n > static_cast<int64_t>(INT64_MAX / static_cast<int64_t>(t.itemsize())))
    throw MemoryError(str_cat("[broadcast_to] array of shape ", shape_str(shape), " is too large"));
  Tensor out = broadcast_view(t, shape);
  if (out.impl() == t.impl()) out = t.detach();
  as_view_of(out, t);
  record<BroadcastBackward>(out, {t});
  return out;
}

Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from) {
  Shape shape = requested;
  int64_t unknown = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      TL_CHECK(unknown < 0, "reshape", "can only specify one unknown dimension");
      unknown = static_cast<int64_t>(i);
    } else {
      TL_CHECK(shape[i] >= 0, "reshape", "negative dimensions not allowed: ", shape_str(requested));
      if (__builtin_mul_overflow(known, shape[i], &known))
        throw std::invalid_argument(str_cat("[reshape] cannot reshape array of size ", numel, " into shape ",
                                            shape_str(requested)));
    }
  }
  if (unknown >= 0) {
    TL_CHECK(known != 0 && numel % known == 0, "reshape", "cannot reshape array of size ", numel, " into shape ",
             shape_str(requested));
    shape[unknown] = numel / known;
  } else {
    TL_CHECK(known == numel, "reshape", "cannot reshape array of size ", numel, " into shape ", shape_str(requested));
  }
  (void)from;
  return shape;
}

// NumPy's _attempt_nocopy_reshape: groups of old dims that multiply to groups of new dims
// must be contiguous among themselves.
bool reshape_strides(const Shape& old_shape_in, const Strides& old_strides_in, const Shape& new_shape, Strides& out) {
  Shape od;
  Strides os;
  for (size_t i = 0; i < old_shape_in.size(); ++i)
    if (old_shape_in[i] != 1) { od.push_back(old_shape_in[i]); os.push_back(old_strides_in[i]); }
  const size_t on = od.size(), nn = new_shape.size();
  out.assign(nn, 0);
  for (int64_t d : new_shape) if (d == 0) { out = contiguous_strides(new_shape); return true; }
  size_t oi = 0, oj = 1, ni = 0, nj = 1;
  while (ni < nn && oi < on) {
    int64_t np_ = new_shape[ni], op_ = od[oi];
    while (np_ != op_) {
      if (np_ < op_) np_ *= new_shape[nj++];
      else op_ *= od[oj++];
    }
    for (size_t ok = oi; ok + 1 < oj; ++ok)
      if (os[ok] != od[ok + 1] * os[ok + 1]) return false;
    out[nj - 1] = os[oj - 1];
    for (size_t nk = nj - 1; nk > ni; --nk) out[nk - 1] = out[nk] * new_shape[nk];
    ni = nj++;
    oi = oj++;
  }
  // Trailing size-1 dims: any stride works; use the last one's.
  int64_t last = ni > 0 ? out[ni - 1] : 1;
  for (size_t k = ni; k < nn; ++k) out[k] = last;
  return true;
}

Tensor reshape(const Tensor& t, const Shape& requested) {
  TL_CAPTURE_OP(reshape, t, requested);
  Shape shape = infer_shape(requested, t.numel(), t.shape());
  Strides st;
  Tensor out;
  if (reshape_strides(t.shape(), t.strides(), shape, st)) out = as_view_of(t.view_with(shape, st, t.offset()), t);
  else out = t.clone().view_with(shape, contiguous_strides(shape), 0);
  record<ReshapeBackward>(out, {t});
  return out;
}

Tensor transpose(const Tensor& t, const std::vector<int64_t>& axes_in) {
  TL_CAPTURE_OP(transpose, t, axes_in);
  const int64_t nd = t.ndim();
  std::vector<int64_t> axes = axes_in;
  if (axes.empty() && nd > 0) {
    axes.resize(nd);
    for (int64_t i = 0; i < nd; ++i) axes[i] = nd - 1 - i;
  }
  TL_CHECK(static_cast<int64_t>(axes.size()) == nd, "transpose", "axes don't match array: got ", axes.size(),
           " axes for an array of dimension ", nd);
  axes = normalize_axes(axes, nd, "transpose");
  Shape shape(nd);
  Strides st(nd);
  std::vector<int64_t> inverse(nd);
  for (int64_t i = 0; i < nd; ++i) {
    shape[i] = t.shape()[axes[i]];
    st[i] = t.strides()[axes[i]];
    inverse[axes[i]] = i;
  }
  Tensor out = as_view_of(t.view_with(shape, st, t.offset()), t);
  if (auto node = record<TransposeBackward>(out, {t})) node->inverse = inverse;
  return out;
}

Tensor swapaxes(const Tensor& t, int64_t a, int64_t b) {
  TL_CAPTURE_OP(swapaxes, t, a, b);
  const int64_t nd = t.ndim();
  a = normalize_axis(a, nd, "swapaxes");
  b = normalize_axis(b, nd, "swapaxes");
  std::vector<int64_t> axes(nd);
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[a], axes[b]);
  return transpose(t, axes);
}

}  // namespace tl

namespace tl {

namespace {

// Gradient of a view that only adds or removes size-1 dims, or of a flat copy: reshape back.
struct ViewReshapeBackward : Node {
  const char* name_ = "ViewBackward0";
  const char* name() const override { return name_; }
  std::vector<Tensor> backward(const Tensor& g) override { return {reshape(g, input_meta[0].shape)}; }
};

struct CopyBackward : Node {
  const char* name() const override { return "CloneBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {g}; }
};

Tensor record_reshape_like(Tensor out, const Tensor& t, const char* name) {
  if (auto node = record<ViewReshapeBackward>(out, {t})) node->name_ = name;
  return out;
}

}  // namespace

Tensor squeeze(const Tensor& t, const std::optional<std::vector<int64_t>>& axes) {
  TL_CAPTURE_OP(squeeze, t, axes);
  const int64_t nd = t.ndim();
  std::vector<bool> drop(nd, false);
  if (!axes) {
    for (int64_t i = 0; i < nd; ++i) drop[i] = t.shape()[i] == 1;
  } else {
    for (int64_t a : normalize_axes(*axes, nd, "squeeze")) {
      TL_CHECK(t.shape()[a] == 1, "squeeze", "cannot select an axis to squeeze out which has size not equal to one (axis ",
               a, " of shape ", shape_str(t.shape()), ")");
      drop[a] = true;
    }
  }
  Shape shape;
  Strides st;
  for (int64_t i = 0; i < nd; ++i)
    if (!drop[i]) {
      shape.push_back(t.shape()[i]);
      st.push_back(t.strides()[i]);
    }
  return record_reshape_like(as_view_of(t.view_with(shape, st, t.offset()), t), t, "SqueezeBackward0");
}

Tensor expand_dims(const Tensor& t, const std::vector<int64_t>& axes_in) {
  TL_CAPTURE_OP(expand_dims, t, axes_in);
  const int64_t out_nd = t.ndim() + static_cast<int64_t>(axes_in.size());
  std::vector<bool> is_new(out_nd, false);
  for (int64_t a : normalize_axes(axes_in, out_nd, "expand_dims")) is_new[a] = true;
  Shape shape(out_nd);
  Strides st(out_nd);
  int64_t src = 0;
  for (int64_t i = 0; i < out_nd; ++i) {
    if (is_new[i]) {
      shape[i] = 1;
      st[i] = 0;
    } else {
      shape[i] = t.shape()[src];
      st[i] = t.strides()[src++];
    }
  }
  return record_reshape_like(as_view_of(t.view_with(shape, st, t.offset()), t), t, "UnsqueezeBackward0");
}

Tensor flatten(const Tensor& t) {
  TL_CAPTURE_OP(flatten, t);
  const Shape shape{t.numel()};
  return record_reshape_like(t.clone().view_with(shape, {1}, 0), t, "ViewBackward0");
}

Tensor ravel(const Tensor& t) {
  TL_CAPTURE_OP(ravel, t);
  if (!t.is_contiguous()) return flatten(t);
  const Shape shape{t.numel()};
  return record_reshape_like(as_view_of(t.view_with(shape, {1}, t.offset()), t), t, "ViewBackward0");
}

Tensor copy(const Tensor& t) {
  TL_CAPTURE_OP(copy, t);
  Tensor out = t.clone();
  record<CopyBackward>(out, {t});
  return out;
}

Tensor ascontiguousarray(const Tensor& t) {
  TL_CAPTURE_OP(ascontiguousarray, t);
  if (t.ndim() == 0) return reshape(t, {1});
  if (t.is_contiguous()) return t;
  return copy(t);
}

}  // namespace tl
