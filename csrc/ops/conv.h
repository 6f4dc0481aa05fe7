// Convolution with Keras 3's semantics (keras.ops.conv): 1-D x (N, W, C) with kernel (KW, C, O),
// 2-D x (N, H, W, C) with kernel (KH, KW, C, O); channels_first data are (N, C, spatial...) with
// the same kernel layout. Differentiable in x and kernel (GEMM-based gradients, kernels/conv.h).
#pragma once
#include <string>
#include <vector>
#include "core/tensor.h"
#include "ops/linear.h"

namespace tl {

// strides and dilation_rate: one value or one per spatial dim; padding "valid" or "same"
// (Keras/TF arithmetic, see ops/window.h). Float inputs only (TypeError otherwise); x and kernel
// are promoted to a common dtype. Beyond Keras: an optional bias (Cout,) and relu, applied in the
// GEMM's epilogue (one pass over the output instead of three) and differentiated with the conv.
Tensor conv(const Tensor& x, const Tensor& kernel, const std::vector<int64_t>& strides = {1},
            const std::string& padding = "valid", const std::vector<int64_t>& dilation_rate = {1},
            const std::string& data_format = "channels_last", const Tensor& bias = Tensor(),
            LinearActivation activation = LinearActivation::None);

}  // namespace tl
