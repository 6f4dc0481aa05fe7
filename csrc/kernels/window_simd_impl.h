// The body of one ISA's WindowLoops tables; included by window_simd_{generic,avx2,avx512}.cpp
// with TL_WINDOW_SIMD_NAME set to the accessor's name. Every loop runs over the channel axis
// (O or C contiguous values), which the compiler vectorises for the including file's ISA;
// selects instead of branches keep those loops branch-free.
// The 32-byte vector helpers are inline; their ABI on an SSE-only build does not matter.
#pragma GCC diagnostic ignored "-Wpsabi"
#include <algorithm>
#include <type_traits>
#include <vector>
#include "kernels/window_simd.h"

namespace tl::kernels {
namespace {

// The window cells [lo, hi) whose position i0 + k * d lies inside [0, n).
inline void inside(int64_t i0, int64_t d, int64_t K, int64_t n, int64_t& lo, int64_t& hi) {
  lo = i0 >= 0 ? 0 : (-i0 + d - 1) / d;
  hi = i0 >= n ? 0 : std::min(K, (n - i0 + d - 1) / d);
  hi = std::max(hi, lo);
}

// Calls fn(kernel cell kh * KW + kw, input cell ih * W + iw) for output pixel (oh, ow)'s
// window cells inside the image, in (kh, kw) order.
template <class F>
inline void cells(const Window& w, int64_t oh, int64_t ow, F&& fn) {
  const int64_t ih0 = oh * w.sh - w.ph, iw0 = ow * w.sw - w.pw;
  int64_t kh0, kh1, kw0, kw1;
  inside(ih0, w.dh, w.KH, w.H, kh0, kh1);
  inside(iw0, w.dw, w.KW, w.W, kw0, kw1);
  for (int64_t kh = kh0; kh < kh1; ++kh)
    for (int64_t kw = kw0; kw < kw1; ++kw) fn(kh * w.KW + kw, (ih0 + kh * w.dh) * w.W + iw0 + kw * w.dw);
}

// 32-byte vectors of T through GCC's vector extensions, so that the accumulators stay in
// registers (plain T arrays captured by the cell loops were kept on the stack); unaligned and
// allowed to alias T. On the baseline build each is a pair of SSE registers.
template <class T>
struct Vec {
  typedef T type __attribute__((vector_size(32), aligned(alignof(T)), may_alias));
  static constexpr int W = int(32 / sizeof(T));
  static type load(const T* p) { return *reinterpret_cast<const type*>(p); }
  static void store(T* p, type v) { *reinterpret_cast<type*>(p) = v; }
  static type splat(T x) { return type{} + x; }
};

// y[r, o0 .. o0 + NV * W) of output pixel p with NV vector accumulators.
template <int NV, class T>
inline void c1_block(const Window& w, int64_t O, int64_t o0, const T* img, int64_t p, const T* k, T* yo) {
  using V = Vec<T>;
  typename V::type acc[NV];
  for (int j = 0; j < NV; ++j) acc[j] = V::splat(T(0));
  const int64_t ih0 = (p / w.OW) * w.sh - w.ph, iw0 = (p % w.OW) * w.sw - w.pw;
  int64_t kh0, kh1, kw0, kw1;
  inside(ih0, w.dh, w.KH, w.H, kh0, kh1);
  inside(iw0, w.dw, w.KW, w.W, kw0, kw1);
  for (int64_t kh = kh0; kh < kh1; ++kh) {
    const T* row = img + (ih0 + kh * w.dh) * w.W + iw0;
    for (int64_t kw = kw0; kw < kw1; ++kw) {
      const typename V::type v = V::splat(row[kw * w.dw]);
      const T* wk = k + (kh * w.KW + kw) * O + o0;
      for (int j = 0; j < NV; ++j) acc[j] += v * V::load(wk + j * V::W);
    }
  }
  for (int j = 0; j < NV; ++j) V::store(yo + o0 + j * V::W, acc[j]);
}

// Two output pixels p and p + 1 whose windows lie wholly inside the image, sharing each
// weight load: 2 * NV independent FMA chains instead of NV (one pixel's chains alone wait on
// the FMA latency).
template <int NV, class T>
inline void c1_block2(const Window& w, int64_t O, int64_t o0, const T* img, int64_t p, const T* k, T* yo) {
  using V = Vec<T>;
  typename V::type a0[NV], a1[NV];
  for (int j = 0; j < NV; ++j) a0[j] = a1[j] = V::splat(T(0));
  const T* x0 = img + ((p / w.OW) * w.sh - w.ph) * w.W + (p % w.OW) * w.sw - w.pw;
  const T* x1 = img + (((p + 1) / w.OW) * w.sh - w.ph) * w.W + ((p + 1) % w.OW) * w.sw - w.pw;
  for (int64_t kh = 0; kh < w.KH; ++kh)
    for (int64_t kw = 0; kw < w.KW; ++kw) {
      const int64_t off = kh * w.dh * w.W + kw * w.dw;
      const typename V::type v0 = V::splat(x0[off]), v1 = V::splat(x1[off]);
      const T* wk = k + (kh * w.KW + kw) * O + o0;
      for (int j = 0; j < NV; ++j) {
        const typename V::type wv = V::load(wk + j * V::W);
        a0[j] += v0 * wv;
        a1[j] += v1 * wv;
      }
    }
  for (int j = 0; j < NV; ++j) V::store(yo + o0 + j * V::W, a0[j]), V::store(yo + O + o0 + j * V::W, a1[j]);
}

// Whether output pixel p's window lies wholly inside the image.
inline bool window_inside(const Window& w, int64_t p) {
  const int64_t ih0 = (p / w.OW) * w.sh - w.ph, iw0 = (p % w.OW) * w.sw - w.pw;
  return ih0 >= 0 && iw0 >= 0 && ih0 + (w.KH - 1) * w.dh < w.H && iw0 + (w.KW - 1) * w.dw < w.W;
}

// The last O % W channels, one at a time.
template <class T>
inline void c1_scalar(const Window& w, int64_t O, int64_t o, const T* img, int64_t p, const T* k, T* yo) {
  T acc = T(0);
  cells(w, p / w.OW, p % w.OW, [&](int64_t kc, int64_t cell) { acc += img[cell] * k[kc * O + o]; });
  yo[o] = acc;
}

// Padded cells are skipped rather than multiplied by zero (as the im2col path does); only a
// non-finite weight facing the padding could tell the difference.
template <class T>
void conv_c1_forward(const Window& w, int64_t O, const T* x, const T* k, const T* bias, bool relu, T* y,
                     int64_t r0, int64_t r1) {
  const int64_t P = w.out_pixels();
  constexpr int W = Vec<T>::W;
  for (int64_t r = r0; r < r1;) {
    const int64_t n = r / P, p = r % P;
    const T* img = x + n * w.H * w.W;
    T* __restrict yo = y + r * O;
    // Two pixels of the same image with whole windows: the paired kernel for the 4-vector blocks.
    const bool pair = r + 1 < r1 && p + 1 < P && window_inside(w, p) && window_inside(w, p + 1);
    const int64_t count = pair ? 2 : 1;
    int64_t o0 = 0;
    if (pair)
      for (; o0 + 4 * W <= O; o0 += 4 * W) c1_block2<4>(w, O, o0, img, p, k, yo);
    for (int64_t i = 0; i < count; ++i) {
      T* yi = yo + i * O;
      int64_t o = o0;
      for (; o + 4 * W <= O; o += 4 * W) c1_block<4>(w, O, o, img, p + i, k, yi);
      for (; o + W <= O; o += W) c1_block<1>(w, O, o, img, p + i, k, yi);
      for (; o < O; ++o) c1_scalar(w, O, o, img, p + i, k, yi);
      // As the GEMM's epilogue: the bias after the sum (only when there is one: -0.0 + 0.0
      // would lose the sign), then relu keeping NaN.
      if (bias)
        for (int64_t c = 0; c < O; ++c) yi[c] += bias[c];
      if (relu)
        for (int64_t c = 0; c < O; ++c) yi[c] = yi[c] <= T(0) ? T(0) : yi[c];
    }
    r += count;
  }
}

// dw[kc, o0 .. o0 + NV * W) += sum over the chunk's rows i of col[kc][i] * g[i, o0 ..], for
// two kernel cells at a time (each g load feeds both), with the sums in registers.
template <int NV, class T>
inline void c1_grad_block(int64_t K, int64_t O, int64_t o0, const T* col, int64_t rows, const T* g, T* dw) {
  using V = Vec<T>;
  using R = typename V::type;
  int64_t kc = 0;
  for (; kc + 2 <= K; kc += 2) {
    R a0[NV], a1[NV];
    T* d0 = dw + kc * O + o0;
    T* d1 = d0 + O;
    for (int j = 0; j < NV; ++j) a0[j] = V::load(d0 + j * V::W), a1[j] = V::load(d1 + j * V::W);
    const T* c0 = col + kc * rows;
    const T* c1 = c0 + rows;
    for (int64_t i = 0; i < rows; ++i) {
      const T* gi = g + i * O + o0;
      const R x0 = V::splat(c0[i]), x1 = V::splat(c1[i]);
      for (int j = 0; j < NV; ++j) {
        const R gv = V::load(gi + j * V::W);
        a0[j] += x0 * gv;
        a1[j] += x1 * gv;
      }
    }
    for (int j = 0; j < NV; ++j) V::store(d0 + j * V::W, a0[j]), V::store(d1 + j * V::W, a1[j]);
  }
  for (; kc < K; ++kc) {
    R a0[NV];
    T* d0 = dw + kc * O + o0;
    for (int j = 0; j < NV; ++j) a0[j] = V::load(d0 + j * V::W);
    for (int64_t i = 0; i < rows; ++i) {
      const R x0 = V::splat(col[kc * rows + i]);
      for (int j = 0; j < NV; ++j) a0[j] += x0 * V::load(g + i * O + o0 + j * V::W);
    }
    for (int j = 0; j < NV; ++j) V::store(d0 + j * V::W, a0[j]);
  }
}

// Rows go in chunks of kRows: their patch values are gathered k-major (zeros for padding),
// then each kernel cell's sums run over the chunk. Every dw element adds its terms in row order.
template <class T>
void conv_c1_kernel_grad(const Window& w, int64_t O, const T* x, const T* g, T* dw, int64_t r0, int64_t r1) {
  constexpr int64_t kRows = 64;
  const int64_t P = w.out_pixels(), K = w.KH * w.KW;
  std::vector<T> colbuf(static_cast<size_t>(K * kRows));
  T* col = colbuf.data();
  for (int64_t c0 = r0; c0 < r1; c0 += kRows) {
    const int64_t rows = std::min(kRows, r1 - c0);
    std::fill(col, col + K * rows, T(0));
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t r = c0 + i, n = r / P, p = r % P;
      const T* img = x + n * w.H * w.W;
      cells(w, p / w.OW, p % w.OW, [&](int64_t kc, int64_t cell) { col[kc * rows + i] = img[cell]; });
    }
    const T* gc = g + c0 * O;
    constexpr int W = Vec<T>::W;
    int64_t o0 = 0;
    // 4 vectors x 2 kernel cells = 8 independent FMA chains, enough to cover the FMA latency.
    for (; o0 + 4 * W <= O; o0 += 4 * W) c1_grad_block<4>(K, O, o0, col, rows, gc, dw);
    for (; o0 + 2 * W <= O; o0 += 2 * W) c1_grad_block<2>(K, O, o0, col, rows, gc, dw);
    for (; o0 + W <= O; o0 += W) c1_grad_block<1>(K, O, o0, col, rows, gc, dw);
    for (; o0 < O; ++o0)  // the last O % W channels
      for (int64_t kc = 0; kc < K; ++kc) {
        T a = dw[kc * O + o0];
        for (int64_t i = 0; i < rows; ++i) a += col[kc * rows + i] * gc[i * O + o0];
        dw[kc * O + o0] = a;
      }
  }
}

// Calls fn(image of x, output pixel's C values in y, oh, ow) for the output pixels of rows
// (n * OH + oh) in [r0, r1) of a pooling.
template <class T, class F>
inline void pool_outputs(const Window& w, const T* x, T* y, int64_t r0, int64_t r1, F&& fn) {
  const int64_t C = w.C;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / w.OH, oh = r % w.OH;
    for (int64_t ow = 0; ow < w.OW; ++ow) fn(x + n * w.H * w.W * C, y + (r * w.OW + ow) * C, oh, ow);
  }
}

