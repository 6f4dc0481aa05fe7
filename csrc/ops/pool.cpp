#include "capture/recorder.h"
#include "ops/pool.h"
#include <stdexcept>
#include "autograd/function.h"
#include "core/error.h"
#include "kernels/pool.h"
#include "ops/binary.h"
#include "ops/window.h"

namespace tl {
namespace {

// Both backward passes are kernels (linear in g, but not differentiable again).
struct PoolBackward : Node {
  kernels::Window win;
  DType dtype = DType::Float32;
  bool is_max = false;
  SavedTensor x_saved, y_saved;  // max pooling: the contiguous input and the output (the argmax is recomputed)
  // PyTorch's names (also for 1-D, which PyTorch computes as 2-D)
  const char* name() const override { return is_max ? "MaxPool2DWithIndicesBackward0" : "AvgPool2DBackward0"; }
  std::vector<Tensor> backward(const Tensor& g_in) override {
    if (GradMode::is_enabled())
      throw std::runtime_error("[pool] double backward (create_graph=True) is not implemented for pooling");
    const Tensor g = g_in.contiguous();
    Tensor gx = Tensor::empty(input_meta[0].shape, dtype);
    TL_DISPATCH_FLOAT(dtype, "pool", [&] {
      if (is_max)
        kernels::max_pool_backward<scalar_t>(win, unpack(x_saved).data<scalar_t>(), unpack(y_saved).data<scalar_t>(),
                                             g.data<scalar_t>(), gx.data<scalar_t>());
      else
        kernels::avg_pool_backward<scalar_t>(win, g.data<scalar_t>(), gx.data<scalar_t>());
    });
    return {gx};
  }
  void release_saved() override {
    x_saved.reset();
    y_saved.reset();
  }
};

Tensor pool(const char* op, bool is_max, const Tensor& x_in, const std::vector<int64_t>& pool_size,
            const std::optional<std::vector<int64_t>>& strides, const std::string& padding,
            const std::string& data_format) {
  const Padding pad = parse_padding(padding, op);
  const bool channels_first = parse_channels_first(data_format, op);
  TL_CHECK(x_in.ndim() == 3 || x_in.ndim() == 4, op, "expected x of rank 3 ",
           channels_first ? "(N, C, W) or 4 (N, C, H, W)" : "(N, W, C) or 4 (N, H, W, C)", ", got shape ",
           shape_str(x_in.shape()));
  TL_CHECK_TYPE(is_floating(x_in.dtype()), op, "needs a float input, got ", dtype_name(x_in.dtype()));
  const int64_t spatial = x_in.ndim() - 2;
  const std::vector<int64_t> size = spatial_arg(op, "pool_size", pool_size, spatial);
  const std::vector<int64_t> st = strides ? spatial_arg(op, "strides", *strides, spatial) : size;
  const DType out_dt = x_in.dtype();
  const Tensor x_wide = astype(x_in, heavy_compute_dtype(out_dt));
  const Tensor x = channels_first ? to_channels_last(x_wide) : x_wide;
  const kernels::Window win = make_window(op, x.shape(), "x " + shape_str(x_in.shape()), size, st,
                                          std::vector<int64_t>(size_t(spatial), 1), pad,
                                          "pool_size " + shape_str(size));
  Shape out_shape(x.shape());
  out_shape[out_shape.size() - 2] = win.OW;
  if (spatial == 2) out_shape[1] = win.OH;
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(out_shape, x.dtype());
  TL_DISPATCH_FLOAT(x.dtype(), op, [&] {
    if (is_max)
      kernels::max_pool_forward<scalar_t>(win, xc.data<scalar_t>(), y.data<scalar_t>());
    else
      kernels::avg_pool_forward<scalar_t>(win, xc.data<scalar_t>(), y.data<scalar_t>());
  });
  if (auto node = record<PoolBackward>(y, {x})) {
    node->win = win;
    node->dtype = x.dtype();
    node->is_max = is_max;
    if (is_max) {
      node->x_saved = xc;
      node->y_saved.save_output(y);
    }
  }
  return astype(channels_first ? to_channels_first(y) : y, out_dt);
}

}  // namespace

Tensor max_pool(const Tensor& x, const std::vector<int64_t>& pool_size, const std::optional<std::vector<int64_t>>& strides,
                const std::string& padding, const std::string& data_format) {
  TL_CAPTURE_OP(max_pool, x, pool_size, strides, padding, data_format);
  return pool("max_pool", true, x, pool_size, strides, padding, data_format);
}

Tensor average_pool(const Tensor& x, const std::vector<int64_t>& pool_size,
                    const std::optional<std::vector<int64_t>>& strides, const std::string& padding,
                    const std::string& data_format) {
  TL_CAPTURE_OP(average_pool, x, pool_size, strides, padding, data_format);
  return pool("average_pool", false, x, pool_size, strides, padding, data_format);
}

}  // namespace tl
