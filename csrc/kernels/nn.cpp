#include "kernels/nn.h"
#include <cmath>
#include <limits>
#include "kernels/parallel.h"
#include "kernels/reduce_impl.h"
#include "kernels/vmath.h"

namespace tl::kernels {

namespace {

// exp that vectorises for float rows (vmath's branch-free exp_f32, <= 1 ulp); libm for double.
template <class T> inline T vexp(T x) {
  if constexpr (std::is_same_v<T, float>) return vmath::exp_f32(x);
  else return std::exp(x);
}

template <class T> T row_max(const T* x, int64_t C) { return row_reduce<MaxOp<T>>(x, C, 1); }
template <class T> T row_sum(const T* x, int64_t C) { return row_reduce<SumOp<T, T>>(x, C, 1); }

// Calls f(row) for every row of an (N, C) layout, rows split over threads.
template <class F>
void for_rows(int64_t N, int64_t C, F&& f) {
  parallel_for(0, N, reduce_grain(4 * C), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) f(r);
  });
}

int64_t rows_of(const Tensor& t, int64_t C) { return C > 0 ? t.numel() / C : 0; }

// log-sum-exp of one row as the pair (m, log sum exp(z - m)): kept apart, because m + log s
// rounded to T loses the low bits of the log when |m| is large (1002.4076 in float32 is off by
// 3e-5). scratch receives exp(z - m).
template <class T>
struct Lse {
  T m, logs;
};
template <class T>
Lse<T> row_lse(const T* z, T* scratch, int64_t C) {
  if (C == 0) return {T(0), -std::numeric_limits<T>::infinity()};
  const T m = row_max(z, C);
  for (int64_t j = 0; j < C; ++j) scratch[j] = vexp(z[j] - m);
  return {m, std::log(row_sum(scratch, C))};
}

// Scratch row for the loss kernels (exp(z - m) of one row), per chunk of rows.
template <class T>
struct Scratch {
  std::vector<T> buf;
  T* get(int64_t C) {
    if (static_cast<int64_t>(buf.size()) < C) buf.resize(C);
    return buf.data();
  }
};

}  // namespace

void softmax_rows(const Tensor& y, const Tensor& x, int64_t C, bool log) {
  TL_DISPATCH_FLOAT(x.dtype(), (log ? "log_softmax" : "softmax"), [&] {
    using T = scalar_t;
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    for_rows(rows_of(x, C), C, [&](int64_t r) {
      const T* xr = xp + r * C;
      T* yr = yp + r * C;
      const T m = row_max(xr, C);
      for (int64_t j = 0; j < C; ++j) yr[j] = vexp(xr[j] - m);
      const T s = row_sum(yr, C);
      if (log) {
        const T logs = std::log(s);
        for (int64_t j = 0; j < C; ++j) yr[j] = (xr[j] - m) - logs;
      } else {
        const T inv = T(1) / s;
        for (int64_t j = 0; j < C; ++j) yr[j] *= inv;
      }
    });
  });
}

void softmax_rows_backward(const Tensor& gx, const Tensor& g, const Tensor& y, int64_t C, bool log) {
  TL_DISPATCH_FLOAT(y.dtype(), "softmax_backward", [&] {
    using T = scalar_t;
    const T* gp = g.data<T>();
    const T* yp = y.data<T>();
    T* op = gx.data<T>();
    for_rows(rows_of(y, C), C, [&](int64_t r) {
      const T* gr = gp + r * C;
      const T* yr = yp + r * C;
      T* o = op + r * C;
      if (log) {
        const T s = row_sum(gr, C);
        for (int64_t j = 0; j < C; ++j) o[j] = gr[j] - vexp(yr[j]) * s;
      } else {
        for (int64_t j = 0; j < C; ++j) o[j] = gr[j] * yr[j];
        const T dot = row_sum(o, C);
        for (int64_t j = 0; j < C; ++j) o[j] = yr[j] * (gr[j] - dot);
      }
    });
  });
}