template <class T>
void max_pool_forward(const Window& w, const T* x, T* y, int64_t r0, int64_t r1) {
  const int64_t C = w.C;
  pool_outputs(w, x, y, r0, r1, [&](const T* img, T* __restrict yo, int64_t oh, int64_t ow) {
    bool first = true;
    cells(w, oh, ow, [&](int64_t, int64_t cell) {
      const T* __restrict xi = img + cell * C;
      if (first) {
        std::copy(xi, xi + C, yo);
        first = false;
        return;
      }
      // Strictly greater keeps the first maximum; a NaN wins over numbers.
      for (int64_t c = 0; c < C; ++c) yo[c] = (xi[c] > yo[c] || xi[c] != xi[c]) ? xi[c] : yo[c];
    });
  });
}

// Whether cell i (of an axis padded by p before) lies in one of the n windows of size k at
// stride s >= k (each cell then in at most one window).
inline bool covered(int64_t i, int64_t p, int64_t s, int64_t k, int64_t n) { return (i + p) / s < n && (i + p) % s < k; }

// Zeros the cells of image d that no window covers, for windows that do not overlap.
template <class T>
void zero_uncovered(const Window& w, T* d) {
  const int64_t C = w.C;
  for (int64_t ih = 0; ih < w.H; ++ih) {
    T* row = d + ih * w.W * C;
    if (!covered(ih, w.ph, w.sh, w.KH, w.OH)) {
      std::fill(row, row + w.W * C, T(0));
      continue;
    }
    for (int64_t iw = 0; iw < w.W; ++iw)
      if (!covered(iw, w.pw, w.sw, w.KW, w.OW)) std::fill(row + iw * C, row + (iw + 1) * C, T(0));
  }
}

