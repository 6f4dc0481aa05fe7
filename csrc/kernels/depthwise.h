// Depthwise convolution over NHWC data, as direct loops (a GEMM per channel would be 1 x K by
// K x pixels: all packing, no reuse). Kernel (KH, KW, C, M) as Keras stores it, viewed as
// (KH, KW, C*M): output channel c*M + m is input channel c convolved with kernel[..., c, m], so
// one kernel cell's C*M weights line up with one output pixel's C*M outputs and the innermost
// loops run over contiguous channels (vectorised).
//   forward:         y[n,o,c*M+m]  = sum_cells x[n, cell(o), c] * w[cell, c*M+m]
//   input gradient:  dx[n,i,c]     = sum over (o, cell) reaching i of sum_m g[n,o,c*M+m] * w[cell,c*M+m]
//   kernel gradient: dw[cell,c*M+m] = sum_{n,o} g[n,o,c*M+m] * x[n, cell(o), c]
// Results do not depend on the thread count: the forward splits output rows, the input gradient
// splits images, and the kernel gradient sums fixed blocks of images in a fixed order.
// Pointers are to contiguous arrays: x (N, H, W, C), w (KH, KW, C, M), y/g (N, OH, OW, C*M).
#pragma once
#include <cstdint>
#include "kernels/window.h"

namespace tl::kernels {

template <class T>
void depthwise_forward(const Window& win, int64_t M, const T* x, const T* w, T* y);
template <class T>
void depthwise_backward_input(const Window& win, int64_t M, const T* g, const T* w, T* dx);
template <class T>
void depthwise_backward_kernel(const Window& win, int64_t M, const T* x, const T* g, T* dw);

}  // namespace tl::kernels