void softmax_xent_rows(const Tensor& loss, const Tensor& lse, const Tensor& tsum, const Tensor& z, const Tensor& t,
                       int64_t C) {  // lse: (rows, 2) = (m, log s)
  TL_DISPATCH_FLOAT(z.dtype(), "softmax_cross_entropy", [&] {
    using T = scalar_t;
    const T* zp = z.data<T>();
    const T* tp = t.data<T>();
    T *lp = loss.data<T>(), *sp = lse.data<T>(), *tsp = tsum.data<T>();
    const int64_t N = loss.numel();
    parallel_for(0, N, reduce_grain(4 * C), [&](int64_t b, int64_t e) {
      Scratch<T> scratch;
      T* w = scratch.get(C);
      for (int64_t r = b; r < e; ++r) {
        const T* zr = zp + r * C;
        const T* tr = tp + r * C;
        const Lse<T> l = row_lse(zr, w, C);
        for (int64_t j = 0; j < C; ++j) w[j] = tr[j] != T(0) ? tr[j] * ((l.m - zr[j]) + l.logs) : T(0);
        lp[r] = C ? row_sum(w, C) : T(0);
        sp[2 * r] = l.m;
        sp[2 * r + 1] = l.logs;
        tsp[r] = C ? row_sum(tr, C) : T(0);
      }
    });
  });
}

void softmax_xent_rows_backward(const Tensor& gz, const Tensor& gt, const Tensor& g, const Tensor& z, const Tensor& t,
                                const Tensor& lse, const Tensor& tsum, int64_t C) {
  TL_DISPATCH_FLOAT(z.dtype(), "softmax_cross_entropy_backward", [&] {
    using T = scalar_t;
    const T *zp = z.data<T>(), *tp = t.data<T>(), *gp = g.data<T>(), *sp = lse.data<T>(), *tsp = tsum.data<T>();
    T* gzp = gz.defined() ? gz.data<T>() : nullptr;
    T* gtp = gt.defined() ? gt.data<T>() : nullptr;
    for_rows(g.numel(), C, [&](int64_t r) {
      const T *zr = zp + r * C, *tr = tp + r * C;
      const T gr = gp[r], m = sp[2 * r], logs = sp[2 * r + 1], ts = tsp[r];
      if (gzp) {
        T* o = gzp + r * C;
        for (int64_t j = 0; j < C; ++j) o[j] = (vexp((zr[j] - m) - logs) * ts - tr[j]) * gr;
      }
      if (gtp) {
        T* o = gtp + r * C;
        for (int64_t j = 0; j < C; ++j) o[j] = ((m - zr[j]) + logs) * gr;
      }
    });
  });
}

void sparse_xent_rows(const Tensor& loss, const Tensor& lse, const Tensor& z, const Tensor& labels, int64_t C) {
  TL_DISPATCH_FLOAT(z.dtype(), "sparse_softmax_cross_entropy", [&] {
    using T = scalar_t;
    const T* zp = z.data<T>();
    const int64_t* yp = labels.data<int64_t>();
    T *lp = loss.data<T>(), *sp = lse.data<T>();
    const int64_t N = loss.numel();
    parallel_for(0, N, reduce_grain(4 * C), [&](int64_t b, int64_t e) {
      Scratch<T> scratch;
      T* w = scratch.get(C);
      for (int64_t r = b; r < e; ++r) {
        const T* zr = zp + r * C;
        const Lse<T> l = row_lse(zr, w, C);
        sp[2 * r] = l.m;
        sp[2 * r + 1] = l.logs;
        lp[r] = (l.m - zr[yp[r]]) + l.logs;
      }
    });
  });
}

