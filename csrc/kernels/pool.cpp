#include "kernels/pool.h"
#include <algorithm>
#include "kernels/parallel.h"
#include "kernels/window_simd.h"

namespace tl::kernels {
namespace {

// The window cells [lo, hi) whose position i0 + k * d lies inside [0, n) (a 'same' window may be
// far wider than the input: only the cells inside are visited).
void cells_inside(int64_t i0, int64_t d, int64_t K, int64_t n, int64_t& lo, int64_t& hi) {
  lo = i0 >= 0 ? 0 : (-i0 + d - 1) / d;
  hi = i0 >= n ? 0 : std::min(K, (n - i0 + d - 1) / d);
}

// Calls fn(input cell ih * W + iw) for the window cells of output (oh, ow) inside the image.
template <class F>
void for_each_cell(const Window& w, int64_t oh, int64_t ow, F&& fn) {
  const int64_t ih0 = oh * w.sh - w.ph, iw0 = ow * w.sw - w.pw;
  int64_t kh0, kh1, kw0, kw1;
  cells_inside(ih0, w.dh, w.KH, w.H, kh0, kh1);
  cells_inside(iw0, w.dw, w.KW, w.W, kw0, kw1);
  for (int64_t kh = kh0; kh < kh1; ++kh)
    for (int64_t kw = kw0; kw < kw1; ++kw) fn((ih0 + kh * w.dh) * w.W + iw0 + kw * w.dw);
}

// Calls fn(n, oh, ow, flat output pixel) for every output pixel, split over output rows (n, oh)
// with about 16K window-cell visits per parallel chunk.
template <class F>
void for_each_output(const Window& w, F&& fn) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, w.OW * w.C * std::min(w.KH, w.H) * std::min(w.KW, w.W)));
  parallel_for(0, w.N * w.OH, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r)
      for (int64_t ow = 0; ow < w.OW; ++ow) fn(r / w.OH, r % w.OH, ow, r * w.OW + ow);
  });
}

// Backward passes scatter into overlapping cells of one image, so they split over images.
int64_t image_grain(const Window& w) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, w.out_pixels() * w.C)); }

}  // namespace

// The loops are per ISA (window_simd.h); here only the split over threads.
template <class T>
void max_pool_forward(const Window& w, const T* x, T* y) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, w.OW * w.C * std::min(w.KH, w.H) * std::min(w.KW, w.W)));
  const WindowLoops<T>& loops = window_loops<T>();
  parallel_for(0, w.N * w.OH, grain, [&](int64_t lo, int64_t hi) { loops.max_pool_forward(w, x, y, lo, hi); });
}

template <class T>
void max_pool_backward(const Window& w, const T* x, const T* y, const T* g, T* dx) {
  const WindowLoops<T>& loops = window_loops<T>();
  parallel_for(0, w.N, image_grain(w), [&](int64_t lo, int64_t hi) { loops.max_pool_backward(w, x, y, g, dx, lo, hi); });
}

template <class T>
void avg_pool_forward(const Window& w, const T* x, T* y) {
  const int64_t C = w.C;
  for_each_output(w, [&](int64_t n, int64_t oh, int64_t ow, int64_t out) {
    const T* img = x + n * w.H * w.W * C;
    T* yo = y + out * C;
    std::fill(yo, yo + C, T(0));
    int64_t count = 0;
    for_each_cell(w, oh, ow, [&](int64_t cell) {
      const T* xi = img + cell * C;
      for (int64_t c = 0; c < C; ++c) yo[c] += xi[c];
      ++count;
    });
    for (int64_t c = 0; c < C; ++c) yo[c] /= T(count);
  });
}

template <class T>
void avg_pool_backward(const Window& w, const T* g, T* dx) {
  const int64_t C = w.C, image = w.H * w.W * C;
  parallel_for(0, w.N, image_grain(w), [&](int64_t lo, int64_t hi) {
    std::fill(dx + lo * image, dx + hi * image, T(0));
    for (int64_t n = lo; n < hi; ++n) {
      T* d = dx + n * image;
      for (int64_t oh = 0; oh < w.OH; ++oh)
        for (int64_t ow = 0; ow < w.OW; ++ow) {
          const T* go = g + ((n * w.OH + oh) * w.OW + ow) * C;
          int64_t count = 0;
          for_each_cell(w, oh, ow, [&](int64_t) { ++count; });
          for_each_cell(w, oh, ow, [&](int64_t cell) {
            for (int64_t c = 0; c < C; ++c) d[cell * C + c] += go[c] / T(count);
          });
        }
    }
  });
}

#define TL_INSTANTIATE(T)                                                             \
  template void max_pool_forward<T>(const Window&, const T*, T*);                    \
  template void max_pool_backward<T>(const Window&, const T*, const T*, const T*, T*); \
  template void avg_pool_forward<T>(const Window&, const T*, T*);                    \
  template void avg_pool_backward<T>(const Window&, const T*, T*);
TL_INSTANTIATE(float)
TL_INSTANTIATE(double)
#undef TL_INSTANTIATE

}  // namespace tl::kernels