// Disjoint: the windows do not overlap (stride >= pool size, the usual 2x2/2), so each covered
// cell is written once (its value, g + 0 exactly as 0 + g was) and only uncovered cells are
// zeroed first; otherwise the image is zeroed and overlapping windows add up.
template <bool Disjoint, class T>
void max_pool_backward_images(const Window& w, const T* x, const T* y, const T* g, T* dx, int64_t n0, int64_t n1) {
  using Mask = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;  // lane-wide flags
  using V = Vec<T>;
  using R = typename V::type;
  typedef Mask M __attribute__((vector_size(32), aligned(alignof(Mask)), may_alias));
  constexpr int W = V::W;
  const int64_t C = w.C, image = w.H * w.W * C, P = w.out_pixels();
  std::vector<Mask> taken(static_cast<size_t>(C));
  Mask* __restrict tk = taken.data();
  for (int64_t n = n0; n < n1; ++n) {
    const T* img = x + n * image;
    T* d = dx + n * image;
    if (Disjoint) zero_uncovered(w, d);
    else std::fill(d, d + image, T(0));
    for (int64_t p = 0; p < P; ++p) {
      const T* __restrict yo = y + (n * P + p) * C;
      const T* __restrict go = g + (n * P + p) * C;
      std::fill(tk, tk + C, Mask(0));
      cells(w, p / w.OW, p % w.OW, [&](int64_t, int64_t cell) {
        const T* __restrict xi = img + cell * C;
        T* __restrict di = d + cell * C;
        // The first cell equal to the maximum, or the first NaN when the maximum is NaN (then
        // no cell equals it, and only NaN cells differ from themselves). Its gradient is g + 0
        // (as 0 + g was), others get +0: the bits of g + 0 and-ed with the hit lanes, without
        // branches (a branch per element on random hits mispredicted: 6x slower).
        int64_t c = 0;
        for (; c + W <= C; c += W) {
          const R xv = V::load(xi + c), gv = V::load(go + c) + V::splat(T(0));
          const M tv = *reinterpret_cast<const M*>(tk + c);
          const M hit = (tv == 0) & ((xv == V::load(yo + c)) | (xv != xv));
          const R add = (R)(hit & (M)gv);
          V::store(di + c, Disjoint ? add : V::load(di + c) + add);
          *reinterpret_cast<M*>(tk + c) = tv | hit;
        }
        for (; c < C; ++c) {
          const Mask hit = Mask((tk[c] == 0) & ((xi[c] == yo[c]) | (xi[c] != xi[c])));
          if (Disjoint) di[c] = hit ? go[c] + T(0) : T(0);
          else di[c] += hit ? go[c] : T(0);
          tk[c] |= hit;
        }
      });
    }
  }
}

