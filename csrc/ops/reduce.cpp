#include "ops/reduce.h"
#include <algorithm>
#include "autograd/function.h"
#include "kernels/strided_loop.h"
#include "ops/shape_ops.h"

namespace tl {

std::vector<bool> reduced_mask(const AxisSpec& axis, int64_t ndim, const char* op) {
  std::vector<bool> mask(ndim, axis.all);
  if (!axis.all)
    for (int64_t a : normalize_axes(axis.axes, ndim, op)) mask[a] = true;
  return mask;
}

Shape reduced_shape(const Shape& shape, const std::vector<bool>& mask, bool keepdims) {
  Shape out;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (!mask[i]) out.push_back(shape[i]);
    else if (keepdims) out.push_back(1);
  }
  return out;
}

namespace {

// out (keepdims shape, contiguous, acc dtype) = sum of x over the masked axes. Each output
// element is owned by one task, so it is safe to parallelise over outputs.
template <class Acc, class In>
void sum_kernel(const Tensor& out, const Tensor& x, const std::vector<bool>& mask) {
  Shape kept_shape, red_shape;
  Strides kept_x, red_x, kept_o;
  Strides ost = contiguous_strides(out.shape());
  for (int64_t i = 0; i < x.ndim(); ++i) {
    if (mask[i]) { red_shape.push_back(x.shape()[i]); red_x.push_back(x.strides()[i]); }
    else { kept_shape.push_back(x.shape()[i]); kept_x.push_back(x.strides()[i]); kept_o.push_back(ost[i]); }
  }
  Acc* o = out.data<Acc>();
  const In* xb = x.data<In>();
  const int64_t n_out = checked_numel(kept_shape), n_red = checked_numel(red_shape);
  const int64_t nk = static_cast<int64_t>(kept_shape.size()), nr = static_cast<int64_t>(red_shape.size());
  parallel_for(0, n_out, std::max<int64_t>(1, kParallelElementThreshold / std::max<int64_t>(n_red, 1)),
               [&](int64_t b, int64_t e) {
                 std::vector<int64_t> ridx(nr);
                 for (int64_t j = b; j < e; ++j) {
                   int64_t xoff = 0, ooff = 0, r = j;
                   for (int64_t d = nk - 1; d >= 0; --d) {
                     int64_t i = r % kept_shape[d];
                     r /= kept_shape[d];
                     xoff += i * kept_x[d];
                     ooff += i * kept_o[d];
                   }
                   Acc acc = 0;
                   const In* p = xb + xoff;
                   if (nr == 1 && red_x[0] == 1) {
                     for (int64_t k = 0; k < n_red; ++k) acc += static_cast<Acc>(p[k]);
                   } else {
                     std::fill(ridx.begin(), ridx.end(), 0);
                     int64_t roff = 0;
                     for (int64_t k = 0; k < n_red; ++k) {
                       acc += static_cast<Acc>(p[roff]);
                       for (int64_t d = nr - 1; d >= 0; --d) {
                         roff += red_x[d];
                         if (++ridx[d] < red_shape[d]) break;
                         roff -= red_x[d] * red_shape[d];
                         ridx[d] = 0;
                       }
                     }
                   }
                   o[ooff] = acc;
                 }
               });
}

struct SumBackward : Node {
  Shape keep_shape;  // the output shape with keepdims
  const char* name() const override { return "SumBackward"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {broadcast_to(reshape(g, keep_shape), input_meta[0].shape)};
  }
};

}  // namespace

Tensor sum(const Tensor& x, const AxisSpec& axis, bool keepdims) {
  std::vector<bool> mask = reduced_mask(axis, x.ndim(), "sum");
  Shape keep = reduced_shape(x.shape(), mask, true);
  DType out_dtype = is_floating(x.dtype()) ? x.dtype() : DType::Int64;
  Tensor out = Tensor::empty(keep, out_dtype);
  TL_DISPATCH_ALL(x.dtype(), "sum", [&] {
    using In = scalar_t;
    if constexpr (std::is_same_v<In, float>) sum_kernel<float, float>(out, x, mask);
    else if constexpr (std::is_same_v<In, double>) sum_kernel<double, double>(out, x, mask);
    else sum_kernel<int64_t, In>(out, x, mask);
  });
  if (!keepdims) out = out.view_with(reduced_shape(x.shape(), mask, false), contiguous_strides(reduced_shape(x.shape(), mask, false)), 0);
  if (auto node = record<SumBackward>(out, {x})) node->keep_shape = keep;
  return out;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int64_t nd = x.ndim(), lead = nd - static_cast<int64_t>(shape.size());
  TL_CHECK(lead >= 0, "sum_to", "cannot sum shape ", shape_str(x.shape()), " to ", shape_str(shape));
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < nd; ++i) {
    if (i < lead) axes.push_back(i);
    else if (shape[i - lead] == 1 && x.shape()[i] != 1) axes.push_back(i);
    else TL_CHECK(shape[i - lead] == x.shape()[i], "sum_to", "cannot sum shape ", shape_str(x.shape()), " to ",
                  shape_str(shape));
  }
  Tensor s = sum(x, AxisSpec::of(axes), true);
  return reshape(s, shape);
}

}  // namespace tl
