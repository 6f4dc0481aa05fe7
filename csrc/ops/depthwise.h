// Depthwise convolution with Keras 3's semantics (keras.ops.depthwise_conv): x (N, W, C) with
// kernel (KW, C, M), or (N, H, W, C) with kernel (KH, KW, C, M); output channel c*M + m is input
// channel c convolved with kernel[..., c, m] (C*M channels out). channels_first data are
// (N, C, spatial...) with the same kernel layout. Differentiable in x and kernel (direct NHWC
// loops, kernels/depthwise.h).
#pragma once
#include <string>
#include <vector>
#include "core/tensor.h"

namespace tl {

// strides / dilation_rate: one value or one per spatial dim; padding "valid" or "same" (TF's
// arithmetic, ops/window.h). Float inputs only (TypeError otherwise), promoted to a common dtype.
Tensor depthwise_conv(const Tensor& x, const Tensor& kernel, const std::vector<int64_t>& strides = {1},
                      const std::string& padding = "valid", const std::vector<int64_t>& dilation_rate = {1},
                      const std::string& data_format = "channels_last");

}  // namespace tl
