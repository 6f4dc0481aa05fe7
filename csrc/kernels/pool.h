// Max and average pooling over NHWC data (window geometry in kernels/window.h), with their
// backward passes. Every window holds at least one cell inside the image (the ops layer's
// padding arithmetic guarantees it); padded cells never take part: they are neither a
// candidate maximum nor counted in an average (Keras's "same" average divides by the number
// of cells inside the image). Pointers are to contiguous arrays: x/dx (N, H, W, C),
// y/g (N, OH, OW, C).
#pragma once
#include <cstdint>
#include "kernels/window.h"

namespace tl::kernels {

// y = the maximum of each window; idx (if not null) = where it was, as the input cell ih * W + iw
// within its image. The first maximal cell in (kh, kw) order wins (as TF and PyTorch, so the
// gradient goes to it alone); NaN counts as maximal, so a window with a NaN gives NaN.
template <class T>
void max_pool_forward(const Window& w, const T* x, T* y, int64_t* idx);
// dx = 0, then dx[n, idx, c] += g[n, oh, ow, c].
template <class T>
void max_pool_backward(const Window& w, const T* g, const int64_t* idx, T* dx);

template <class T>
void avg_pool_forward(const Window& w, const T* x, T* y);
// Each cell of a window receives g / (number of cells of that window inside the image).
template <class T>
void avg_pool_backward(const Window& w, const T* g, T* dx);

}  // namespace tl::kernels
