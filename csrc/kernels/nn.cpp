#include "kernels/nn.h"
#include "capture/recorder.h"
#include <cmath>
#include <limits>
#include <vector>
#include "kernels/parallel.h"
#include "kernels/reduce_impl.h"
#include "kernels/unary_simd.h"

namespace tl::kernels {

namespace {

template <class T> T row_max(const T* x, int64_t C) { return row_reduce<MaxOp<T>>(x, C, 1); }
template <class T> T row_sum(const T* x, int64_t C) { return row_reduce<SumOp<T, T>>(x, C, 1); }

// Per-chunk scratch: two rows of C elements, allocated once per parallel_for chunk.
template <class T>
struct RowScratch {
  std::vector<T> buf;
  T *a, *b;
  explicit RowScratch(int64_t C) : buf(2 * static_cast<size_t>(C)), a(buf.data()), b(buf.data() + C) {}
};

// out[j] = exp((in[j] - m) - s) for one row. float32 runs through the ISA-dispatched exp loop
// (AVX-512 / AVX2 / SSE2, vmath's branch-free exp); tmp must not alias out.
template <class T>
void exp_shifted(T* out, const T* in, T m, T s, int64_t C, T* tmp) {
  if constexpr (std::is_same_v<T, float>) {
    for (int64_t j = 0; j < C; ++j) tmp[j] = (in[j] - m) - s;
    f32_unary_loops().exp(out, tmp, C);
  } else {
    for (int64_t j = 0; j < C; ++j) out[j] = std::exp((in[j] - m) - s);
  }
}

// Runs f(row, scratch) for every row of an (N, C) layout, rows split over threads.
template <class T, class F>
void for_rows(int64_t N, int64_t C, F&& f) {
  parallel_for(0, N, reduce_grain(4 * C), [&](int64_t b, int64_t e) {
    RowScratch<T> scratch(C);
    for (int64_t r = b; r < e; ++r) f(r, scratch);
  });
}

int64_t rows_of(const Tensor& t, int64_t C) { return C > 0 ? t.numel() / C : 0; }

// log-sum-exp of one row as the pair (m, log sum exp(z - m)): kept apart, because m + log s
// rounded to T loses the low bits of the log when |m| is large (1002.4076 in float32 is off by
// 3e-5). sc.a receives exp(z - m).
template <class T>
struct Lse {
  T m, logs;
};
template <class T>
Lse<T> row_lse(const T* z, RowScratch<T>& sc, int64_t C) {
  if (C == 0) return {T(0), -std::numeric_limits<T>::infinity()};
  const T m = row_max(z, C);
  exp_shifted(sc.a, z, m, T(0), C, sc.b);
  return {m, std::log(row_sum(sc.a, C))};
}

}  // namespace

void softmax_rows(const Tensor& y, const Tensor& x, int64_t C, bool log) {
  TL_CAPTURE_KERNEL((y), (x), softmax_rows(y, x, C, log));
  TL_DISPATCH_FLOAT(x.dtype(), (log ? "log_softmax" : "softmax"), [&] {
    using T = scalar_t;
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    for_rows<T>(rows_of(x, C), C, [&](int64_t r, RowScratch<T>& sc) {
      const T* xr = xp + r * C;
      T* yr = yp + r * C;
      const T m = row_max(xr, C);
      if (log) {
        exp_shifted(sc.a, xr, m, T(0), C, sc.b);
        const T logs = std::log(row_sum(sc.a, C));
        for (int64_t j = 0; j < C; ++j) yr[j] = (xr[j] - m) - logs;
      } else {
        exp_shifted(yr, xr, m, T(0), C, sc.a);
        const T inv = T(1) / row_sum(yr, C);
        for (int64_t j = 0; j < C; ++j) yr[j] *= inv;
      }
    });
  });
}

void softmax_rows_backward(const Tensor& gx, const Tensor& g, const Tensor& y, int64_t C, bool log) {
  TL_CAPTURE_KERNEL((gx), (g, y), softmax_rows_backward(gx, g, y, C, log));
  TL_DISPATCH_FLOAT(y.dtype(), "softmax_backward", [&] {
    using T = scalar_t;
    const T* gp = g.data<T>();
    const T* yp = y.data<T>();
    T* op = gx.data<T>();
    for_rows<T>(rows_of(y, C), C, [&](int64_t r, RowScratch<T>& sc) {
      const T* gr = gp + r * C;
      const T* yr = yp + r * C;
      T* o = op + r * C;
      if (log) {  // exp(y) is the softmax
        const T s = row_sum(gr, C);
        exp_shifted(o, yr, T(0), T(0), C, sc.a);
        for (int64_t j = 0; j < C; ++j) o[j] = gr[j] - o[j] * s;
      } else {
        for (int64_t j = 0; j < C; ++j) o[j] = gr[j] * yr[j];
        const T dot = row_sum(o, C);
        for (int64_t j = 0; j < C; ++j) o[j] = yr[j] * (gr[j] - dot);
      }
    });
  });
}

void softmax_xent_rows(const Tensor& loss, const Tensor& lse, const Tensor& tsum, const Tensor& z, const Tensor& t,
                       int64_t C) {
  TL_CAPTURE_KERNEL((loss, lse, tsum), (z, t), softmax_xent_rows(loss, lse, tsum, z, t, C));
  TL_DISPATCH_FLOAT(z.dtype(), "softmax_cross_entropy", [&] {
    using T = scalar_t;
    const T* zp = z.data<T>();
    const T* tp = t.data<T>();
    T *lp = loss.data<T>(), *sp = lse.data<T>(), *tsp = tsum.data<T>();
    for_rows<T>(loss.numel(), C, [&](int64_t r, RowScratch<T>& sc) {
      const T* zr = zp + r * C;
      const T* tr = tp + r * C;
      const Lse<T> l = row_lse(zr, sc, C);
      T* w = sc.a;
      for (int64_t j = 0; j < C; ++j) w[j] = tr[j] != T(0) ? tr[j] * ((l.m - zr[j]) + l.logs) : T(0);
      lp[r] = C ? row_sum(w, C) : T(0);
      sp[2 * r] = l.m;
      sp[2 * r + 1] = l.logs;
      tsp[r] = C ? row_sum(tr, C) : T(0);
    });
  });
}

void softmax_xent_rows_backward(const Tensor& gz, const Tensor& gt, const Tensor& g, const Tensor& z, const Tensor& t,
                                const Tensor& lse, const Tensor& tsum, int64_t C) {
  TL_CAPTURE_KERNEL((gz, gt), (g, z, t, lse, tsum), softmax_xent_rows_backward(gz, gt, g, z, t, lse, tsum, C));
  TL_DISPATCH_FLOAT(z.dtype(), "softmax_cross_entropy_backward", [&] {
    using T = scalar_t;
    const T *zp = z.data<T>(), *tp = t.data<T>(), *gp = g.data<T>(), *sp = lse.data<T>(), *tsp = tsum.data<T>();
    T* gzp = gz.defined() ? gz.data<T>() : nullptr;
    T* gtp = gt.defined() ? gt.data<T>() : nullptr;
    for_rows<T>(g.numel(), C, [&](int64_t r, RowScratch<T>& sc) {
      const T *zr = zp + r * C, *tr = tp + r * C;
      const T gr = gp[r], m = sp[2 * r], logs = sp[2 * r + 1], ts = tsp[r];
      if (gzp) {
        T* o = gzp + r * C;
        exp_shifted(o, zr, m, logs, C, sc.a);  // softmax(z)
        for (int64_t j = 0; j < C; ++j) o[j] = (o[j] * ts - tr[j]) * gr;
      }
      if (gtp) {
        T* o = gtp + r * C;
        for (int64_t j = 0; j < C; ++j) o[j] = ((m - zr[j]) + logs) * gr;
      }
    });
  });
}

void sparse_xent_rows(const Tensor& loss, const Tensor& lse, const Tensor& z, const Tensor& labels, int64_t C) {
  TL_CAPTURE_KERNEL((loss, lse), (z, labels), sparse_xent_rows(loss, lse, z, labels, C));
  TL_DISPATCH_FLOAT(z.dtype(), "sparse_softmax_cross_entropy", [&] {
    using T = scalar_t;
    const T* zp = z.data<T>();
    const int64_t* yp = labels.data<int64_t>();
    T *lp = loss.data<T>(), *sp = lse.data<T>();
    for_rows<T>(loss.numel(), C, [&](int64_t r, RowScratch<T>& sc) {
      const T* zr = zp + r * C;
      const Lse<T> l = row_lse(zr, sc, C);
      sp[2 * r] = l.m;
      sp[2 * r + 1] = l.logs;
      lp[r] = (l.m - zr[yp[r]]) + l.logs;
    });
  });
}

void sparse_xent_rows_backward(const Tensor& gz, const Tensor& g, const Tensor& z, const Tensor& labels,
                               const Tensor& lse, int64_t C) {
  TL_CAPTURE_KERNEL((gz), (g, z, labels, lse), sparse_xent_rows_backward(gz, g, z, labels, lse, C));
  TL_DISPATCH_FLOAT(z.dtype(), "sparse_softmax_cross_entropy_backward", [&] {
    using T = scalar_t;
    const T *zp = z.data<T>(), *gp = g.data<T>(), *sp = lse.data<T>();
    const int64_t* yp = labels.data<int64_t>();
    T* o = gz.data<T>();
    for_rows<T>(g.numel(), C, [&](int64_t r, RowScratch<T>& sc) {
      const T* zr = zp + r * C;
      const T gr = gp[r];
      T* orow = o + r * C;
      exp_shifted(orow, zr, sp[2 * r], sp[2 * r + 1], C, sc.a);  // softmax(z)
      for (int64_t j = 0; j < C; ++j) orow[j] *= gr;
      orow[yp[r]] -= gr;
    });
  });
}

namespace {
template <class T> constexpr T kEps = T(1e-7);
template <class T> constexpr T kOneMinusEps = T(1.0 - 1e-7);
template <class T> T clip_prob(T p) {
  return p < kEps<T> ? kEps<T> : (p > kOneMinusEps<T> ? kOneMinusEps<T> : p);  // NaN stays NaN
}
}  // namespace

void bce_rows(const Tensor& loss, const Tensor& p, const Tensor& t, int64_t C, bool from_logits) {
  TL_CAPTURE_KERNEL((loss), (p, t), bce_rows(loss, p, t, C, from_logits));
  TL_DISPATCH_FLOAT(p.dtype(), "binary_cross_entropy", [&] {
    using T = scalar_t;
    const T *pp = p.data<T>(), *tp = t.data<T>();
    T* lp = loss.data<T>();
    for_rows<T>(loss.numel(), C, [&](int64_t r, RowScratch<T>& sc) {
      const T *pr = pp + r * C, *tr = tp + r * C;
      T* w = sc.a;
      if (from_logits) {
        for (int64_t j = 0; j < C; ++j) {
          const T z = pr[j];
          w[j] = (z > T(0) ? z : T(0)) - z * tr[j] + std::log1p(std::exp(-std::abs(z)));
        }
      } else {
        for (int64_t j = 0; j < C; ++j) {
          const T q = clip_prob(pr[j]);
          w[j] = -(tr[j] * std::log(q) + (T(1) - tr[j]) * std::log(T(1) - q));
        }
      }
      lp[r] = C ? row_sum(w, C) / static_cast<T>(C) : std::numeric_limits<T>::quiet_NaN();
    });
  });
}

void bce_rows_backward(const Tensor& gp, const Tensor& gt, const Tensor& g, const Tensor& p, const Tensor& t,
                       int64_t C, bool from_logits) {
  TL_CAPTURE_KERNEL((gp, gt), (g, p, t), bce_rows_backward(gp, gt, g, p, t, C, from_logits));
  TL_DISPATCH_FLOAT(p.dtype(), "binary_cross_entropy_backward", [&] {
    using T = scalar_t;
    const T *pp = p.data<T>(), *tp = t.data<T>(), *gg = g.data<T>();
    T* gpp = gp.defined() ? gp.data<T>() : nullptr;
    T* gtp = gt.defined() ? gt.data<T>() : nullptr;
    for_rows<T>(g.numel(), C, [&](int64_t r, RowScratch<T>&) {
      const T *pr = pp + r * C, *tr = tp + r * C;
      const T s = gg[r] / static_cast<T>(C);
      for (int64_t j = 0; j < C; ++j) {
        const T x = pr[j], y = tr[j];
        if (from_logits) {
          const T e = std::exp(-std::abs(x));
          const T sig = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
          if (gpp) gpp[r * C + j] = (sig - y) * s;
          if (gtp) gtp[r * C + j] = -x * s;
        } else {
          const T q = clip_prob(x);
          const bool inside = x >= kEps<T> && x <= kOneMinusEps<T>;
          if (gpp) gpp[r * C + j] = inside ? (-y / q + (T(1) - y) / (T(1) - q)) * s : T(0);
          if (gtp) gtp[r * C + j] = (std::log(T(1) - q) - std::log(q)) * s;
        }
      }
    });
  });
}

}  // namespace tl::kernels