void sparse_xent_rows_backward(const Tensor& gz, const Tensor& g, const Tensor& z, const Tensor& labels,
                               const Tensor& lse, int64_t C) {
  TL_DISPATCH_FLOAT(z.dtype(), "sparse_softmax_cross_entropy_backward", [&] {
    using T = scalar_t;
    const T *zp = z.data<T>(), *gp = g.data<T>(), *sp = lse.data<T>();
    const int64_t* yp = labels.data<int64_t>();
    T* o = gz.data<T>();
    for_rows(g.numel(), C, [&](int64_t r) {
      const T *zr = zp + r * C;
      const T gr = gp[r], m = sp[2 * r], logs = sp[2 * r + 1];
      T* orow = o + r * C;
      for (int64_t j = 0; j < C; ++j) orow[j] = vexp((zr[j] - m) - logs) * gr;
      orow[yp[r]] -= gr;
    });
  });
}

namespace {
template <class T> constexpr T kEps = T(1e-7);
template <class T> T clip_prob(T p) {
  const T lo = kEps<T>, hi = T(1.0 - 1e-7);
  return p < lo ? lo : (p > hi ? hi : p);  // NaN stays NaN
}
}  // namespace

void bce_rows(const Tensor& loss, const Tensor& p, const Tensor& t, int64_t C, bool from_logits) {
  TL_DISPATCH_FLOAT(p.dtype(), "binary_cross_entropy", [&] {
    using T = scalar_t;
    const T *pp = p.data<T>(), *tp = t.data<T>();
    T* lp = loss.data<T>();
    const int64_t N = loss.numel();
    parallel_for(0, N, reduce_grain(4 * C), [&](int64_t b, int64_t e) {
      Scratch<T> scratch;
      T* w = scratch.get(C);
      for (int64_t r = b; r < e; ++r) {
        const T *pr = pp + r * C, *tr = tp + r * C;
        if (from_logits) {
          for (int64_t j = 0; j < C; ++j) {
            const T z = pr[j];
            w[j] = (z > T(0) ? z : T(0)) - z * tr[j] + std::log1p(vexp(-std::abs(z)));
          }
        } else {
          for (int64_t j = 0; j < C; ++j) {
            const T q = clip_prob(pr[j]);
            w[j] = -(tr[j] * std::log(q) + (T(1) - tr[j]) * std::log(T(1) - q));
          }
        }
        lp[r] = C ? row_sum(w, C) / static_cast<T>(C) : std::numeric_limits<T>::quiet_NaN();
      }
    });
  });
}

void bce_rows_backward(const Tensor& gp, const Tensor& gt, const Tensor& g, const Tensor& p, const Tensor& t,
                       int64_t C, bool from_logits) {
  TL_DISPATCH_FLOAT(p.dtype(), "binary_cross_entropy_backward", [&] {
    using T = scalar_t;
    const T *pp = p.data<T>(), *tp = t.data<T>(), *gg = g.data<T>();
    T* gpp = gp.defined() ? gp.data<T>() : nullptr;
    T* gtp = gt.defined() ? gt.data<T>() : nullptr;
    for_rows(g.numel(), C, [&](int64_t r) {
      const T *pr = pp + r * C, *tr = tp + r * C;
      const T s = gg[r] / static_cast<T>(C);
      for (int64_t j = 0; j < C; ++j) {
        const T x = pr[j], y = tr[j];
        if (from_logits) {
          const T e = vexp(-std::abs(x));
          const T sig = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
          if (gpp) gpp[r * C + j] = (sig - y) * s;
          if (gtp) gtp[r * C + j] = -x * s;
        } else {
          const T q = clip_prob(x);
          const bool inside = x >= kEps<T> && x <= T(1.0 - 1e-7);
          if (gpp) gpp[r * C + j] = inside ? (-y / q + (T(1) - y) / (T(1) - q)) * s : T(0);
          if (gtp) gtp[r * C + j] = (std::log(T(1) - q) - std::log(q)) * s;
        }
      }
    });
  });
}

}  // namespace tl::kernels
