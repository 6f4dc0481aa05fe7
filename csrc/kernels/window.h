// The geometry shared by convolution and pooling over NHWC data: a window of KH x KW cells
// (dilated by dh, dw) slides over an H x W image with strides sh, sw, after ph rows / pw
// columns of implicit zero (or excluded) padding on the top / left. 1-D ops use H = KH = 1.
// The ops layer (ops/window.h) computes and validates it; kernels trust it.
#pragma once
#include <cstdint>

namespace tl::kernels {

struct Window {
  int64_t N = 0, H = 0, W = 0, C = 0;  // input batch, rows, columns, channels
  int64_t KH = 1, KW = 1;              // window cells
  int64_t OH = 0, OW = 0;              // output rows, columns
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, ph = 0, pw = 0;
  // The input is (N, C, H, W) instead: read by the conv forward and kernel gradient only.
  bool channels_first = false;

  int64_t out_pixels() const { return OH * OW; }
  // The window is the identity map (1x1, stride 1, no padding): patches are the input rows.
  bool is_pointwise() const {
    return KH == 1 && KW == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && !channels_first;
  }
};

}  // namespace tl::kernels
