#include "capture/recorder.h"
#include "ops/conv.h"
#include <stdexcept>
#include "autograd/function.h"
#include "core/error.h"
#include "kernels/conv.h"
#include "ops/binary.h"
#include "ops/indexing.h"
#include "ops/join.h"
#include "ops/shape_ops.h"
#include "ops/window.h"

namespace tl {
namespace {

// One pass over the incoming gradient (kernels::conv_output_grad) masks it by (y > 0) with
// relu and sums its columns for the bias gradient; then dx = col2im(g @ w^T) and
// dw = im2col(x)^T @ g by the kernels (not differentiable again).
struct ConvBackward : Node {
  SavedTensor x_saved, w_saved, out_saved;  // contiguous input and kernel as the forward read them; out: relu only
  kernels::Window win;
  int64_t out_channels = 0;
  bool relu = false;
  const char* name() const override { return "ConvolutionBackward0"; }  // PyTorch's name
  std::vector<Tensor> backward(const Tensor& g_in) override {
    if (GradMode::is_enabled())
      throw std::runtime_error("[conv] double backward (create_graph=True) is not implemented for conv");
    const DType dt = input_meta[0].dtype;
    Tensor g = (g_in.dtype() == dt ? g_in : astype(g_in, dt)).contiguous();
    Tensor gx, gw, gb;
    TL_DISPATCH_FLOAT(dt, "conv", [&] {
      const int64_t rows = g.numel() / out_channels;
      if (needs_input_grad(2)) gb = Tensor::empty({out_channels}, dt);
      if (relu || gb.defined()) {
        Tensor gm = relu ? Tensor::empty(g.shape(), dt) : Tensor();
        kernels::conv_output_grad<scalar_t>(rows, out_channels, g.data<scalar_t>(),
                                            relu ? unpack(out_saved).data<scalar_t>() : nullptr,
                                            relu ? gm.data<scalar_t>() : nullptr,
                                            gb.defined() ? gb.data<scalar_t>() : nullptr);
        if (relu) g = gm;
      }
      if (needs_input_grad(0)) {
        // Channels-last, the layout of this node's input (a channels-first x reaches the node
        // through a transposed view, whose backward transposes gx back).
        const Tensor& w = unpack(w_saved);
        kernels::Window last = win;
        last.channels_first = false;
        gx = Tensor::empty(input_meta[0].shape, dt);
        kernels::conv_backward_input<scalar_t>(last, out_channels, g.data<scalar_t>(), w.data<scalar_t>(),
                                               gx.data<scalar_t>());
      }
      if (needs_input_grad(1)) {
        const Tensor& x = unpack(x_saved);
        gw = Tensor::empty(input_meta[1].shape, dt);
        kernels::conv_backward_kernel<scalar_t>(win, out_channels, x.data<scalar_t>(), g.data<scalar_t>(),
                                                gw.data<scalar_t>());
      }
    });
    return {gx, gw, gb};
  }
  void release_saved() override {
    x_saved.reset();
    w_saved.reset();
    out_saved.reset();
  }
};

// Channels-last conv on validated, same-dtype float inputs (b: contiguous (O,) or undefined).
// x_cf, if defined, is x's channels-first original (x is its transposed view): the kernels
// then gather patches from it directly instead of from a channels-last copy.
Tensor conv_last(const Tensor& x, const Tensor& w, const Tensor& b, bool relu, kernels::Window win,
                 const Tensor& x_cf = Tensor()) {
  const int64_t O = w.shape().back();
  Shape out_shape(x.shape());
  out_shape.back() = O;
  out_shape[out_shape.size() - 2] = win.OW;
  if (x.ndim() == 4) out_shape[1] = win.OH;
  win.channels_first = x_cf.defined();
  const Tensor xc = win.channels_first ? x_cf.contiguous() : x.contiguous(), wc = w.contiguous();
  Tensor y = Tensor::empty(out_shape, x.dtype());
  TL_DISPATCH_FLOAT(x.dtype(), "conv", [&] {
    kernels::Epilogue<scalar_t> ep;
    ep.bias = b.defined() ? b.data<scalar_t>() : nullptr;
    ep.act = relu ? kernels::Activation::Relu : kernels::Activation::None;
    kernels::conv_forward<scalar_t>(win, O, xc.data<scalar_t>(), wc.data<scalar_t>(), y.data<scalar_t>(), ep);
  });
  if (auto node = record<ConvBackward>(y, {x, w, b})) {
    node->x_saved = xc;
    node->w_saved = wc;
    node->win = win;
    node->out_channels = O;
    node->relu = relu;
    if (relu) node->out_saved.save_output(y);
  }
  return y;
}

// Grouped conv (Keras/TF's, groups = C / the kernel's input channels): group i convolves input
// channels [i*Cg, (i+1)*Cg) with kernel columns [i*Og, (i+1)*Og); each group is an ordinary conv
// of channel slices (views), and the results are joined along the channels. Differentiable
// through the slices and the join.
Tensor conv_grouped(const Tensor& x, const Tensor& w, const Tensor& b, bool relu, const kernels::Window& win,
                    int64_t groups) {
  const int64_t Cg = w.shape()[w.ndim() - 2], Og = w.shape().back() / groups;
  const auto channels = [](const Tensor& t, int64_t lo, int64_t n) {
    return index(t, {IndexItem::ellipsis(), IndexItem::slice(lo, lo + n)});  // a view; conv_last copies it
  };
  kernels::Window wg = win;
  wg.C = Cg;
  std::vector<Tensor> ys;
  for (int64_t i = 0; i < groups; ++i)
    ys.push_back(conv_last(channels(x, i * Cg, Cg), channels(w, i * Og, Og),
                           b.defined() ? channels(b, i * Og, Og) : Tensor(), relu, wg));
  return concatenate(ys, -1);
}

}  // namespace

Tensor conv(const Tensor& x_in, const Tensor& k_in, const std::vector<int64_t>& strides, const std::string& padding,
            const std::vector<int64_t>& dilation_rate, const std::string& data_format, const Tensor& bias,
            LinearActivation activation) {
  TL_CAPTURE_OP(conv, x_in, k_in, strides, padding, dilation_rate, data_format, bias, activation);
  const char* op = "conv";
  const Padding pad = parse_padding(padding, op);
  const bool channels_first = parse_channels_first(data_format, op);
  const std::string layout = channels_first ? "(N, C, W) or (N, C, H, W)" : "(N, W, C) or (N, H, W, C)";
  TL_CHECK((x_in.ndim() == 3 || x_in.ndim() == 4) && k_in.ndim() == x_in.ndim(), op,
           "expected x of rank 3 or 4 ", layout, " with a kernel of the same rank ((KW, Cin, Cout) or (KH, KW, Cin, Cout)), "
           "got x ", shape_str(x_in.shape()), " and kernel ", shape_str(k_in.shape()));
  TL_CHECK_TYPE(is_floating(x_in.dtype()) && is_floating(k_in.dtype()), op, "needs float inputs, got x ",
                dtype_name(x_in.dtype()), " and kernel ", dtype_name(k_in.dtype()));
  const int64_t spatial = x_in.ndim() - 2;
  const int64_t C = channels_first ? x_in.shape()[1] : x_in.shape().back();
  const Shape& ks = k_in.shape();
  for (int64_t d : ks)
    TL_CHECK(d > 0, op, "kernel dims must be positive, got kernel ", shape_str(ks));
  // As Keras's backends, a kernel with fewer input channels than x means a grouped conv.
  const int64_t Cin = ks[size_t(spatial)];
  TL_CHECK(C % Cin == 0 && C > 0, op, "x ", shape_str(x_in.shape()), " has ", C, " channels but kernel ",
           shape_str(ks), " expects ", Cin, " input channels (or a divisor of them, for a grouped conv)");
  const int64_t groups = C / Cin;
  TL_CHECK(ks.back() % groups == 0, op, "a grouped conv of x ", shape_str(x_in.shape()), " with kernel ",
           shape_str(ks), " has ", groups, " groups, which must divide the ", ks.back(), " output channels");
  const std::vector<int64_t> st = spatial_arg(op, "strides", strides, spatial);
  const std::vector<int64_t> dil = spatial_arg(op, "dilation_rate", dilation_rate, spatial);
  if (bias.defined()) {
    TL_CHECK(bias.ndim() == 1 && bias.shape()[0] == ks.back(), op, "bias must have shape (", ks.back(),
             ",) for kernel ", shape_str(ks), ", got ", shape_str(bias.shape()));
    TL_CHECK_TYPE(is_floating(bias.dtype()), op, "needs a float bias, got ", dtype_name(bias.dtype()));
  }
  DType out_dt = promote_types(x_in.dtype(), k_in.dtype());
  if (bias.defined()) out_dt = promote_types(out_dt, bias.dtype());
  const DType dt = heavy_compute_dtype(out_dt);
  Tensor x = astype(x_in, dt);
  const Tensor x_cf = channels_first ? x : Tensor();
  if (channels_first) x = to_channels_last(x);
  const Tensor w = astype(k_in, dt);
  const kernels::Window win = make_window(op, x.shape(), "x " + shape_str(x_in.shape()),
                                          std::vector<int64_t>(ks.begin(), ks.begin() + spatial), st, dil, pad,
                                          "kernel " + shape_str(ks));
  Tensor b = bias.defined() ? astype(bias, dt) : Tensor();
  if (b.defined() && !b.is_contiguous()) b = ascontiguousarray(b);
  const bool relu = activation == LinearActivation::Relu;
  // Channels-first patches are gathered from x itself only when output rows are long: the
  // gather moves one run per output row, and on short rows (MNIST's 11 or 3 pixels) those runs
  // cost 1.5-3x the whole conv's time more than transposing x once (measured, one thread); at 112
  // pixels per row the two are even in time and the direct gather saves the transposed copy.
  constexpr int64_t kGatherChannelsFirstMinRow = 64;
  const Tensor x_gather = win.OW >= kGatherChannelsFirstMinRow ? x_cf : Tensor();
  const Tensor y = groups == 1 ? conv_last(x, w, b, relu, win, x_gather) : conv_grouped(x, w, b, relu, win, groups);
  return astype(channels_first ? to_channels_first(y) : y, out_dt);
}

}  // namespace tl