template <class T>
void max_pool_backward(const Window& w, const T* x, const T* y, const T* g, T* dx, int64_t n0, int64_t n1) {
  if (w.sh >= w.KH && w.sw >= w.KW && w.dh == 1 && w.dw == 1)
    max_pool_backward_images<true>(w, x, y, g, dx, n0, n1);
  else
    max_pool_backward_images<false>(w, x, y, g, dx, n0, n1);
}

// Average pooling of output rows (n * OH + oh) in [r0, r1): the sum of the window's cells inside
// the image, in (kh, kw) order, divided by their count (Keras's 'same' excludes the padding).
// Channel blocks of 2W lanes are summed in registers; the tail one lane at a time.
template <class T>
void avg_pool_forward(const Window& w, const T* x, T* y, int64_t r0, int64_t r1) {
  using V = Vec<T>;
  using R = typename V::type;
  constexpr int W = V::W;
  const int64_t C = w.C;
  pool_outputs(w, x, y, r0, r1, [&](const T* img, T* __restrict yo, int64_t oh, int64_t ow) {
    int64_t count = 0;
    cells(w, oh, ow, [&](int64_t, int64_t) { ++count; });
    const T div = T(count);
    int64_t c = 0;
    for (; c + 2 * W <= C; c += 2 * W) {
      R a = V::splat(T(0)), b = a;
      cells(w, oh, ow, [&](int64_t, int64_t cell) {
        a += V::load(img + cell * C + c);
        b += V::load(img + cell * C + c + W);
      });
      V::store(yo + c, a / div);
      V::store(yo + c + W, b / div);
    }
    for (; c < C; ++c) {
      T a = T(0);
      cells(w, oh, ow, [&](int64_t, int64_t cell) { a += img[cell * C + c]; });
      yo[c] = a / div;
    }
  });
}

