#include "kernels/conv.h"
#include <algorithm>
#include <cstring>
#include <vector>
#include "capture/recorder.h"
#include "core/error.h"
#include "kernels/conv_patches.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"
#include "kernels/window_simd.h"

namespace tl::kernels {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Patch rows per chunk: about kConvChunkBytes of patches, a multiple of 16 rows (whole
// micro-panels for the GEMM).
int64_t chunk_rows(int64_t K, size_t itemsize) {
  const int64_t r = kConvChunkBytes / (K * int64_t(itemsize));
  return std::max<int64_t>(16, r / 16 * 16);
}

// The adjoint of im2col: dx cells += the patch values of rows r0 .. r0 + rows. Rows are visited
// in order, so each dx element sums its contributions in a fixed order.
template <class T>
void col2im_add(const Window& w, const T* buf, int64_t r0, int64_t rows, T* dx) {
  const int64_t C = w.C, K = w.KH * w.KW * C;
  for (int64_t i = 0; i < rows; ++i) {
    const T* src = buf + i * K;
    for_each_patch_run(w, r0 + i, [&](int64_t k, int64_t cell, int64_t cells) {
      const T* s = src + k * C;
      T* d = dx + cell * C;
      for (int64_t j = 0; j < cells * C; ++j) d[j] += s[j];
    });
  }
}

}  // namespace

template <class T>
void conv_forward(const Window& win, int64_t O, const T* x, const T* w, T* y, const Epilogue<T>& ep) {
  // Logged whole for a captured step: the GEMM inside reads x through a patch source that
  // lives only in this call (gemm_implicit_a is not logged by itself).
  TL_CAPTURE_KERNEL((y), (x, w, ep.bias), conv_forward<T>(win, O, x, w, y, ep));
  const int64_t M = win.N * win.out_pixels(), K = win.KH * win.KW * win.C;
  if (M == 0 || O == 0) return;
  if (win.is_pointwise()) return gemm<T>(false, false, M, O, K, T(1), x, K, w, O, T(0), y, O, ep);
  if (win.C == 1) {
    // One input channel: K = KH*KW is too shallow for the GEMM's register tiles to pay for
    // the patches, so each output row is accumulated directly from the image and the kernel.
    const WindowLoops<T>& loops = window_loops<T>();
    parallel_for(0, M, std::max<int64_t>(1, 16384 / (K * O)), [&](int64_t lo, int64_t hi) {
      loops.conv_c1_forward(win, O, x, w, ep.bias, ep.act == Activation::Relu, y, lo, hi);
    });
    return;
  }
  // Implicit im2col: the GEMM gathers each block of patches from x as it packs it, and
  // spreads itself over the threads (output rows do not depend on the split).
  if (win.channels_first) gemm_implicit_a<T>(PatchesCF<T, false>(win, x), M, O, K, w, O, T(0), y, O, ep);
  else gemm_implicit_a<T>(Patches<T>(win, x), M, O, K, w, O, T(0), y, O, ep);
}

template <class T>
void conv_backward_input(const Window& win, int64_t O, const T* g, const T* w, T* dx) {
  TL_CAPTURE_KERNEL((dx), (g, w), conv_backward_input<T>(win, O, g, w, dx));
  TL_CHECK(!win.channels_first, "conv", "the input gradient is computed channels-last only");
  const int64_t P = win.out_pixels(), K = win.KH * win.KW * win.C, image = win.H * win.W * win.C;
  if (win.N == 0) return;
  if (win.is_pointwise() && O > 0) return gemm<T>(false, true, win.N * P, K, O, T(1), g, O, w, O, T(0), dx, K);
  if (P == 0 || O == 0) {
    std::fill(dx, dx + win.N * image, T(0));
    return;
  }
  const int64_t rows_cap = chunk_rows(K, sizeof(T));
  if (P > rows_cap) {
    // One image's patches exceed a chunk: each thread takes whole images (no two scatter into
    // the same dx cells) and walks an image's rows in chunks, in order, so the scratch stays
    // at one chunk and every dx cell still sums its contributions in row order.
    parallel_for(0, win.N, 1, [&](int64_t lo, int64_t hi) {
      std::vector<T> buf(size_t(rows_cap * K));
      for (int64_t n = lo; n < hi; ++n) {
        std::fill(dx + n * image, dx + (n + 1) * image, T(0));
        for (int64_t r0 = n * P; r0 < (n + 1) * P; r0 += rows_cap) {
          const int64_t m = std::min(rows_cap, (n + 1) * P - r0);
          gemm<T>(false, true, m, K, O, T(1), g + r0 * O, O, w, O, T(0), buf.data(), K);
          col2im_add(win, buf.data(), r0, m, dx);
        }
      }
    });
    return;
  }
  // Chunks of whole images (as many as fit in a chunk), so that no two chunks scatter into
  // the same dx cells; each thread takes an equal share of the images.
  const int64_t imgs = std::clamp<int64_t>(rows_cap / P, 1, ceil_div(win.N, get_num_threads()));
  parallel_for(0, win.N, 1, [&](int64_t lo, int64_t hi) {
    std::vector<T> buf(size_t(std::min(imgs, hi - lo) * P * K));
    for (int64_t n0 = lo; n0 < hi; n0 += imgs) {
      const int64_t nb = std::min(imgs, hi - n0), r0 = n0 * P;
      gemm<T>(false, true, nb * P, K, O, T(1), g + r0 * O, O, w, O, T(0), buf.data(), K);
      std::fill(dx + n0 * image, dx + (n0 + nb) * image, T(0));
      col2im_add(win, buf.data(), r0, nb * P, dx);
    }
  });
}

template <class T>
void conv_backward_kernel(const Window& win, int64_t O, const T* x, const T* g, T* dw) {
  TL_CAPTURE_KERNEL((dw), (x, g), conv_backward_kernel<T>(win, O, x, g, dw));
  const int64_t M = win.N * win.out_pixels(), K = win.KH * win.KW * win.C;
  if (K == 0 || O == 0) return;
  if (M == 0) {
    std::fill(dw, dw + K * O, T(0));
    return;
  }
  if (win.is_pointwise()) return gemm<T>(true, false, K, O, M, T(1), x, K, g, O, T(0), dw, O);
  // dw is a sum over all rows: `slots` partial sums over fixed row ranges, added in slot order
  // at the end. The slots come from the shapes only (at most 8, at least 256 rows each, and at
  // most ~16 MB of partial sums), so the rounding does not depend on the thread count. Each
  // slot is one GEMM whose patches^T are gathered from x as it packs them (implicit im2col).
  const int64_t max_partials = std::max<int64_t>(1, (int64_t(16) << 20) / (K * O * int64_t(sizeof(T))));
  const int64_t slots = std::max<int64_t>(1, std::min({int64_t(8), ceil_div(M, 256), max_partials}));
  std::vector<T> partial(size_t((slots - 1) * K * O));
  parallel_for(0, slots, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t s = lo; s < hi; ++s) {
      T* dst = s == 0 ? dw : partial.data() + (s - 1) * K * O;
      const int64_t begin = M * s / slots, end = M * (s + 1) / slots;
      if (win.C == 1) {  // as the forward: directly, without patches
        std::fill(dst, dst + K * O, T(0));
        window_loops<T>().conv_c1_kernel_grad(win, O, x, g, dst, begin, end);
        continue;
      }
      if (win.channels_first)
        gemm_implicit_a<T>(PatchesCF<T, true>(win, x, begin), K, O, end - begin, g + begin * O, O, T(0), dst, O);
      else
        gemm_implicit_a<T>(PatchesT<T>(win, x, begin), K, O, end - begin, g + begin * O, O, T(0), dst, O);
    }
  });
  for (int64_t s = 1; s < slots; ++s) {
    const T* p = partial.data() + (s - 1) * K * O;
    for (int64_t i = 0; i < K * O; ++i) dw[i] += p[i];
  }
}

