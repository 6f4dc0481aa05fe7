#include "kernels/depthwise.h"
#include <algorithm>
#include <vector>
#include "kernels/parallel.h"

namespace tl::kernels {
namespace {

// Calls fn(kernel cell kh * KW + kw, input pixel ih * W + iw) for the cells of output pixel
// (oh, ow) that fall inside the image (padding cells contribute nothing).
template <class F>
inline void for_each_tap(const Window& w, int64_t oh, int64_t ow, F&& fn) {
  for (int64_t kh = 0; kh < w.KH; ++kh) {
    const int64_t ih = oh * w.sh - w.ph + kh * w.dh;
    if (ih < 0 || ih >= w.H) continue;
    for (int64_t kw = 0; kw < w.KW; ++kw) {
      const int64_t iw = ow * w.sw - w.pw + kw * w.dw;
      if (iw >= 0 && iw < w.W) fn(kh * w.KW + kw, ih * w.W + iw);
    }
  }
}

// Work per output pixel is about taps * C * M multiply-adds; chunks of about 32K of them.
int64_t grain_for(const Window& w, int64_t per_item) {
  return std::max<int64_t>(1, 32768 / std::max<int64_t>(1, per_item * w.KH * w.KW * w.C));
}

}  // namespace

template <class T>
void depthwise_forward(const Window& w, int64_t M, const T* x, const T* wt, T* y) {
  const int64_t C = w.C, CM = C * M;
  parallel_for(0, w.N * w.OH, grain_for(w, w.OW * M), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t n = r / w.OH, oh = r % w.OH;
      const T* img = x + n * w.H * w.W * C;
      for (int64_t ow = 0; ow < w.OW; ++ow) {
        T* yo = y + (r * w.OW + ow) * CM;
        std::fill(yo, yo + CM, T(0));
        for_each_tap(w, oh, ow, [&](int64_t cell, int64_t pix) {
          const T* xi = img + pix * C;
          const T* wk = wt + cell * CM;
          if (M == 1) {
            for (int64_t c = 0; c < C; ++c) yo[c] += xi[c] * wk[c];
          } else {
            for (int64_t c = 0; c < C; ++c)
              for (int64_t m = 0; m < M; ++m) yo[c * M + m] += xi[c] * wk[c * M + m];
          }
        });
      }
    }
  });
}

template <class T>
void depthwise_backward_input(const Window& w, int64_t M, const T* g, const T* wt, T* dx) {
  const int64_t C = w.C, CM = C * M, image = w.H * w.W * C;
  // Output pixels of one image scatter into overlapping input cells: split over images.
  parallel_for(0, w.N, grain_for(w, w.out_pixels() * M), [&](int64_t lo, int64_t hi) {
    std::fill(dx + lo * image, dx + hi * image, T(0));
    for (int64_t n = lo; n < hi; ++n) {
      T* d = dx + n * image;
      for (int64_t oh = 0; oh < w.OH; ++oh)
        for (int64_t ow = 0; ow < w.OW; ++ow) {
          const T* go = g + ((n * w.OH + oh) * w.OW + ow) * CM;
          for_each_tap(w, oh, ow, [&](int64_t cell, int64_t pix) {
            T* di = d + pix * C;
            const T* wk = wt + cell * CM;
            if (M == 1) {
              for (int64_t c = 0; c < C; ++c) di[c] += go[c] * wk[c];
            } else {
              for (int64_t c = 0; c < C; ++c) {
                T s = 0;
                for (int64_t m = 0; m < M; ++m) s += go[c * M + m] * wk[c * M + m];
                di[c] += s;
              }
            }
          });
        }
    }
  });
}

template <class T>
void depthwise_backward_kernel(const Window& w, int64_t M, const T* x, const T* g, T* dw) {
  const int64_t C = w.C, CM = C * M, taps = w.KH * w.KW, K = taps * CM, image = w.H * w.W * C;
  // Fixed blocks of images (from the shapes only), each summed into its own partial kernel
  // gradient; the partials are then added in block order, so the result is the same for any
  // number of threads.
  const int64_t blocks = std::min<int64_t>(w.N, 16);
  std::vector<T> partial(size_t(blocks * K), T(0));
  parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) {
      T* acc = partial.data() + b * K;
      const int64_t n0 = w.N * b / blocks, n1 = w.N * (b + 1) / blocks;
      for (int64_t n = n0; n < n1; ++n) {
        const T* img = x + n * image;
        for (int64_t oh = 0; oh < w.OH; ++oh)
          for (int64_t ow = 0; ow < w.OW; ++ow) {
            const T* go = g + ((n * w.OH + oh) * w.OW + ow) * CM;
            for_each_tap(w, oh, ow, [&](int64_t cell, int64_t pix) {
              const T* xi = img + pix * C;
              T* a = acc + cell * CM;
              if (M == 1) {
                for (int64_t c = 0; c < C; ++c) a[c] += go[c] * xi[c];
              } else {
                for (int64_t c = 0; c < C; ++c)
                  for (int64_t m = 0; m < M; ++m) a[c * M + m] += go[c * M + m] * xi[c];
              }
            });
          }
      }
    }
  });
  std::fill(dw, dw + K, T(0));
  for (int64_t b = 0; b < blocks; ++b) {
    const T* p = partial.data() + b * K;
    for (int64_t k = 0; k < K; ++k) dw[k] += p[k];
  }
}

#define TL_DEPTHWISE_INSTANTIATE(T)                                                       \
  template void depthwise_forward<T>(const Window&, int64_t, const T*, const T*, T*);        \
  template void depthwise_backward_input<T>(const Window&, int64_t, const T*, const T*, T*); \
  template void depthwise_backward_kernel<T>(const Window&, int64_t, const T*, const T*, T*);
TL_DEPTHWISE_INSTANTIATE(float)
TL_DEPTHWISE_INSTANTIATE(double)
#undef TL_DEPTHWISE_INSTANTIATE

}  // namespace tl::kernels