// dx of images [n0, n1): each window cell inside the image receives g / count. Disjoint
// windows (stride >= pool size): each covered cell is written once, only uncovered cells are
// zeroed; otherwise the image is zeroed and the windows add up in output order.
template <bool Disjoint, class T>
void avg_pool_backward_images(const Window& w, const T* g, T* dx, int64_t n0, int64_t n1) {
  const int64_t C = w.C, image = w.H * w.W * C, P = w.out_pixels();
  std::vector<T> share(static_cast<size_t>(C));
  T* __restrict gs = share.data();
  for (int64_t n = n0; n < n1; ++n) {
    T* d = dx + n * image;
    if (Disjoint) zero_uncovered(w, d);
    else std::fill(d, d + image, T(0));
    for (int64_t p = 0; p < P; ++p) {
      const T* __restrict go = g + (n * P + p) * C;
      int64_t count = 0;
      cells(w, p / w.OW, p % w.OW, [&](int64_t, int64_t) { ++count; });
      const T div = T(count);
      for (int64_t c = 0; c < C; ++c) gs[c] = go[c] / div;
      cells(w, p / w.OW, p % w.OW, [&](int64_t, int64_t cell) {
        T* __restrict di = d + cell * C;
        if (Disjoint) std::copy(gs, gs + C, di);
        else for (int64_t c = 0; c < C; ++c) di[c] += gs[c];
      });
    }
  }
}

