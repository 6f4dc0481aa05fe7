#include "kernels/pool.h"
#include <algorithm>
#include "kernels/parallel.h"
#include "kernels/window_simd.h"

namespace tl::kernels {
namespace {

// Forward passes split over output rows (n, oh), about 16K window-cell visits per chunk.
int64_t row_grain(const Window& w) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, w.OW * w.C * std::min(w.KH, w.H) * std::min(w.KW, w.W)));
}

// Backward passes scatter into overlapping cells of one image, so they split over images.
int64_t image_grain(const Window& w) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, w.out_pixels() * w.C)); }

}  // namespace

// The loops are per ISA (window_simd.h); here only the split over threads.
template <class T>
void max_pool_forward(const Window& w, const T* x, T* y) {
  const WindowLoops<T>& loops = window_loops<T>();
  parallel_for(0, w.N * w.OH, row_grain(w), [&](int64_t lo, int64_t hi) { loops.max_pool_forward(w, x, y, lo, hi); });
}

template <class T>
void max_pool_backward(const Window& w, const T* x, const T* y, const T* g, T* dx) {
  const WindowLoops<T>& loops = window_loops<T>();
  parallel_for(0, w.N, image_grain(w), [&](int64_t lo, int64_t hi) { loops.max_pool_backward(w, x, y, g, dx, lo, hi); });
}

template <class T>
void avg_pool_forward(const Window& w, const T* x, T* y) {
  const WindowLoops<T>& loops = window_loops<T>();
  parallel_for(0, w.N * w.OH, row_grain(w), [&](int64_t lo, int64_t hi) { loops.avg_pool_forward(w, x, y, lo, hi); });
}

template <class T>
void avg_pool_backward(const Window& w, const T* g, T* dx) {
  const WindowLoops<T>& loops = window_loops<T>();
  parallel_for(0, w.N, image_grain(w), [&](int64_t lo, int64_t hi) { loops.avg_pool_backward(w, g, dx, lo, hi); });
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