template <class T>
void conv_output_grad(int64_t rows, int64_t O, const T* g, const T* y, T* gm, T* db) {
  TL_CAPTURE_KERNEL((gm, db), (g, y), conv_output_grad<T>(rows, O, g, y, gm, db));
  if (rows <= 0 || O <= 0) {
    if (db) std::fill(db, db + std::max<int64_t>(O, 0), T(0));
    return;
  }
  // Blocks of rows cut from the shapes only; block b's column sums go to sums[b * O ..].
  constexpr int64_t kBlockRows = 256;
  const int64_t blocks = ceil_div(rows, kBlockRows);
  std::vector<T> sums(db ? size_t(blocks * O) : 0);
  const WindowLoops<T>& loops = window_loops<T>();
  parallel_for(0, blocks, std::max<int64_t>(1, 16384 / (kBlockRows * O)), [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      const int64_t r0 = b * kBlockRows, r1 = std::min(rows, r0 + kBlockRows);
      T* acc = db ? sums.data() + b * O : nullptr;
      loops.conv_output_grad(r0, r1, O, g, y, gm, acc);
    }
  });
  if (!db) return;
  std::copy(sums.data(), sums.data() + O, db);
  for (int64_t b = 1; b < blocks; ++b)
    for (int64_t o = 0; o < O; ++o) db[o] += sums[size_t(b * O + o)];
}

#define TL_INSTANTIATE(T)                                                                 \
  template void conv_output_grad<T>(int64_t, int64_t, const T*, const T*, T*, T*);         \
  template void conv_forward<T>(const Window&, int64_t, const T*, const T*, T*, const Epilogue<T>&); \
  template void conv_backward_input<T>(const Window&, int64_t, const T*, const T*, T*);  \
  template void conv_backward_kernel<T>(const Window&, int64_t, const T*, const T*, T*);
TL_INSTANTIATE(float)
TL_INSTANTIATE(double)
#undef TL_INSTANTIATE

}  // namespace tl::kernels