template <class T>
void avg_pool_backward(const Window& w, const T* g, T* dx, int64_t n0, int64_t n1) {
  if (w.sh >= w.KH && w.sw >= w.KW && w.dh == 1 && w.dw == 1)
    avg_pool_backward_images<true>(w, g, dx, n0, n1);
  else
    avg_pool_backward_images<false>(w, g, dx, n0, n1);
}

// Columns [o0, o0 + NV * W) of conv_output_grad over rows [r0, r1): the column sums stay in
// NV vector registers, then go to acc. The relu mask is a product with 1.0 or 0.0 (the bits of
// 1.0 and-ed with the comparison's lanes), without branches: relu inputs have random signs.
template <int NV, class T>
inline void output_grad_tile(int64_t r0, int64_t r1, int64_t O, int64_t o0, const T* g, const T* y, T* gm, T* acc) {
  using V = Vec<T>;
  using R = typename V::type;
  using Lane = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  typedef Lane M __attribute__((vector_size(32)));
  const R zero = V::splat(T(0)), one = V::splat(T(1));
  R a[NV];
  for (int j = 0; j < NV; ++j) a[j] = zero;
  for (int64_t r = r0; r < r1; ++r) {
    const T* gr = g + r * O + o0;
    if (y) {
      const T* yr = y + r * O + o0;
      T* mr = gm + r * O + o0;
      for (int j = 0; j < NV; ++j) {
        const M pos = V::load(yr + j * V::W) > zero;
        const R v = V::load(gr + j * V::W) * (R)(pos & (M)one);
        V::store(mr + j * V::W, v);
        a[j] += v;
      }
    } else {
      for (int j = 0; j < NV; ++j) a[j] += V::load(gr + j * V::W);
    }
  }
  if (acc)
    for (int j = 0; j < NV; ++j) V::store(acc + o0 + j * V::W, a[j]);
}

template <class T>
void conv_output_grad(int64_t r0, int64_t r1, int64_t O, const T* g, const T* y, T* gm, T* acc) {
  constexpr int W = Vec<T>::W;
  int64_t o0 = 0;
  for (; o0 + 2 * W <= O; o0 += 2 * W) output_grad_tile<2>(r0, r1, O, o0, g, y, gm, acc);
  for (; o0 + W <= O; o0 += W) output_grad_tile<1>(r0, r1, O, o0, g, y, gm, acc);
  for (; o0 < O; ++o0) {  // the last O % W columns, one at a time (T(bool) converts, no branch)
    T a = T(0);
    for (int64_t r = r0; r < r1; ++r) {
      T v = g[r * O + o0];
      if (y) gm[r * O + o0] = v = v * T(y[r * O + o0] > T(0));
      a += v;
    }
    if (acc) acc[o0] = a;
  }
}

template <class T>
WindowLoops<T> make_loops() {
  return {&conv_c1_forward<T>, &conv_c1_kernel_grad<T>, &max_pool_forward<T>, &max_pool_backward<T>,
          &conv_output_grad<T>, &avg_pool_forward<T>, &avg_pool_backward<T>};
}

}  // namespace

template <>
const WindowLoops<float>& TL_WINDOW_SIMD_NAME<float>() {
  static const WindowLoops<float> loops = make_loops<float>();
  return loops;
}
template <>
const WindowLoops<double>& TL_WINDOW_SIMD_NAME<double>() {
  static const WindowLoops<double> loops = make_loops<double>();
  return loops;
}

}  // namespace tl::kernels
