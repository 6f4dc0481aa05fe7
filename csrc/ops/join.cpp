#include "capture/recorder.h"
#include "ops/join.h"
#include "autograd/function.h"
#include "kernels/copy.h"
#include "ops/binary.h"
#include "ops/indexing.h"
#include "ops/shape_ops.h"

namespace tl {

namespace {

// x[:, ..., start:stop] along `axis` as a differentiable view.
Tensor slice_along(const Tensor& x, int64_t axis, int64_t start, int64_t stop) {
  Index idx(static_cast<size_t>(axis), IndexItem::slice());
  idx.push_back(IndexItem::slice(start, stop));
  return index(x, idx);
}

struct ConcatBackward : Node {
  int64_t axis = 0;
  const char* name() const override { return "CatBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    std::vector<Tensor> out(next.size());
    int64_t start = 0;
    for (size_t i = 0; i < next.size(); ++i) {
      const int64_t n = input_meta[i].shape[axis];
      if (needs_input_grad(i)) out[i] = astype(slice_along(g, axis, start, start + n), input_meta[i].dtype);
      start += n;
    }
    return out;
  }
};

}  // namespace

Tensor concatenate(const std::vector<Tensor>& xs_in, std::optional<int64_t> axis_in) {
  TL_CAPTURE_OP(concatenate, xs_in, axis_in);
  TL_CHECK(!xs_in.empty(), "concatenate", "need at least one array to concatenate");
  std::vector<Tensor> flat;
  if (!axis_in) {
    for (const Tensor& x : xs_in) flat.push_back(ravel(x));
  }
  const std::vector<Tensor>& xs = axis_in ? xs_in : flat;
  const Tensor& x0 = xs[0];
  const int64_t nd = x0.ndim();
  TL_CHECK(nd > 0, "concatenate", "zero-dimensional arrays cannot be concatenated");
  const int64_t axis = normalize_axis(axis_in.value_or(0), nd, "concatenate");
  Shape shape = x0.shape();
  DType dt = x0.dtype();
  for (size_t i = 1; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    TL_CHECK(x.ndim() == nd, "concatenate", "all the input arrays must have same number of dimensions, but the array at "
             "index 0 has ", nd, " dimension(s) and the array at index ", i, " has ", x.ndim(), " dimension(s) (shapes ",
             shape_str(x0.shape()), " and ", shape_str(x.shape()), ")");
    for (int64_t d = 0; d < nd; ++d)
      TL_CHECK(d == axis || x.shape()[d] == shape[d], "concatenate", "all the input array dimensions except for the "
               "concatenation axis must match exactly, but along dimension ", d, ", the array at index 0 has size ",
               shape[d], " and the array at index ", i, " has size ", x.shape()[d], " (shapes ", shape_str(x0.shape()),
               " and ", shape_str(x.shape()), ")");
    if (__builtin_add_overflow(shape[axis], x.shape()[axis], &shape[axis]))
      throw MemoryError("[concatenate] result is too large");
    dt = promote_types(dt, x.dtype());
  }
  Tensor out = Tensor::empty(shape, dt);
  const int64_t stride = out.strides()[axis];
  int64_t start = 0;
  for (const Tensor& x : xs) {
    Shape part = shape;
    part[axis] = x.shape()[axis];
    if (x.numel() > 0) kernels::copy_cast(out.view_with(part, out.strides(), start * stride), x);
    start += part[axis];
  }
  if (auto node = record_list<ConcatBackward>(out, xs)) node->axis = axis;
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t axis) {
  TL_CAPTURE_OP(stack, xs, axis);
  TL_CHECK(!xs.empty(), "stack", "need at least one array to stack");
  for (size_t i = 1; i < xs.size(); ++i)
    TL_CHECK(xs[i].shape() == xs[0].shape(), "stack", "all input arrays must have the same shape, but the array at "
             "index 0 has shape ", shape_str(xs[0].shape()), " and the array at index ", i, " has shape ",
             shape_str(xs[i].shape()));
  const int64_t ax = normalize_axis(axis, xs[0].ndim() + 1, "stack");
  std::vector<Tensor> expanded;
  expanded.reserve(xs.size());
  for (const Tensor& x : xs) expanded.push_back(expand_dims(x, {ax}));
  return concatenate(expanded, ax);
}

std::vector<Tensor> array_split(const Tensor& x, int64_t sections, int64_t axis) {
  TL_CAPTURE_OP(array_split, x, sections, axis);
  TL_CHECK(x.ndim() > 0, "array_split", "cannot split a zero-dimensional array");
  const int64_t n = x.shape()[normalize_axis(axis, x.ndim(), "array_split")];
  TL_CHECK(sections > 0, "array_split", "number sections must be larger than 0.");
  // NumPy: the first n % sections pieces get one element more.
  std::vector<int64_t> indices;
  const int64_t each = n / sections, extra = n % sections;
  int64_t at = 0;
  for (int64_t i = 0; i + 1 < sections; ++i) indices.push_back(at += each + (i < extra ? 1 : 0));
  return split(x, indices, axis);
}

std::vector<Tensor> split(const Tensor& x, int64_t sections, int64_t axis) {
  TL_CAPTURE_OP(split, x, sections, axis);
  TL_CHECK(x.ndim() > 0, "split", "cannot split a zero-dimensional array");
  const int64_t n = x.shape()[normalize_axis(axis, x.ndim(), "split")];
  TL_CHECK(sections > 0, "split", "number sections must be larger than 0.");
  TL_CHECK(n % sections == 0, "split", "array split does not result in an equal division: axis ", axis, " of size ", n,
           " into ", sections, " sections");
  return array_split(x, sections, axis);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& indices, int64_t axis) {
  TL_CAPTURE_OP(split, x, indices, axis);
  TL_CHECK(x.ndim() > 0, "split", "cannot split a zero-dimensional array");
  const int64_t ax = normalize_axis(axis, x.ndim(), "split");
  std::vector<Tensor> out;
  std::optional<int64_t> prev = 0;
  for (int64_t i : indices) {
    out.push_back(index(x, [&] {
      Index idx(static_cast<size_t>(ax), IndexItem::slice());
      idx.push_back(IndexItem::slice(prev, i));
      return idx;
    }()));
    prev = i;
  }
  Index last(static_cast<size_t>(ax), IndexItem::slice());
  last.push_back(IndexItem::slice(prev, std::nullopt));
  out.push_back(index(x, last));
  return out;
}

}  // namespace tl
