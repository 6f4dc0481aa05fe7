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

// y = the maximum of each window. The first maximal cell in (kh, kw) order is the one the
// gradient goes to (as TF and PyTorch); NaN counts as maximal, so a window with a NaN gives NaN.
template <class T>
void max_pool_forward(const Window& w, const T* x, T* y);
// dx = 0, then each window's g goes to its first cell equal to y (the first NaN if y is NaN):
// the forward's choice, recomputed from x and y, so no index array is stored.
template <class T>
void max_pool_backward(const Window& w, const T* x, const T* y, const T* g, T* dx);

template <class T>
void avg_pool_forward(const Window& w, const T* x, T* y);
// Each cell of a window receives g / (number of cells of that window inside the image).
template <class T>
void avg_pool_backward(const Window& w, const T* g, T* dx);

}  // namespace tl::kernels
