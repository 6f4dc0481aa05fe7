// Inner loops of the direct convolution (Cin = 1), of the conv backward epilogue and of max and average pooling, compiled once per ISA
// (window_simd_generic.cpp at baseline SSE2, window_simd_avx2.cpp, window_simd_avx512.cpp)
// from one source (window_simd_impl.h: plain loops over the channel axis, which the compiler
// vectorises with each file's flags) and picked at run time by kernels::active_isa() (cpu.h).
// The callers (conv.cpp, pool.cpp) split the work over the thread pool; each call covers one
// contiguous range of output rows or images. Layouts as in conv.h / pool.h (NHWC, HWIO).
#pragma once
#include <cstdint>
#include "kernels/window.h"

namespace tl::kernels {

template <class T>
struct WindowLoops {
  // y[r, :] for output pixels r in [r0, r1) of a conv with one input channel:
  //   sum over the window cells inside the image of x * w[cell, :], + bias, then relu.
  void (*conv_c1_forward)(const Window& w, int64_t O, const T* x, const T* k, const T* bias, bool relu, T* y,
                          int64_t r0, int64_t r1);
  // dw (KH*KW, O) += sum over output pixels r in [r0, r1) of x(cell of r) * g[r, :] (Cin = 1).
  void (*conv_c1_kernel_grad)(const Window& w, int64_t O, const T* x, const T* g, T* dw, int64_t r0, int64_t r1);
  // Max pooling of output rows (n * OH + oh) in [r0, r1): the first maximal cell wins, NaN wins.
  void (*max_pool_forward)(const Window& w, const T* x, T* y, int64_t r0, int64_t r1);
  // dx of images [n0, n1): each window's gradient goes to the first of its cells equal to the
  // window's maximum y (or the first NaN when y is NaN), the cell the forward pass picked; the
  // argmax is recomputed from x and y instead of being stored.
  void (*max_pool_backward)(const Window& w, const T* x, const T* y, const T* g, T* dx, int64_t n0, int64_t n1);
  // Rows [r0, r1) of a conv's (rows, O) output gradient g (conv_output_grad in conv.h): with y
  // (relu) gm = g * (y > 0); acc (if not null) = the column sums of gm (of g without y), each
  // column summed in row order.
  void (*conv_output_grad)(int64_t r0, int64_t r1, int64_t O, const T* g, const T* y, T* gm, T* acc);
  // Average pooling of output rows (n * OH + oh) in [r0, r1): the mean of the window's cells
  // inside the image ('same' padding excluded from the count).
  void (*avg_pool_forward)(const Window& w, const T* x, T* y, int64_t r0, int64_t r1);
  // dx of images [n0, n1): every window cell inside the image gets g / that window's count.
  void (*avg_pool_backward)(const Window& w, const T* g, T* dx, int64_t n0, int64_t n1);
};

template <class T> const WindowLoops<T>& window_loops_generic();
template <class T> const WindowLoops<T>& window_loops_avx2();
template <class T> const WindowLoops<T>& window_loops_avx512();
// The table of the active ISA.
template <class T> const WindowLoops<T>& window_loops();

}  // namespace tl::kernels
