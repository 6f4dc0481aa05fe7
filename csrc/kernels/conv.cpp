#include "kernels/conv.h"
#include <algorithm>
#include <cstring>
#include <vector>
#include "capture/recorder.h"
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

// Visits the input cells of patch row r (output pixel r of the batch, in NHWC order): for each
// kernel row kh, fn(offset of the patch's (kh, kw0) block, x offset of input cell (ih, iw0),
// number of cells kw in [kw0, kw1) that are inside the image). Cells outside are padding.
// With dilation 1 the visited cells of one kernel row are adjacent in memory, so the callers
// move them with one copy of (kw1 - kw0) * C values.
template <class F>
void for_each_patch_run(const Window& w, int64_t r, F&& fn) {
  const int64_t P = w.out_pixels();
  const int64_t n = r / P, p = r % P, oh = p / w.OW, ow = p % w.OW;
  const int64_t ih0 = oh * w.sh - w.ph, iw0 = ow * w.sw - w.pw;
  for (int64_t kh = 0; kh < w.KH; ++kh) {
    const int64_t ih = ih0 + kh * w.dh;
    if (ih < 0 || ih >= w.H) continue;
    const int64_t row = (n * w.H + ih) * w.W;
    if (w.dw == 1) {
      const int64_t kw0 = std::max<int64_t>(0, -iw0), kw1 = std::min<int64_t>(w.KW, w.W - iw0);
      if (kw0 < kw1) fn(kh * w.KW + kw0, row + iw0 + kw0, kw1 - kw0);
      continue;
    }
    for (int64_t kw = 0; kw < w.KW; ++kw) {
      const int64_t iw = iw0 + kw * w.dw;
      if (iw >= 0 && iw < w.W) fn(kh * w.KW + kw, row + iw, int64_t(1));
    }
  }
}

// buf[i, :] = the patch of row r0 + i (zeros where the window hangs over the padding).
template <class T>
void im2col(const Window& w, const T* x, int64_t r0, int64_t rows, T* buf) {
  const int64_t C = w.C, K = w.KH * w.KW * C;
  for (int64_t i = 0; i < rows; ++i) {
    T* dst = buf + i * K;
    std::memset(dst, 0, size_t(K) * sizeof(T));
    for_each_patch_run(w, r0 + i, [&](int64_t k, int64_t cell, int64_t cells) {
      std::memcpy(dst + k * C, x + cell * C, size_t(cells * C) * sizeof(T));
    });
  }
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
  // Logged whole for a captured step: the GEMMs inside read this call's own scratch patches,
  // which a replay of the GEMM alone would find freed.
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
  // Output rows do not depend on how the rows are chunked, so the chunks may follow the
  // thread count: at least one per thread, at most kConvChunkBytes of patches each.
  // Equal chunks, a multiple of the thread count of them (9 chunks on 2 threads left one
  // thread a chunk behind).
  const int64_t nt = get_num_threads();
  const int64_t chunks0 = ceil_div(ceil_div(M, chunk_rows(K, sizeof(T))), nt) * nt;
  const int64_t rows = ceil_div(ceil_div(M, chunks0), 16) * 16;
  const int64_t chunks = ceil_div(M, rows);
  // One chunk runs inline, where the GEMM spreads itself over the threads; in a parallel
  // region each chunk's GEMM runs on its own thread.
  parallel_for(0, chunks, 1, [&](int64_t lo, int64_t hi) {
    std::vector<T> buf(size_t(std::min(rows, M) * K));
    for (int64_t c = lo; c < hi; ++c) {
      const int64_t r0 = c * rows, m = std::min(rows, M - r0);
      im2col(win, x, r0, m, buf.data());
      gemm<T>(false, false, m, O, K, T(1), buf.data(), K, w, O, T(0), y + r0 * O, O, ep);
    }
  });
}

template <class T>
void conv_backward_input(const Window& win, int64_t O, const T* g, const T* w, T* dx) {
  TL_CAPTURE_KERNEL((dx), (g, w), conv_backward_input<T>(win, O, g, w, dx));
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
  // most ~16 MB of partial sums), so the rounding does not depend on the thread count.
  const int64_t rows = chunk_rows(K, sizeof(T));
  const int64_t max_partials = std::max<int64_t>(1, (int64_t(16) << 20) / (K * O * int64_t(sizeof(T))));
  const int64_t slots = std::max<int64_t>(1, std::min({int64_t(8), ceil_div(M, 256), max_partials}));
  std::vector<T> partial(size_t((slots - 1) * K * O));
  parallel_for(0, slots, 1, [&](int64_t lo, int64_t hi) {
    std::vector<T> buf(win.C == 1 ? 0 : size_t(std::min(rows, ceil_div(M, slots)) * K));
    for (int64_t s = lo; s < hi; ++s) {
      T* dst = s == 0 ? dw : partial.data() + (s - 1) * K * O;
      const int64_t begin = M * s / slots, end = M * (s + 1) / slots;
      if (win.C == 1) {  // as the forward: directly, without patches
        std::fill(dst, dst + K * O, T(0));
        window_loops<T>().conv_c1_kernel_grad(win, O, x, g, dst, begin, end);
        continue;
      }
      for (int64_t r0 = begin; r0 < end; r0 += rows) {
        const int64_t m = std::min(rows, end - r0);
        im2col(win, x, r0, m, buf.data());
        gemm<T>(true, false, K, O, m, T(1), buf.data(), K, g + r0 * O, O, r0 == begin ? T(0) : T(1), dst, O);
      }
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
