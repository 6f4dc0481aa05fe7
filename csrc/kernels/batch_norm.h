// Per-channel statistics and affine maps for batch normalisation. Data are contiguous and viewed
// as (outer, C, inner): channel c of x is every x[o, c, i] (channels last: inner = 1; channels
// first: outer = N, inner = H*W). Sums accumulate in double over fixed blocks of `outer` added in
// a fixed order, so results do not depend on the thread count.
#pragma once
#include <cstdint>

namespace tl::kernels {

struct ChannelLayout {
  int64_t outer = 1, C = 1, inner = 1;
  int64_t count() const { return outer * inner; }  // values per channel
};

// mean[c] and the biased variance var[c] (two passes: the mean, then squared deviations).
template <class T>
void channel_moments(const ChannelLayout& l, const T* x, double* mean, double* var);
// sum_g[c] = sum of g over channel c; sum_gd[c] = sum of g * (x - center[c]).
template <class T>
void channel_grad_sums(const ChannelLayout& l, const T* g, const T* x, const double* center, double* sum_g,
                       double* sum_gd);
// out = u * a[c] + v * b[c] + k[c] (v may be null: no second term). out may alias u.
template <class T>
void channel_affine(const ChannelLayout& l, const T* u, const T* v, const T* a, const T* b, const T* k, T* out);

}  // namespace tl::kernels
