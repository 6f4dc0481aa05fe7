// Convolution as GEMM over patches (NHWC activations, HWIO kernels as Keras stores them).
// A patch row holds the KH*KW*C input values one output pixel sees, in (kh, kw, c) order, which
// is exactly the row order of the kernel viewed as a (KH*KW*C, O) matrix, so
//   forward:          y (rows x O)       = patches (rows x K) @ w (K x O), then the GEMM's
//                     epilogue (bias, relu) on the register tiles
//   input gradient:   dpatches (rows x K) = g (rows x O) @ w^T, scattered back (col2im) into dx
//   kernel gradient:  dw (K x O)         = patches^T (K x rows) @ g (rows x O)
// The forward and the kernel gradient never store patches: the GEMM driver packs its panels
// of A straight from x through a patch-gathering packer (implicit im2col, conv_patches.h). A 1x1
// stride-1 unpadded kernel uses the input itself, and a single input channel (the first layer
// of an image net, K = KH*KW only) is computed directly from the image (window_simd.h) for the
// output and the kernel gradient. The input gradient stays an explicit GEMM into patch
// gradients then a scatter-add (col2im), in chunks of about kConvChunkBytes: a scatter from
// the GEMM's register tiles would need the tiles' overlapping cells summed across threads in
// a fixed order, which whole-image chunks give for free. Its scratch is bounded: whole images
// per chunk, or row chunks of one image walked in order when an image's patches exceed a chunk.
// Every result is independent of the thread count: output and
// input-gradient rows do not depend on how rows are chunked, and the kernel gradient's partial
// sums are cut from the shapes only and added in a fixed order.
// All pointers are to contiguous arrays: x (N, H, W, C), w (KH, KW, C, O), y/g (N, OH, OW, O);
// with win.channels_first the forward and the kernel gradient read x as (N, C, H, W) (their
// patch packers gather from it directly; the output and g stay channels-last), and the input
// gradient refuses it (its dx is channels-last: the ops layer transposes it).
#pragma once
#include <cstdint>
#include "kernels/gemm.h"
#include "kernels/window.h"

namespace tl::kernels {

constexpr int64_t kConvChunkBytes = int64_t(1) << 20;

template <class T>
void conv_forward(const Window& win, int64_t O, const T* x, const T* w, T* y, const Epilogue<T>& ep = {});
template <class T>
void conv_backward_input(const Window& win, int64_t O, const T* g, const T* w, T* dx);
template <class T>
void conv_backward_kernel(const Window& win, int64_t O, const T* x, const T* g, T* dw);

// The backward epilogue, one pass over the (rows, O) output gradient g:
//   with relu (y, the forward's output, not null): gm = g * (y > 0) (NaN and -0.0 as that
//   product gives them), the gradient the GEMMs then use;
//   db (if not null) = the column sums of gm (of g without relu), summed in fixed blocks of
//   rows, each block in row order, then the blocks in order: independent of the thread count.
// gm is only written with relu.
template <class T>
void conv_output_grad(int64_t rows, int64_t O, const T* g, const T* y, T* gm, T* db);

}  // namespace tl::kernels
