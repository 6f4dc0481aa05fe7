#include "kernels/batch_norm.h"
#include <algorithm>
#include <vector>
#include "kernels/parallel.h"

namespace tl::kernels {
namespace {

// Runs add(o0, o1, acc) over fixed blocks of outer rows, each block into its own `width` doubles
// (zeroed), and adds the blocks in order into out[width].
template <class F>
void blocked_sums(const ChannelLayout& l, int64_t width, double* out, F&& add) {
  const int64_t blocks = std::min<int64_t>(l.outer, 64);
  std::vector<double> partial(size_t(std::max<int64_t>(blocks, 1) * width), 0.0);
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, l.count() / std::max<int64_t>(blocks, 1) * l.C));
  parallel_for(0, blocks, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) add(l.outer * b / blocks, l.outer * (b + 1) / blocks, partial.data() + b * width);
  });
  std::fill(out, out + width, 0.0);
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t j = 0; j < width; ++j) out[j] += partial[size_t(b * width + j)];
}

// Calls fn(c, offset of x[o, c, 0]) ... for rows [o0, o1): one channel's run of `inner` values.
template <class F>
inline void for_rows(const ChannelLayout& l, int64_t o0, int64_t o1, F&& fn) {
  for (int64_t o = o0; o < o1; ++o)
    for (int64_t c = 0; c < l.C; ++c) fn(c, (o * l.C + c) * l.inner);
}

}  // namespace

template <class T>
void channel_moments(const ChannelLayout& l, const T* x, double* mean, double* var) {
  const int64_t C = l.C;
  blocked_sums(l, C, mean, [&](int64_t o0, int64_t o1, double* acc) {
    if (l.inner == 1) {  // channels last: vectorise over channels
      for (int64_t o = o0; o < o1; ++o)
        for (int64_t c = 0; c < C; ++c) acc[c] += double(x[o * C + c]);
      return;
    }
    for_rows(l, o0, o1, [&](int64_t c, int64_t off) {
      double s = 0;
      for (int64_t i = 0; i < l.inner; ++i) s += double(x[off + i]);
      acc[c] += s;
    });
  });
  const double n = double(l.count());
  for (int64_t c = 0; c < C; ++c) mean[c] /= n;
  blocked_sums(l, C, var, [&](int64_t o0, int64_t o1, double* acc) {
    if (l.inner == 1) {
      for (int64_t o = o0; o < o1; ++o)
        for (int64_t c = 0; c < C; ++c) {
          const double d = double(x[o * C + c]) - mean[c];
          acc[c] += d * d;
        }
      return;
    }
    for_rows(l, o0, o1, [&](int64_t c, int64_t off) {
      double s = 0;
      for (int64_t i = 0; i < l.inner; ++i) {
        const double d = double(x[off + i]) - mean[c];
        s += d * d;
      }
      acc[c] += s;
    });
  });
  for (int64_t c = 0; c < C; ++c) var[c] /= n;
}

template <class T>
void channel_grad_sums(const ChannelLayout& l, const T* g, const T* x, const double* center, double* sum_g,
                       double* sum_gd) {
  const int64_t C = l.C;
  std::vector<double> both(size_t(2 * C));
  blocked_sums(l, 2 * C, both.data(), [&](int64_t o0, int64_t o1, double* acc) {
    double* ad = acc + C;
    if (l.inner == 1) {
      for (int64_t o = o0; o < o1; ++o)
        for (int64_t c = 0; c < C; ++c) {
          const double gv = double(g[o * C + c]);
          acc[c] += gv;
          ad[c] += gv * (double(x[o * C + c]) - center[c]);
        }
      return;
    }
    for_rows(l, o0, o1, [&](int64_t c, int64_t off) {
      double s = 0, sd = 0;
      for (int64_t i = 0; i < l.inner; ++i) {
        const double gv = double(g[off + i]);
        s += gv;
        sd += gv * (double(x[off + i]) - center[c]);
      }
      acc[c] += s;
      ad[c] += sd;
    });
  });
  std::copy(both.begin(), both.begin() + C, sum_g);
  std::copy(both.begin() + C, both.end(), sum_gd);
}

template <class T>
void channel_affine(const ChannelLayout& l, const T* u, const T* v, const T* a, const T* b, const T* k, T* out) {
  const int64_t C = l.C;
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, C * l.inner));
  parallel_for(0, l.outer, grain, [&](int64_t lo, int64_t hi) {
    if (l.inner == 1) {
      for (int64_t o = lo; o < hi; ++o) {
        const int64_t r = o * C;
        if (v)
          for (int64_t c = 0; c < C; ++c) out[r + c] = u[r + c] * a[c] + v[r + c] * b[c] + k[c];
        else
          for (int64_t c = 0; c < C; ++c) out[r + c] = u[r + c] * a[c] + k[c];
      }
      return;
    }
    for_rows(l, lo, hi, [&](int64_t c, int64_t off) {
      if (v)
        for (int64_t i = off; i < off + l.inner; ++i) out[i] = u[i] * a[c] + v[i] * b[c] + k[c];
      else
        for (int64_t i = off; i < off + l.inner; ++i) out[i] = u[i] * a[c] + k[c];
    });
  });
}

#define TL_BATCH_NORM_INSTANTIATE(T)                                                                        \
  template void channel_moments<T>(const ChannelLayout&, const T*, double*, double*);                         \
  template void channel_grad_sums<T>(const ChannelLayout&, const T*, const T*, const double*, double*, double*); \
  template void channel_affine<T>(const ChannelLayout&, const T*, const T*, const T*, const T*, const T*, T*);
TL_BATCH_NORM_INSTANTIATE(float)
TL_BATCH_NORM_INSTANTIATE(double)
#undef TL_BATCH_NORM_INSTANTIATE

}  // namespace tl::kernels
