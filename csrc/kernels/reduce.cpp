#include "kernels/reduce.h"
#include "capture/kernel_log.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include "kernels/complex.h"
#include "kernels/parallel.h"
#include "kernels/reduce_impl.h"
#include "kernels/strided_loop.h"

namespace tl::kernels {

namespace {

template <class Op, class Out, class Fin>
void run(bool reference, const Fin& fin, const StridedView& out, const StridedView& x, const std::vector<bool>& mask) {
  ReduceGeometry g = reduce_geometry(x.shape, x.strides, mask);
  Out* o = out.ptr<Out>();
  const auto* xp = x.ptr<typename Op::in_t>();
  if (g.n_out == 0) return;
  if (g.n_red == 0) {
    const Out v = fin(Op::identity());
    for (int64_t i = 0; i < g.n_out; ++i) o[i] = v;
    return;
  }
  if (reference) return reduce_general<Op>(fin, o, xp, g);
  reduce_dispatch<Op>(fin, o, xp, g);
}

template <class Op, class Out>
void run_cast(bool reference, const StridedView& out, const StridedView& x, const std::vector<bool>& mask) {
  run<Op, Out>(reference, CastFin<Out>{}, out, x, mask);
}

void reduce_impl(bool reference, ReduceOp op, const StridedView& out, const StridedView& x, const std::vector<bool>& mask) {
  // Sum/Prod may also accumulate in the input's own dtype (NumPy's dtype= argument).
  const bool own = (op == ReduceOp::Sum || op == ReduceOp::Prod) && out.dtype == x.dtype;
  TL_CHECK((own || out.dtype == reduce_result_dtype(op, x.dtype)) && out.is_contiguous(), "reduce",
           "internal: output dtype/layout mismatch");
  int64_t n_red = 1;
  for (int64_t d = 0; d < x.ndim(); ++d)
    if (mask[d]) n_red *= x.shape[d];
  if (is_complex(x.dtype)) return complex_reduce(op, out, x, mask);
  TL_DISPATCH_ALL(x.dtype, "reduce", [&] {
    using In = scalar_t;
    constexpr bool kFloat = is_float_v<In>;
    constexpr bool kUnsigned = std::is_unsigned_v<In> && !std::is_same_v<In, bool>;
    // NumPy 2's accumulators: floats their own dtype (float16 adds in float32 and rounds once
    // per output, as NumPy's pairwise loop); bool and signed ints int64; unsigned ints uint64,
    // summed in int64 below 64 bits (the same bits modulo 2^64; GCC 12 miscompiles the
    // vectorised uint8 -> uint64 loop, see reduce_impl.h) and in uint64 for uint64.
    using SumAcc = std::conditional_t<kFloat, compute_t<In>, std::conditional_t<std::is_same_v<In, uint64_t>, uint64_t, int64_t>>;
    using SumOut = std::conditional_t<kFloat, In, std::conditional_t<kUnsigned, uint64_t, int64_t>>;
    // dtype= of an integer type: int8/int16/uint8/uint16 accumulate in 64 bits and are cast
    // once (the same bits modulo 2^n; GCC 12 miscompiles the vectorised int8 wrap-around
    // accumulator beyond 128 elements), 32/64-bit types in their own type.
    using OwnAcc = std::conditional_t<(sizeof(In) < 4 && !std::is_same_v<In, bool>), SumAcc, In>;
    switch (op) {
      case ReduceOp::Sum:
        if (own && !kFloat) return run_cast<SumOp<In, OwnAcc>, In>(reference, out, x, mask);
        return run_cast<SumOp<In, SumAcc>, SumOut>(reference, out, x, mask);
      case ReduceOp::Prod:
        if (own && !kFloat) return run_cast<ProdOp<In, OwnAcc>, In>(reference, out, x, mask);
        return run_cast<ProdOp<In, SumAcc>, SumOut>(reference, out, x, mask);
      case ReduceOp::Mean: {
        using MAcc = std::conditional_t<kFloat, compute_t<In>, double>;
        using MOut = std::conditional_t<kFloat, In, double>;
        return run<SumOp<In, MAcc>, MOut>(reference, DivFin<MOut, MAcc>{static_cast<MAcc>(n_red)}, out, x, mask);
      }
      case ReduceOp::Max:
        if constexpr (std::is_same_v<In, bool>) return run_cast<AnyOp<In>, bool>(reference, out, x, mask);
        else return run_cast<MaxOp<In>, In>(reference, out, x, mask);
      case ReduceOp::Min:
        if constexpr (std::is_same_v<In, bool>) return run_cast<AllOp<In>, bool>(reference, out, x, mask);
        else return run_cast<MinOp<In>, In>(reference, out, x, mask);
      case ReduceOp::All: return run_cast<AllOp<In>, bool>(reference, out, x, mask);
      case ReduceOp::Any: return run_cast<AnyOp<In>, bool>(reference, out, x, mask);
    }
  });
}

// ---- argmax / argmin over (A, R, I) of a contiguous tensor ----
template <bool IsMax, class T>
inline bool better(T v, T best) {
  if constexpr (is_float_v<T>) {
    if (best != best) return false;  // a NaN already won
    if (v != v) return true;
  }
  return IsMax ? v > best : v < best;
}

// First index of the extremum of a contiguous row. Floats: the vectorised max/min first, then
// a scan for its first occurrence (for NaN, the first NaN), about 1.5 passes instead of one
// branchy compare-and-update pass.
template <bool IsMax, class T>
int64_t arg_row(const T* p, int64_t R) {
  if constexpr (std::is_floating_point_v<T>) {
    const T m = extremum_row<T, IsMax>(p, R);
    int64_t r = 0;
    if (m != m) {
      while (p[r] == p[r]) ++r;
      return r;
    }
    // Skip whole blocks of 4 vectors in which no lane equals m.
    using V = typename V128<T>::type;
    using M = typename V128<T>::mask;
    constexpr int64_t W = 16 / sizeof(T), U = 4 * W;
    V mv;
    for (int64_t j = 0; j < W; ++j) mv[j] = m;
    for (; r + U <= R; r += U) {
      V x0, x1, x2, x3;
      std::memcpy(&x0, p + r, 16);
      std::memcpy(&x1, p + r + W, 16);
      std::memcpy(&x2, p + r + 2 * W, 16);
      std::memcpy(&x3, p + r + 3 * W, 16);
      const M hit = (x0 == mv) | (x1 == mv) | (x2 == mv) | (x3 == mv);
      uint64_t bits[2];
      std::memcpy(bits, &hit, 16);
      if (bits[0] | bits[1]) break;
    }
    while (p[r] != m) ++r;
    return r;
  } else {
    T best = p[0];
    int64_t bi = 0;
    for (int64_t r = 1; r < R; ++r)
      if (better<IsMax>(p[r], best)) { best = p[r]; bi = r; }
    return bi;
  }
}

template <bool IsMax, class T>
void arg_kernel(int64_t* out, const T* x, int64_t A, int64_t R, int64_t I) {
  if (I == 1) {
    parallel_for(0, A, reduce_grain(R), [&](int64_t b, int64_t e) {
      for (int64_t a = b; a < e; ++a) out[a] = arg_row<IsMax>(x + a * R, R);
    });
    return;
  }
  constexpr int64_t CB = 256;
  const int64_t nb = (I + CB - 1) / CB;
  parallel_for(0, A * nb, std::max<int64_t>(1, kParallelElementThreshold / (R * CB)), [&](int64_t b, int64_t e) {
    T best[CB];
    for (int64_t t = b; t < e; ++t) {
      const int64_t a = t / nb, i0 = (t % nb) * CB, n = std::min(CB, I - i0);
      const T* p = x + a * R * I + i0;
      int64_t* o = out + a * I + i0;
      for (int64_t i = 0; i < n; ++i) { best[i] = p[i]; o[i] = 0; }
      for (int64_t r = 1; r < R; ++r) {
        const T* row = p + r * I;
        for (int64_t i = 0; i < n; ++i)
          if (better<IsMax>(row[i], best[i])) { best[i] = row[i]; o[i] = r; }
      }
    }
  });
}

}  // namespace

DType reduce_result_dtype(ReduceOp op, DType in) {
  switch (op) {
    case ReduceOp::Sum: case ReduceOp::Prod:
      return is_inexact(in) ? in : is_unsigned(in) ? DType::UInt64 : DType::Int64;
    case ReduceOp::Mean: return is_inexact(in) ? in : DType::Float64;
    case ReduceOp::Max: case ReduceOp::Min: return in;
    case ReduceOp::All: case ReduceOp::Any: return DType::Bool;
  }
  return in;
}

void reduce(ReduceOp op, const StridedView& out, const StridedView& x, const std::vector<bool>& mask) {
  TL_CAPTURE_KERNEL((out), (x), reduce(op, out, x, mask));
  reduce_impl(false, op, out, x, mask);
}

void reduce_reference(ReduceOp op, const StridedView& out, const StridedView& x, const std::vector<bool>& mask) {
  reduce_impl(true, op, out, x, mask);
}

void arg_reduce(bool is_max, const StridedView& out, const StridedView& x, int64_t axis) {
  TL_CAPTURE_KERNEL((out), (x), arg_reduce(is_max, out, x, axis));
  TL_CHECK(x.is_contiguous(), is_max ? "argmax" : "argmin", "internal: the input must be contiguous");
  const StridedView& xc = x;
  int64_t A = 1, R = 1, I = 1;
  if (axis < 0) {
    R = xc.numel();
  } else {
    for (int64_t d = 0; d < axis; ++d) A *= xc.shape[d];
    R = xc.shape[axis];
    for (int64_t d = axis + 1; d < xc.ndim(); ++d) I *= xc.shape[d];
  }
  TL_CHECK(R > 0, is_max ? "argmax" : "argmin", "attempt to get ", is_max ? "argmax" : "argmin", " of an empty sequence");
  if (A * I == 0) return;
  TL_DISPATCH_ALL(xc.dtype, "argmax", [&] {
    using T = std::conditional_t<std::is_same_v<scalar_t, bool>, uint8_t, scalar_t>;
    const T* xp = reinterpret_cast<const T*>(xc.data);
    if (is_max) arg_kernel<true>(out.ptr<int64_t>(), xp, A, R, I);
    else arg_kernel<false>(out.ptr<int64_t>(), xp, A, R, I);
  });
}

void equal_mask(const StridedView& w, const StridedView& x, const StridedView& m) {
  TL_DISPATCH_FLOAT(x.dtype, "max_backward", [&] {
    using T = scalar_t;
    constexpr int64_t S = sizeof(T);
    strided_loop<3>(w.shape, {w.bytes(), x.bytes(),
                                m.bytes()},
                    {&w.strides, &x.strides, &m.strides}, {S, S, S}, [](char** p, const int64_t* s, int64_t n) {
                      for (int64_t i = 0; i < n; ++i) {
                        const T a = *reinterpret_cast<const T*>(p[1] + i * s[1]);
                        const T b = *reinterpret_cast<const T*>(p[2] + i * s[2]);
                        *reinterpret_cast<T*>(p[0] + i * s[0]) = (a == b || (a != a && b != b)) ? T(1) : T(0);
                      }
                    });
  });
}

namespace {

// Pairwise sum of f(0..n-1) with eight accumulators, the same scheme as row_reduce's.
template <class T, class F>
T pairwise_sum(int64_t b, int64_t n, const F& f) {
  if (n < 8) {
    T a = 0;
    for (int64_t i = 0; i < n; ++i) a += f(b + i);
    return a;
  }
  if (n <= 128) {
    T r[8];
    for (int j = 0; j < 8; ++j) r[j] = f(b + j);
    int64_t i = 8;
    for (; i + 8 <= n; i += 8)
      for (int j = 0; j < 8; ++j) r[j] += f(b + i + j);
    T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += f(b + i);
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum<T>(b, n2, f) + pairwise_sum<T>(b + n2, n - n2, f);
}

template <class T>
void sum_sq_dev_kernel(T* o, const T* x, const T* m, const ReduceGeometry& g) {
  if (g.I == 1) {
    parallel_for(0, g.A, reduce_grain(g.R), [&](int64_t b, int64_t e) {
      for (int64_t a = b; a < e; ++a) {
        const T* p = x + a * g.sA;
        const T mv = m[a * g.oA];
        const int64_t s = g.sR;
        o[a * g.oA] = s == 1 ? pairwise_sum<T>(0, g.R, [&](int64_t i) { const T d = p[i] - mv; return d * d; })
                             : pairwise_sum<T>(0, g.R, [&](int64_t i) { const T d = p[i * s] - mv; return d * d; });
      }
    });
    return;
  }
  const int64_t nb = (g.I + kColumnBlock - 1) / kColumnBlock;
  parallel_for(0, g.A * nb, reduce_grain(g.R * std::min(g.I, kColumnBlock)), [&](int64_t b, int64_t e) {
    T acc[kColumnBlock], mv[kColumnBlock];
    for (int64_t t = b; t < e; ++t) {
      const int64_t a = t / nb, i0 = (t % nb) * kColumnBlock, n = std::min(kColumnBlock, g.I - i0);
      const T* p = x + a * g.sA + i0 * g.sI;
      const int64_t ob = a * g.oA + i0 * g.oI;
      for (int64_t i = 0; i < n; ++i) {
        mv[i] = m[ob + i * g.oI];
        acc[i] = 0;
      }
      for (int64_t r = 0; r < g.R; ++r) {
        const T* row = p + r * g.sR;
        if (g.sI == 1) {
          for (int64_t i = 0; i < n; ++i) { const T d = row[i] - mv[i]; acc[i] += d * d; }
        } else {
          for (int64_t i = 0; i < n; ++i) { const T d = row[i * g.sI] - mv[i]; acc[i] += d * d; }
        }
      }
      for (int64_t i = 0; i < n; ++i) o[ob + i * g.oI] = acc[i];
    }
  });
}

}  // namespace

bool sum_sq_dev(const StridedView& out, const StridedView& x, const StridedView& m, const std::vector<bool>& mask) {
  capture::opaque();  // its result steers the op: replays re-run the op
  ReduceGeometry g = reduce_geometry(x.shape, x.strides, mask);
  if (!g.triple || g.n_out == 0 || g.n_red == 0) return false;
  if (x.dtype == DType::Float16) return false;  // variance() computes float16 in float32
  TL_DISPATCH_FLOAT(x.dtype, "var", [&] { sum_sq_dev_kernel(out.ptr<scalar_t>(), x.ptr<scalar_t>(), m.ptr<scalar_t>(), g); });
  return true;
}

}  // namespace tl::kernels
