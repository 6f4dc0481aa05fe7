#include "capture/recorder.h"
#include "ops/depthwise.h"
#include <stdexcept>
#include "autograd/function.h"
#include "core/error.h"
#include "kernels/depthwise.h"
#include "ops/binary.h"
#include "ops/window.h"

namespace tl {
namespace {

// Both gradients are kernels (linear in g, not differentiable again).
struct DepthwiseConvBackward : Node {
  SavedTensor x_saved, w_saved;  // the contiguous channels-last input and kernel the forward read
  kernels::Window win;
  int64_t multiplier = 1;
  const char* name() const override { return "ConvolutionBackward0"; }  // PyTorch's (groups = C)
  std::vector<Tensor> backward(const Tensor& g_in) override {
    if (GradMode::is_enabled())
      throw std::runtime_error("[depthwise_conv] double backward (create_graph=True) is not implemented");
    const Tensor g = g_in.contiguous();
    Tensor gx, gw;
    TL_DISPATCH_FLOAT(input_meta[0].dtype, "depthwise_conv", [&] {
      if (needs_input_grad(0)) {
        const Tensor& w = unpack(w_saved);
        gx = Tensor::empty(input_meta[0].shape, input_meta[0].dtype);
        kernels::depthwise_backward_input<scalar_t>(win, multiplier, g.data<scalar_t>(), w.data<scalar_t>(),
                                                    gx.data<scalar_t>());
      }
      if (needs_input_grad(1)) {
        const Tensor& x = unpack(x_saved);
        gw = Tensor::empty(input_meta[1].shape, input_meta[1].dtype);
        kernels::depthwise_backward_kernel<scalar_t>(win, multiplier, x.data<scalar_t>(), g.data<scalar_t>(),
                                                     gw.data<scalar_t>());
      }
    });
    return {gx, gw};
  }
  void release_saved() override {
    x_saved.reset();
    w_saved.reset();
  }
};

}  // namespace

Tensor depthwise_conv(const Tensor& x_in, const Tensor& k_in, const std::vector<int64_t>& strides,
                      const std::string& padding, const std::vector<int64_t>& dilation_rate,
                      const std::string& data_format) {
  TL_CAPTURE_OP(depthwise_conv, x_in, k_in, strides, padding, dilation_rate, data_format);
  const char* op = "depthwise_conv";
  const Padding pad = parse_padding(padding, op);
  const bool channels_first = parse_channels_first(data_format, op);
  TL_CHECK((x_in.ndim() == 3 || x_in.ndim() == 4) && k_in.ndim() == x_in.ndim(), op, "expected x of rank 3 ",
           channels_first ? "(N, C, W) or 4 (N, C, H, W)" : "(N, W, C) or 4 (N, H, W, C)",
           " with a kernel of the same rank ((KW, C, M) or (KH, KW, C, M)), got x ", shape_str(x_in.shape()),
           " and kernel ", shape_str(k_in.shape()));
  TL_CHECK_TYPE(is_floating(x_in.dtype()) && is_floating(k_in.dtype()), op, "needs float inputs, got x ",
                dtype_name(x_in.dtype()), " and kernel ", dtype_name(k_in.dtype()));
  const int64_t spatial = x_in.ndim() - 2;
  const int64_t C = channels_first ? x_in.shape()[1] : x_in.shape().back();
  const Shape& ks = k_in.shape();
  for (int64_t d : ks) TL_CHECK(d > 0, op, "kernel dims must be positive, got kernel ", shape_str(ks));
  TL_CHECK(ks[size_t(spatial)] == C, op, "x ", shape_str(x_in.shape()), " has ", C, " channels but kernel ",
           shape_str(ks), " expects ", ks[size_t(spatial)], " input channels");
  int64_t out_channels;
  TL_CHECK(!__builtin_mul_overflow(C, ks.back(), &out_channels), op, "x ", shape_str(x_in.shape()),
           " with kernel ", shape_str(ks), ": the number of output channels overflows int64");
  const std::vector<int64_t> st = spatial_arg(op, "strides", strides, spatial);
  const std::vector<int64_t> dil = spatial_arg(op, "dilation_rate", dilation_rate, spatial);
  // The window is checked on the channels-last shape before anything is cast or copied.
  Shape last(x_in.shape());
  if (channels_first) {
    last.erase(last.begin() + 1);
    last.push_back(C);
  }
  const kernels::Window win = make_window(op, last, "x " + shape_str(x_in.shape()),
                                          std::vector<int64_t>(ks.begin(), ks.begin() + spatial), st, dil, pad,
                                          "kernel " + shape_str(ks));
  const DType out_dt = promote_types(x_in.dtype(), k_in.dtype());
  const DType dt = heavy_compute_dtype(out_dt);
  Tensor x = astype(x_in, dt);
  if (channels_first) x = to_channels_last(x);
  const Tensor w = astype(k_in, dt);
  Shape out_shape(last);
  out_shape.back() = out_channels;
  out_shape[out_shape.size() - 2] = win.OW;
  if (spatial == 2) out_shape[1] = win.OH;
  const int64_t M = ks.back();
  const Tensor xc = x.contiguous(), wc = w.contiguous();
  Tensor y = Tensor::empty(out_shape, dt);  // checks that the output's size fits
  TL_DISPATCH_FLOAT(dt, op, [&] {
    kernels::depthwise_forward<scalar_t>(win, M, xc.data<scalar_t>(), wc.data<scalar_t>(), y.data<scalar_t>());
  });
  if (auto node = record<DepthwiseConvBackward>(y, {x, w})) {
    node->x_saved = xc;
    node->w_saved = wc;
    node->win = win;
    node->multiplier = M;
  }
  return astype(channels_first ? to_channels_first(y) : y, out_dt);
}

}  // namespace tl
