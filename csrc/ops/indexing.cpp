#include "capture/recorder.h"
#include "ops/indexing.h"
#include <algorithm>
#include <limits>
#include "autograd/function.h"
#include "kernels/copy.h"
#include "kernels/gather.h"
#include "ops/assign.h"
#include "ops/binary.h"
#include "ops/creation.h"
#include "ops/inplace.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"

namespace tl {

int64_t resolve_slice(const IndexItem& s, int64_t length, int64_t& start, int64_t& step) {
  step = s.step.value_or(1);
  TL_CHECK(step != 0, "index", "slice step cannot be zero");
  if (step < -std::numeric_limits<int64_t>::max()) step = -std::numeric_limits<int64_t>::max();
  auto adjust = [&](int64_t v) {
    if (v < 0) {
      v += length;
      if (v < 0) v = step < 0 ? -1 : 0;
    } else if (v >= length) {
      v = step < 0 ? length - 1 : length;
    }
    return v;
  };
  int64_t stop;
  start = s.start ? adjust(*s.start) : (step < 0 ? length - 1 : 0);
  stop = s.stop ? adjust(*s.stop) : (step < 0 ? -1 : length);
  if (step < 0) return stop < start ? (start - stop - 1) / (-step) + 1 : 0;
  return start < stop ? (stop - start - 1) / step + 1 : 0;
}

namespace {

constexpr const char* kOp = "index";

// One advanced index after the basic part has been applied: the view dim it indexes, the axis
// of the original array (for error messages) and the index values (an integer tensor).
struct Adv {
  int64_t dim;
  int64_t axis;
  Tensor idx;
  int64_t item;  // position in the index tuple: NumPy's adjacency rule looks at the tuple
};

// x[index] resolved: the basic view's geometry plus the advanced indices on it.
struct Plan {
  Shape shape;
  Strides strides;
  int64_t offset = 0;
  std::vector<Adv> adv;
};

Tensor int64_vector(const std::vector<int64_t>& v) {
  Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, DType::Int64);
  std::copy(v.begin(), v.end(), t.data<int64_t>());
  return t;
}

// Applies the basic part of `index` to x and collects the advanced part. When `canon` is given,
// it receives an equivalent index without masks (each replaced by its nonzero() arrays), so a
// backward pass need not keep the mask or search it again.
Plan plan_index(const Tensor& x, const Index& index, Index* canon) {
  const int64_t nd = x.ndim();
  int64_t consumed = 0, ellipses = 0;
  bool has_adv = false;
  for (const IndexItem& it : index) {
    switch (it.kind) {
      case IndexItem::Kind::Int:
      case IndexItem::Kind::Slice: ++consumed; break;
      case IndexItem::Kind::Ellipsis:
        TL_CHECK_INDEX(++ellipses <= 1, kOp, "an index can only have a single ellipsis ('...')");
        break;
      case IndexItem::Kind::NewAxis: break;
      case IndexItem::Kind::Bool: has_adv = true; break;
      case IndexItem::Kind::Array: {
        const Tensor& a = it.array;
        TL_CHECK_INDEX(a.defined() && (is_integral(a.dtype()) || a.dtype() == DType::Bool), kOp,
                       "arrays used as indices must be of integer (or boolean) type");
        has_adv = true;
        consumed += a.dtype() == DType::Bool ? a.ndim() : 1;
        break;
      }
    }
  }
  TL_CHECK_INDEX(consumed <= nd, kOp, "too many indices for array: array is ", nd, "-dimensional, but ", consumed,
                 " were indexed");

  // Masks must match the dims they cover (checked before anything else, as NumPy; empty masks
  // pass, as in NumPy).
  for (int64_t pos = 0, k = 0; k < static_cast<int64_t>(index.size()); ++k) {
    const IndexItem& it = index[k];
    if (it.kind == IndexItem::Kind::Int || it.kind == IndexItem::Kind::Slice) ++pos;
    if (it.kind == IndexItem::Kind::Ellipsis) pos += nd - consumed;
    if (it.kind != IndexItem::Kind::Array) continue;
    const Tensor& a = it.array;
    if (a.dtype() != DType::Bool) {
      ++pos;
      continue;
    }
    for (int64_t d = 0; d < a.ndim() && a.numel() > 0; ++d)
      TL_CHECK_INDEX(a.shape()[d] == x.shape()[pos + d], kOp, "boolean index did not match indexed array along axis ",
                     pos + d, "; size of axis is ", x.shape()[pos + d], " but size of corresponding boolean axis is ",
                     a.shape()[d]);
    pos += a.ndim();
  }

  Plan pl;
  pl.offset = x.offset();
  pl.shape.reserve(nd + index.size());
  pl.strides.reserve(nd + index.size());
  int64_t src = 0;    // next dim of x
  int64_t item = -1;  // position of the current item in the index
  auto check_int = [&](int64_t v, int64_t axis) {
    const int64_t size = x.shape()[axis];
    const int64_t i = v < 0 ? v + size : v;
    TL_CHECK_INDEX(i >= 0 && i < size, kOp, "index ", v, " is out of bounds for axis ", axis, " with size ", size);
    return i;
  };
  // `owned`: idx was made here; the caller's index arrays are copied into a saved index, so
  // changing them after the forward pass cannot change the backward.
  auto push_adv = [&](Tensor idx, int64_t axis, bool owned = true) {
    pl.adv.push_back(Adv{static_cast<int64_t>(pl.shape.size()) - 1, axis, idx, item});
    if (canon) canon->push_back(IndexItem::tensor(owned ? std::move(idx) : idx.clone()));
  };
  // A scalar boolean adds an axis of length 1 that is indexed by [0] (True) or [] (False).
  auto push_bool = [&](bool b) {
    pl.shape.push_back(1);
    pl.strides.push_back(0);
    pl.adv.push_back(Adv{static_cast<int64_t>(pl.shape.size()) - 1, src, b ? int64_vector({0}) : int64_vector({}), item});
    if (canon) canon->push_back(IndexItem::boolean(b));
  };
  for (const IndexItem& it : index) {
    ++item;
    switch (it.kind) {
      case IndexItem::Kind::Int: {
        // Checked here even when it joins the advanced indices (NumPy checks integers up front,
        // so x[[], 99] is an error although the broadcast index is empty).
        const int64_t size = x.shape()[src];
        const int64_t i = check_int(it.value, src);
        if (has_adv) {
          pl.shape.push_back(size);
          pl.strides.push_back(x.strides()[src]);
          push_adv(Tensor::scalar(Scalar::from_int(it.value), DType::Int64), src);
        } else {
          pl.offset += i * x.strides()[src];
        }
        ++src;
        break;
      }
      case IndexItem::Kind::Slice: {
        TL_CHECK_TYPE(!it.bad_bound, kOp, "slice indices must be integers or None or have an __index__ method");
        int64_t start, step;
        const int64_t n = resolve_slice(it, x.shape()[src], start, step);
        if (n > 0) pl.offset += start * x.strides()[src];
        pl.shape.push_back(n);
        // With two or more elements |step| < size, so the product cannot overflow.
        pl.strides.push_back(n > 1 ? x.strides()[src] * step : x.strides()[src]);
        if (canon) canon->push_back(it);
        ++src;
        break;
      }
      case IndexItem::Kind::Ellipsis: {
        const int64_t take = nd - consumed;
        for (int64_t k = 0; k < take; ++k, ++src) {
          pl.shape.push_back(x.shape()[src]);
          pl.strides.push_back(x.strides()[src]);
        }
        if (canon) canon->push_back(it);
        break;
      }
      case IndexItem::Kind::NewAxis:
        pl.shape.push_back(1);
        pl.strides.push_back(0);
        if (canon) canon->push_back(it);
        break;
      case IndexItem::Kind::Bool:
        push_bool(it.value != 0);
        break;
      case IndexItem::Kind::Array: {
        const Tensor& a = it.array;
        if (a.dtype() != DType::Bool) {
          if (a.ndim() == 0) check_int(a.item_int(), src);  // a 0-d array is an integer to NumPy
          pl.shape.push_back(x.shape()[src]);
          pl.strides.push_back(x.strides()[src]);
          push_adv(a, src, false);
          ++src;
          break;
        }
        if (a.ndim() == 0) {
          push_bool(a.item_int() != 0);
          break;
        }
        std::vector<Tensor> rows = nonzero(a);
        for (int64_t k = 0; k < a.ndim(); ++k, ++src) {
          pl.shape.push_back(x.shape()[src]);
          pl.strides.push_back(x.strides()[src]);
          push_adv(rows[k], src);
        }
        break;
      }
    }
  }
  for (; src < nd; ++src) {  // implicit trailing ellipsis
    pl.shape.push_back(x.shape()[src]);
    pl.strides.push_back(x.strides()[src]);
  }
  return pl;
}

// The advanced part of a plan, resolved against a dense side of the result's shape.
struct Gather {
  Shape result_shape;
  Shape b_shape;
  int64_t first = 0;  // where the broadcast index dims go in the result
  std::vector<int64_t> rest;  // view dims that are not indexed, in order
  std::vector<int64_t> a_off;  // per b: byte offset into the view
};

Gather resolve_advanced(const Plan& pl, size_t itemsize) {
  Gather g;
  // Broadcast the index shapes together (IndexError naming them all, as NumPy).
  Shape b;
  try {
    for (const Adv& a : pl.adv) b = broadcast_shapes(b, a.idx.shape(), kOp);
  } catch (const std::invalid_argument&) {
    std::string shapes;
    for (const Adv& a : pl.adv) shapes += shape_str(a.idx.shape()) + " ";
    throw std::out_of_range(str_cat("[index] shape mismatch: indexing arrays could not be broadcast together with shapes ",
                                    shapes.substr(0, shapes.size() - 1)));
  }
  g.b_shape = b;
  const int64_t nb = checked_numel(b, kOp);
  g.a_off.assign(static_cast<size_t>(nb), 0);
  for (const Adv& a : pl.adv) {
    Tensor idx = broadcast_view(a.idx.to_dtype(DType::Int64), b).contiguous();
    capture::opaque();  // the offsets are read here, outside any kernel: replays re-run the op
    const int64_t* v = idx.data<int64_t>();
    const int64_t size = pl.shape[a.dim];
    const int64_t stride = pl.strides[a.dim] * static_cast<int64_t>(itemsize);
    for (int64_t k = 0; k < nb; ++k) {
      int64_t i = v[k] < 0 ? v[k] + size : v[k];
      TL_CHECK_INDEX(i >= 0 && i < size, kOp, "index ", v[k], " is out of bounds for axis ", a.axis, " with size ", size);
      g.a_off[k] += i * stride;
    }
  }
  bool adjacent = true;
  // Adjacent in the index (x[:, i, j]), not merely in the view: x[i, ..., j] with an empty
  // ellipsis still puts the broadcast dims first, as NumPy does.
  for (size_t j = 1; j < pl.adv.size(); ++j)
    adjacent = adjacent && pl.adv[j].item - pl.adv[j - 1].item <= 1 && pl.adv[j].dim == pl.adv[j - 1].dim + 1;
  std::vector<bool> is_adv(pl.shape.size(), false);
  for (const Adv& a : pl.adv) is_adv[a.dim] = true;
  g.first = adjacent ? pl.adv.front().dim : 0;
  for (int64_t d = 0; d < static_cast<int64_t>(pl.shape.size()); ++d)
    if (!is_adv[d]) g.rest.push_back(d);
  for (int64_t k = 0; k < g.first; ++k) g.result_shape.push_back(pl.shape[g.rest[k]]);
  g.result_shape.insert(g.result_shape.end(), b.begin(), b.end());
  for (size_t k = g.first; k < g.rest.size(); ++k) g.result_shape.push_back(pl.shape[g.rest[k]]);
  return g;
}

// The loop pairing the view (x's storage at the plan) with a dense tensor of the result shape.
kernels::IndexLoop make_loop(const Plan& pl, Gather& g, const Strides& dense_strides, size_t itemsize) {
  const int64_t isz = static_cast<int64_t>(itemsize);
  kernels::IndexLoop L;
  const int64_t nbd = static_cast<int64_t>(g.b_shape.size());
  for (int64_t k = 0; k < static_cast<int64_t>(g.rest.size()); ++k) {
    const int64_t d = g.rest[k];
    const int64_t rd = k < g.first ? k : k + nbd;  // the dim of the result it maps to
    auto& shape = k < g.first ? L.p_shape : L.s_shape;
    auto& sa = k < g.first ? L.p_a : L.s_a;
    auto& sd = k < g.first ? L.p_d : L.s_d;
    shape.push_back(pl.shape[d]);
    sa.push_back(pl.strides[d] * isz);
    sd.push_back(dense_strides[rd] * isz);
  }
  // Dense-side offsets of each b: an odometer over the broadcast index dims.
  const size_t nb = g.a_off.size();
  L.d_off.assign(nb, 0);
  std::vector<int64_t> idx(nbd, 0);
  int64_t off = 0;
  for (size_t j = 0; j < nb; ++j) {
    L.d_off[j] = off;
    for (int64_t k = nbd - 1; k >= 0; --k) {
      const int64_t st = dense_strides[g.first + k] * isz;
      off += st;
      if (++idx[k] < g.b_shape[k]) break;
      off -= st * g.b_shape[k];
      idx[k] = 0;
    }
  }
  L.a_off = std::move(g.a_off);
  return L;
}

char* view_base(const Tensor& x, const Plan& pl) {
  return static_cast<char*>(x.storage()->data) + pl.offset * static_cast<int64_t>(x.itemsize());
}

struct IndexBackward : Node {
  Index index;
  const char* name() const override { return "IndexBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {index_scatter(g, input_meta[0].shape, index)}; }
  void release_saved() override { index.clear(); }
};

struct IndexScatterBackward : Node {
  Index index;
  const char* name() const override { return "IndexPutBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {tl::index(g, index)}; }
  void release_saved() override { index.clear(); }
};

// One index array on x's leading dim, when the rows it picks are single elements (x is 1-D,
// any stride) or contiguous blocks (x contiguous): x[mask] and take(x, i), the gathers behind
// unique_* and nonzero. Fills the geometry and returns true; other indexes take the general
// path, which also words their errors.
struct LeadingIndex {
  Tensor array;  // the mask (contiguous bool) or the indices (contiguous int64)
  Shape row_shape;
  int64_t row_bytes = 0, stride = 0;  // bytes per row, bytes between rows of x
};

bool leading_index(const Tensor& x, const Index& idx, LeadingIndex& li) {
  if (idx.size() != 1 || idx[0].kind != IndexItem::Kind::Array || !idx[0].array.defined()) return false;
  const Tensor& a = idx[0].array;
  if (a.ndim() == 0 || x.ndim() == 0 || !(x.ndim() == 1 || x.is_contiguous())) return false;
  const bool mask = a.dtype() == DType::Bool;
  if (mask) {
    if (a.ndim() > x.ndim()) return false;
    for (int64_t d = 0; d < a.ndim(); ++d)
      if (a.shape()[d] != x.shape()[d]) return false;
  } else if (!is_integral(a.dtype())) {
    return false;
  }
  const int64_t lead = mask ? a.ndim() : 1;
  li.row_shape.assign(x.shape().begin() + lead, x.shape().end());
  li.row_bytes = static_cast<int64_t>(x.itemsize());
  for (int64_t s : li.row_shape) li.row_bytes *= s;
  li.stride = x.ndim() == 1 ? x.strides()[0] * static_cast<int64_t>(x.itemsize()) : li.row_bytes;
  li.array = mask ? a.contiguous() : a.to_dtype(DType::Int64).contiguous();
  capture::opaque();  // the result's shape (masks) or the bounds check reads index data here
  return true;
}

Tensor index_leading(const Tensor& x, const LeadingIndex& li) {
  const Tensor& a = li.array;
  Shape shape;
  if (a.dtype() == DType::Bool) {
    shape.push_back(kernels::count_true(a.data<bool>(), a.numel()));
  } else {
    shape = a.shape();
  }
  shape.insert(shape.end(), li.row_shape.begin(), li.row_shape.end());
  Tensor out = Tensor::empty(shape, x.dtype());
  const char* base = static_cast<const char*>(x.data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  if (a.dtype() == DType::Bool) {
    kernels::mask_rows(base, li.stride, a.data<bool>(), a.numel(), dst, li.row_bytes, x.itemsize());
    return out;
  }
  const int64_t size = x.shape()[0];
  const int64_t bad = kernels::take_rows(base, size, li.stride, a.data<int64_t>(), a.numel(), dst, li.row_bytes,
                                         x.itemsize());
  TL_CHECK_INDEX(bad < 0, kOp, "index ", bad < 0 ? 0 : a.data<int64_t>()[bad], " is out of bounds for axis 0 with size ",
                 size);
  return out;
}

}  // namespace

std::vector<Tensor> nonzero(const Tensor& mask) {
  TL_CAPTURE_OP(nonzero, mask);
  TL_CHECK_TYPE(mask.dtype() == DType::Bool, "nonzero", "expected a bool mask, got ", dtype_name(mask.dtype()));
  TL_CHECK(mask.ndim() > 0, "nonzero", "x must have at least one dimension, got a 0-d array");
  Tensor m = mask.detach().contiguous();
  capture::opaque();  // the result's length is read from the data here
  const int64_t count = kernels::count_true(m.data<bool>(), m.numel());
  std::vector<Tensor> rows;
  std::vector<int64_t*> ptrs;
  for (int64_t d = 0; d < m.ndim(); ++d) {
    rows.push_back(Tensor::empty({count}, DType::Int64));
    ptrs.push_back(rows.back().data<int64_t>());
  }
  kernels::nonzero(m.data<bool>(), m.shape(), ptrs.data());
  return rows;
}

Tensor count_true(const Tensor& mask) {
  TL_CAPTURE_OP(count_true, mask);
  TL_CHECK_TYPE(mask.dtype() == DType::Bool, "count_nonzero", "expected a bool mask, got ", dtype_name(mask.dtype()));
  Tensor m = mask.detach().contiguous();
  capture::opaque();  // counted here, outside a logged kernel
  return Tensor::scalar(Scalar::from_int(kernels::count_true(m.data<bool>(), m.numel())), DType::Int64);
}

Tensor index(const Tensor& x, const Index& idx) {
  TL_CAPTURE_OP(index, x, idx);
  const bool want_graph = needs_grad({&x});
  LeadingIndex li;
  if (!want_graph && leading_index(x, idx, li)) return index_leading(x, li);
  Index canon;
  Plan pl = plan_index(x, idx, want_graph ? &canon : nullptr);
  Tensor out;
  if (pl.adv.empty()) {
    out = as_view_of(x.view_with(std::move(pl.shape), std::move(pl.strides), pl.offset), x);
    if (auto node = record<IndexBackward>(out, {x})) node->index = idx;
    return out;
  }
  Gather g = resolve_advanced(pl, x.itemsize());
  out = Tensor::empty(g.result_shape, x.dtype());
  kernels::IndexLoop loop = make_loop(pl, g, out.strides(), x.itemsize());
  kernels::gather(view_base(x, pl), static_cast<char*>(out.data_ptr()), loop, x.itemsize());
  if (auto node = record<IndexBackward>(out, {x})) node->index = std::move(canon);
  return out;
}

namespace {

// Whether the bytes two tensors' elements span intersect. Comparing storages is not enough:
// two NumPy views of one buffer arrive as separate borrowed storages.
bool may_overlap(const Tensor& a, const Tensor& b) {
  auto extent = [](const Tensor& t, const char*& lo, const char*& hi) {
    const int64_t isz = static_cast<int64_t>(t.itemsize());
    int64_t below = 0, above = isz;
    for (int64_t d = 0; d < t.ndim(); ++d) {
      const int64_t span = (t.shape()[d] - 1) * t.strides()[d] * isz;
      (span < 0 ? below : above) += span;
    }
    lo = static_cast<const char*>(t.data_ptr()) + below;
    hi = static_cast<const char*>(t.data_ptr()) + above;
  };
  if (a.numel() == 0 || b.numel() == 0) return false;
  const char *a0, *a1, *b0, *b1;
  extent(a, a0, a1);
  extent(b, b0, b1);
  return a0 < b1 && b0 < a1;
}

// Drops leading size-1 dims of v beyond `ndim` (NumPy lets x[i] = v[None] through).
Tensor strip_leading_ones(const Tensor& v, size_t ndim) {
  size_t drop = 0;
  while (v.ndim() - drop > ndim && v.shape()[drop] == 1) ++drop;
  if (drop == 0) return v;
  return v.view_with(Shape(v.shape().begin() + drop, v.shape().end()),
                     Strides(v.strides().begin() + drop, v.strides().end()), v.offset());
}

bool broadcastable(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  for (size_t i = 0; i < from.size(); ++i) {
    int64_t f = from[from.size() - 1 - i], t = to[to.size() - 1 - i];
    if (f != t && f != 1) return false;
  }
  return true;
}

}  // namespace

namespace {

// x[index] = value on a tensor with history (or with a value that has one): the new x is the old
// one outside the indexed elements and the value inside. `keep` is 1 where the old x survives, 0
// where it was overwritten; the value's gradient is the output gradient at the indexed elements,
// summed over the axes the value was broadcast along.
struct IndexPutBackward : Node {
  Index index;
  Tensor keep;  // x's shape and dtype; a constant private to this node
  const char* name() const override { return "IndexPutBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor gx, gv;
    if (needs_input_grad(0)) gx = mul(g, keep);
    if (needs_input_grad(1)) {
      // The value was broadcast to x[index]'s shape after dropping leading 1s beyond its rank.
      Tensor gr = tl::index(g, index);
      const Shape& vs = input_meta[1].shape;
      size_t drop = 0;
      while (vs.size() - drop > static_cast<size_t>(gr.ndim()) && vs[drop] == 1) ++drop;
      gv = reshape(sum_to(gr, Shape(vs.begin() + drop, vs.end())), vs);
      gv = astype(gv, input_meta[1].dtype);
    }
    return {gx, gv};
  }
  void release_saved() override {
    index.clear();
    keep = Tensor();
  }
};

void index_put_raw(const Tensor& x, const Index& idx, const Tensor& value_in);

void index_put_graph(const Tensor& x, const Index& idx, const Tensor& value) {
  Index canon;
  // With advanced items: the index without masks, its arrays private copies. A basic index is
  // kept as given (canon then omits the integers folded into the view's offset).
  if (plan_index(x, idx, &canon).adv.empty()) canon = idx;
  Tensor keep;
  {
    NoGradGuard no_grad;
    keep = Tensor::full(x.shape(), Scalar::from_int(1), x.dtype());
    index_put_raw(keep, canon, Tensor::zeros({}, x.dtype()));
    if (value.requires_grad()) {
      // Each element must be written at most once: with repeats, which write wins is unspecified,
      // and so would be the value's gradient.
      Tensor once = Tensor::full(tl::index(x.detach(), canon).shape(), Scalar::from_int(1), x.dtype());
      Tensor hits = index_scatter(once, x.shape(), canon);
      capture::opaque();  // a check on tensor data outside a kernel
      if (hits.numel() > 0 && max(hits, AxisSpec{}, false).item_double() > 1)
        throw RuntimeError("[setitem] assigning a value that requires grad through an index that repeats an element "
                           "is not differentiable (which write wins is unspecified); use unique indices");
    }
  }
  index_put_raw(x, idx, value);
  auto node = record<IndexPutBackward>(x, {x, value});
  node->index = std::move(canon);
  node->keep = std::move(keep);
}

}  // namespace

void index_put_(const Tensor& x, const Index& idx, const Tensor& value_in) {
  TL_CAPTURE_OP(index_put_, x, idx, value_in);
  check_inplace_target(x, "setitem");  // read-only storage, or a broadcast view (aliased elements)
  if (inplace_needs_graph(x, {&value_in}, "setitem", true)) {
    if (!x.is_view()) return index_put_graph(x, idx, value_in);
    return inplace_on_view(x, "setitem", [&](const Tensor& r) { index_put_(r, idx, value_in); });
  }
  index_put_raw(x, idx, value_in);
}

namespace {

void index_put_raw(const Tensor& x, const Index& idx, const Tensor& value_in) {
  // NumPy's whole-array mask assignment takes only 0-d or 1-d values (x[x > 0] = v).
  if (idx.size() == 1 && idx[0].kind == IndexItem::Kind::Array && idx[0].array.defined() &&
      idx[0].array.dtype() == DType::Bool && idx[0].array.ndim() == x.ndim() && x.ndim() > 0)
    TL_CHECK_TYPE(value_in.ndim() <= 1, "setitem", "boolean array indexing assignment requires a 0 or 1-dimensional "
                  "input, input has ", value_in.ndim(), " dimensions");
  Plan pl = plan_index(x, idx, nullptr);
  // Integers (or 0-d integer arrays) for every dim address one element: the value must be a scalar.
  bool element = static_cast<int64_t>(idx.size()) == x.ndim();
  for (const IndexItem& it : idx)
    element = element && (it.kind == IndexItem::Kind::Int ||
                          (it.kind == IndexItem::Kind::Array && it.array.ndim() == 0 && is_integral(it.array.dtype())));
  auto check_element = [&] {
    TL_CHECK(!element || value_in.ndim() == 0, "setitem", "setting an array element with a sequence: value of shape ",
             shape_str(value_in.shape()), " for a single element");
  };
  Tensor v = value_in;
  check_int_assign(v, x.dtype(), "setitem");  // NaN / inf / out-of-range floats into integers
  if (may_overlap(v, x)) v = v.clone();  // overlapping source: read it all before writing
  LeadingIndex li;
  if (leading_index(x, idx, li) && li.array.dtype() == DType::Int64) {  // x[i] = v: the direct scatter
    Shape rs = li.array.shape();
    rs.insert(rs.end(), li.row_shape.begin(), li.row_shape.end());
    v = strip_leading_ones(v, rs.size());
    TL_CHECK(broadcastable(v.shape(), rs), "setitem", "shape mismatch: value array of shape ", shape_str(v.shape()),
             " could not be broadcast to indexing result of shape ", shape_str(rs));
    // The value's rows: one row repeated (stride 0) when it is broadcast along the index dims.
    const int64_t lead = v.ndim() - static_cast<int64_t>(li.row_shape.size());
    bool one_row = true;
    for (int64_t d = 0; d < lead; ++d) one_row = one_row && v.shape()[d] == 1;
    if (one_row && lead > 0)
      v = v.view_with(Shape(v.shape().begin() + lead, v.shape().end()), Strides(v.strides().begin() + lead, v.strides().end()),
                      v.offset());
    Tensor vb = broadcast_view(v.to_dtype(x.dtype()), one_row ? li.row_shape : rs).contiguous();
    const int64_t size = x.shape()[0];
    const int64_t* at = li.array.data<int64_t>();
    const int64_t bad = kernels::first_bad_index(at, li.array.numel(), size);
    TL_CHECK_INDEX(bad < 0, kOp, "index ", bad < 0 ? 0 : at[bad], " is out of bounds for axis 0 with size ", size);
    begin_inplace_write(x, "setitem");
    kernels::put_rows(static_cast<char*>(x.data_ptr()), size, li.stride, at, li.array.numel(),
                      static_cast<const char*>(vb.data_ptr()), one_row ? 0 : li.row_bytes, li.row_bytes, x.itemsize());
    return;
  }
  if (pl.adv.empty()) {
    check_element();
    Tensor dst = x.view_with(pl.shape, pl.strides, pl.offset);
    v = strip_leading_ones(v, dst.ndim());
    TL_CHECK(broadcastable(v.shape(), dst.shape()), "setitem", "could not broadcast input array from shape ",
             shape_str(v.shape()), " into shape ", shape_str(dst.shape()));
    begin_inplace_write(x, "setitem");
    kernels::copy_cast(dst, broadcast_view(v, dst.shape()));
    return;
  }
  Gather g = resolve_advanced(pl, x.itemsize());
  check_element();
  v = strip_leading_ones(v, g.result_shape.size());
  TL_CHECK(broadcastable(v.shape(), g.result_shape), "setitem", "shape mismatch: value array of shape ",
           shape_str(v.shape()), " could not be broadcast to indexing result of shape ", shape_str(g.result_shape));
  Tensor vb = broadcast_view(v.to_dtype(x.dtype()), g.result_shape);
  kernels::IndexLoop loop = make_loop(pl, g, vb.strides(), x.itemsize());
  begin_inplace_write(x, "setitem");
  kernels::scatter(view_base(x, pl), static_cast<const char*>(vb.data_ptr()), loop, x.itemsize());
}

}  // namespace

Tensor index_scatter(const Tensor& g, const Shape& shape, const Index& idx) {
  TL_CAPTURE_OP(index_scatter, g, shape, idx);
  Tensor out = Tensor::zeros(shape, g.dtype());
  Plan pl = plan_index(out, idx, nullptr);
  if (pl.adv.empty()) {
    Tensor dst = out.view_with(pl.shape, pl.strides, pl.offset);
    TL_CHECK(dst.shape() == g.shape(), "index_scatter", "gradient of shape ", shape_str(g.shape()),
             " does not match the indexing result of shape ", shape_str(dst.shape()));
    kernels::copy_cast(dst, g);
  } else {
    Gather gi = resolve_advanced(pl, out.itemsize());
    TL_CHECK(gi.result_shape == g.shape(), "index_scatter", "gradient of shape ", shape_str(g.shape()),
             " does not match the indexing result of shape ", shape_str(gi.result_shape));
    kernels::IndexLoop loop = make_loop(pl, gi, g.strides(), out.itemsize());
    kernels::scatter_add(view_base(out, pl), static_cast<const char*>(g.data_ptr()), loop, out.dtype());
  }
  if (auto node = record<IndexScatterBackward>(out, {g})) node->index = idx;
  return out;
}

namespace {

// take's index: `indices` (bool cast to int64, as NumPy's safe cast) on `axis`.
Index take_index(const Tensor& indices, int64_t axis) {
  TL_CHECK_TYPE(is_integral(indices.dtype(), true), "take", "cannot cast array data from dtype('",
                dtype_name(indices.dtype()), "') to dtype('int64') according to the rule 'safe'");
  Index idx(static_cast<size_t>(axis), IndexItem::slice());
  idx.push_back(IndexItem::tensor(indices.dtype() == DType::Bool ? indices.to_dtype(DType::Int64) : indices));
  return idx;
}

}  // namespace

Tensor take(const Tensor& a, const Tensor& indices, std::optional<int64_t> axis) {
  TL_CAPTURE_OP(take, a, indices, axis);
  if (!axis) return index(ravel(a), take_index(indices, 0));
  return index(a, take_index(indices, normalize_axis(*axis, a.ndim(), "take")));
}

void take_into(const Tensor& a_in, const Tensor& indices, std::optional<int64_t> axis, const Tensor& out) {
  TL_CAPTURE_OP(take_into, a_in, indices, axis, out);
  check_inplace_target(out, "take");
  inplace_needs_graph(out, {&a_in}, "take(..., out=)", false);  // raises when it would need a graph
  Tensor a = axis ? a_in : reshape(a_in, {-1});
  const int64_t ax = axis ? normalize_axis(*axis, a.ndim(), "take") : 0;
  Plan pl = plan_index(a, take_index(indices, ax), nullptr);
  Gather g = resolve_advanced(pl, a.itemsize());
  TL_CHECK(out.shape() == g.result_shape, "take", "output array has shape ", shape_str(out.shape()),
           " but the result has shape ", shape_str(g.result_shape));
  check_same_kind(a.dtype(), out.dtype(), "take");
  // Gathering from the storage written to would read elements already overwritten; another
  // dtype is gathered first, then cast.
  Tensor dst = may_overlap(out, a) || out.dtype() != a.dtype() ? Tensor::empty(out.shape(), a.dtype()) : out;
  begin_inplace_write(out, "take");
  kernels::IndexLoop loop = make_loop(pl, g, dst.strides(), a.itemsize());
  kernels::gather(view_base(a, pl), static_cast<char*>(dst.data_ptr()), loop, a.itemsize());
  if (dst.impl() != out.impl()) kernels::copy_cast(out, dst);
}

}  // namespace tl
