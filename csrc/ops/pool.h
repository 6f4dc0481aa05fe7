// Max and average pooling with Keras 3's semantics (keras.ops.max_pool / average_pool) over
// 1-D (N, W, C) or 2-D (N, H, W, C) data (channels_first: (N, C, spatial...)). Differentiable:
// max sends each gradient to the first maximal cell of its window; average spreads it over the
// window's cells inside the image ("same" averages exclude the padding, as Keras).
#pragma once
#include <optional>
#include <string>
#include <vector>
#include "core/tensor.h"

namespace tl {

// pool_size: one value or one per spatial dim; strides default to pool_size.
Tensor max_pool(const Tensor& x, const std::vector<int64_t>& pool_size,
                const std::optional<std::vector<int64_t>>& strides = std::nullopt, const std::string& padding = "valid",
                const std::string& data_format = "channels_last");
Tensor average_pool(const Tensor& x, const std::vector<int64_t>& pool_size,
                    const std::optional<std::vector<int64_t>>& strides = std::nullopt,
                    const std::string& padding = "valid", const std::string& data_format = "channels_last");

}  // namespace tl
