// Argument checking and output-size arithmetic shared by conv and pooling: strides, dilation
// and pool sizes as one value or one per spatial dim, Keras/TF's "valid" and "same" padding,
// and channels_first inputs moved to channels_last (and back) with differentiable transposes.
#pragma once
#include <string>
#include <vector>
#include "core/tensor.h"
#include "kernels/window.h"

namespace tl {

enum class Padding { Valid, Same };
// "valid" or "same", any case (as Keras's standardize_padding); anything else is a ValueError.
Padding parse_padding(const std::string& s, const char* op);
// Whether the data are channels_first (N, C, spatial...); "channels_last" is the default.
bool parse_channels_first(const std::string& data_format, const char* op);

// One positive value per spatial dim: `v` holds one (repeated) or `spatial` values.
std::vector<int64_t> spatial_arg(const char* op, const char* name, const std::vector<int64_t>& v, int64_t spatial);

// The window of `size` cells per spatial dim (dilated by `dilation`) over channels-last data of
// shape x (N, W, C) or (N, H, W, C). Output size, as Keras / TF:
//   valid: (in - span) / stride + 1, a ValueError naming `what` and x when span > in
//   same:  ceil(in / stride), with max((out - 1) * stride + span - in, 0) cells of padding,
//          the extra one (if odd) at the bottom / right
// where span = (size - 1) * dilation + 1. Overflowing sizes are ValueErrors.
kernels::Window make_window(const char* op, const Shape& x, const std::string& x_desc,
                            const std::vector<int64_t>& size, const std::vector<int64_t>& strides,
                            const std::vector<int64_t>& dilation, Padding padding, const std::string& what);

// (N, C, spatial...) <-> (N, spatial..., C): differentiable transposes (views).
Tensor to_channels_last(const Tensor& x);
Tensor to_channels_first(const Tensor& y);

}  // namespace tl
