// Convolution and pooling as module functions, with Keras 3's argument names
// (tl.conv, tl.depthwise_conv, tl.max_pool, tl.average_pool).
#include <pybind11/stl.h>
#include "bindings/convert.h"
#include "bindings/gil.h"
#include "ops/conv.h"
#include "ops/depthwise.h"
#include "ops/pool.h"
#include "ops/window.h"
#include "core/error.h"

namespace tl::bind {

namespace {

// Keras's data_format=None means the configured image_data_format, channels_last by default.
std::string layout(const std::optional<std::string>& data_format) {
  return data_format.value_or("channels_last");
}

std::optional<std::vector<int64_t>> optional_ints(py::handle v, const char* op) {
  if (v.is_none()) return std::nullopt;
  return to_shape(v, op);
}

// tl.conv(groups=G): the kernel must have C / G input channels (the op infers G from them).
void check_groups(const Tensor& x, const Tensor& k, const std::string& data_format, int64_t groups) {
  if (x.ndim() < 3 || k.ndim() < 2) return;  // the op reports the ranks
  const int64_t C = parse_channels_first(data_format, "conv") ? x.shape()[1] : x.shape().back();
  const int64_t Cin = k.shape()[size_t(k.ndim() - 2)];
  TL_CHECK(groups > 0 && C % groups == 0 && C / groups == Cin, "conv", "groups=", groups, " needs x with a multiple of ",
           groups, " channels and a kernel of C / groups input channels, got x ", shape_str(x.shape()), " and kernel ",
           shape_str(k.shape()));
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("conv", [](py::handle x, py::handle kernel, py::handle strides, const std::string& padding,
                   std::optional<std::string> data_format, py::handle dilation_rate, py::handle bias,
                   std::optional<std::string> activation, std::optional<int64_t> groups) {
          Tensor t = tensor_arg(x), k = tensor_arg(kernel), b = bias.is_none() ? Tensor() : tensor_arg(bias);
          const Shape st = to_shape(strides, "conv"), dil = to_shape(dilation_rate, "conv");
          const std::string f = layout(data_format);
          const LinearActivation act = parse_linear_activation(activation);
          if (groups) check_groups(t, k, f, *groups);
          return without_gil_if(is_large(t.numel()), [&] { return conv(t, k, st, padding, dil, f, b, act); });
        }, py::arg("inputs"), py::arg("kernel"), py::arg("strides") = 1, py::arg("padding") = "valid",
        py::arg("data_format") = py::none(), py::arg("dilation_rate") = 1, py::kw_only(), py::arg("bias") = py::none(),
        py::arg("activation") = py::none(), py::arg("groups") = py::none(),
        "keras.ops.conv: 1-D inputs (N, W, C) with kernel (KW, C, O), or 2-D (N, H, W, C) with kernel "
        "(KH, KW, C, O); channels_first inputs are (N, C, ...). padding 'valid' or 'same' (TF's arithmetic, "
        "the extra cell at the bottom/right). A kernel of C / G input channels makes a grouped conv of G groups "
        "(as Keras's backends infer it). Differentiable in inputs and kernel. Keyword-only extras: bias (O,), "
        "activation None/'linear'/'relu', fused into the GEMM's epilogue, and groups, checked against the shapes.");
  m.def("depthwise_conv", [](py::handle x, py::handle kernel, py::handle strides, const std::string& padding,
                             std::optional<std::string> data_format, py::handle dilation_rate) {
          Tensor t = tensor_arg(x), k = tensor_arg(kernel);
          const Shape st = to_shape(strides, "depthwise_conv"), dil = to_shape(dilation_rate, "depthwise_conv");
          const std::string f = layout(data_format);
          return without_gil_if(is_large(t.numel()), [&] { return depthwise_conv(t, k, st, padding, dil, f); });
        }, py::arg("inputs"), py::arg("kernel"), py::arg("strides") = 1, py::arg("padding") = "valid",
        py::arg("data_format") = py::none(), py::arg("dilation_rate") = 1,
        "keras.ops.depthwise_conv: 1-D inputs (N, W, C) with kernel (KW, C, M), or 2-D (N, H, W, C) with kernel "
        "(KH, KW, C, M); output channel c*M + m is channel c convolved with kernel[..., c, m]. Differentiable in "
        "inputs and kernel.");
  using PoolFn = Tensor (*)(const Tensor&, const std::vector<int64_t>&, const std::optional<std::vector<int64_t>>&,
                            const std::string&, const std::string&);
  const auto def_pool = [&m](const char* name, PoolFn fn, const char* doc) {
    m.def(name, [name, fn](py::handle x, py::handle pool_size, py::handle strides, const std::string& padding,
                           std::optional<std::string> data_format) {
            Tensor t = tensor_arg(x);
            const Shape size = to_shape(pool_size, name);
            const auto st = optional_ints(strides, name);
            const std::string f = layout(data_format);
            return without_gil_if(is_large(t.numel()), [&] { return fn(t, size, st, padding, f); });
          }, py::arg("inputs"), py::arg("pool_size"), py::arg("strides") = py::none(), py::arg("padding") = "valid",
          py::arg("data_format") = py::none(), doc);
  };
  def_pool("max_pool", &max_pool,
           "keras.ops.max_pool over 1-D (N, W, C) or 2-D (N, H, W, C) inputs; strides default to pool_size. The "
           "gradient goes to the first maximal cell of each window.");
  def_pool("average_pool", &average_pool,
           "keras.ops.average_pool over 1-D or 2-D inputs (strides default to pool_size); with padding='same' "
           "each window averages only its cells inside the input (as Keras).");
}

}  // namespace tl::bind
