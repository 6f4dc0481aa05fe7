// Internals shared by the reduction and the softmax/loss kernels: the reduction operations,
// the (A, R, I) geometry, and the row / column / general loops. Included only by kernel .cpp
// files.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <limits>
#include <type_traits>
#include <vector>
#include "core/half.h"
#include "core/shape.h"
#include "kernels/parallel.h"

namespace tl::kernels {

// ---- the operations: lift (first element), combine (acc, element), merge (acc, acc) ----

// Integer accumulators narrower than 64 bits wrap modulo 2^bits like NumPy's (done in the
// unsigned type: signed overflow is undefined in C++); a bool accumulator is logical or (sum) /
// and (prod), as NumPy's sum(dtype=bool). int64 sums keep the plain operator, as before: GCC
// 12.2 -O3 miscompiles the vectorised uint8 -> uint64 form of the row loop (60 ones summed to
// 29); int64 products wrap in uint64.
template <class Acc>
inline Acc wrap_add(Acc a, Acc b) {
  if constexpr (std::is_same_v<Acc, bool>) return a | b;
  else if constexpr (std::is_integral_v<Acc> && sizeof(Acc) < 8) {
    using U = std::make_unsigned_t<Acc>;
    return static_cast<Acc>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else return a + b;
}
template <class Acc>
inline Acc wrap_mul(Acc a, Acc b) {
  if constexpr (std::is_same_v<Acc, bool>) return a & b;
  else if constexpr (std::is_integral_v<Acc>) {
    // uint8 * uint8 promotes to int and could overflow it, and int64 products overflow too (UB,
    // which UBSan reports): multiply in at least unsigned int, wrapping as NumPy does.
    using U = std::common_type_t<std::make_unsigned_t<Acc>, unsigned>;
    return static_cast<Acc>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
  } else return a * b;
}

template <class In, class Acc>
struct SumOp {
  using in_t = In;
  using acc_t = Acc;
  static Acc identity() { return Acc(0); }
  static Acc lift(In x) { return static_cast<Acc>(x); }
  static Acc combine(Acc a, In x) { return wrap_add(a, static_cast<Acc>(x)); }
  static Acc merge(Acc a, Acc b) { return wrap_add(a, b); }
};

template <class In, class Acc>
struct ProdOp {
  using in_t = In;
  using acc_t = Acc;
  static Acc identity() { return Acc(1); }
  static Acc lift(In x) { return static_cast<Acc>(x); }
  static Acc combine(Acc a, In x) { return wrap_mul(a, static_cast<Acc>(x)); }
  static Acc merge(Acc a, Acc b) { return wrap_mul(a, b); }
};

// max (IsMax) / min. NaN propagates: once the accumulator is NaN it stays NaN; a NaN element
// replaces it.
template <class T, bool IsMax>
struct ExtremumOp {
  using in_t = T;
  using acc_t = T;
  static constexpr bool kFloatExtremum = std::is_floating_point_v<T>;
  static constexpr bool kIsMax = IsMax;
  static T identity() { return IsMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max(); }
  static T lift(T x) { return x; }
  static T merge(T a, T x) {
    const bool better = IsMax ? x > a : x < a;
    if constexpr (is_float_v<T>) return (better | (x != x)) ? x : a;
    else return better ? x : a;
  }
  static T combine(T a, T x) { return merge(a, x); }
};
template <class T> using MaxOp = ExtremumOp<T, true>;
template <class T> using MinOp = ExtremumOp<T, false>;

template <class Op, class = void>
struct is_float_extremum : std::false_type {};
template <class Op>
struct is_float_extremum<Op, std::void_t<decltype(Op::kFloatExtremum)>> : std::bool_constant<Op::kFloatExtremum> {};

// ---- 128-bit vectors (SSE2 at baseline) through GCC/Clang vector extensions. GCC does not
// if-convert the NaN-propagating scalar max into maxps, so the float max/min paths are written
// on vectors: a lane-wise max plus a sticky NaN mask. ----
template <class T> struct V128;
template <> struct V128<float> {
  typedef float type __attribute__((vector_size(16)));
  typedef int32_t mask __attribute__((vector_size(16)));
};
template <> struct V128<double> {
  typedef double type __attribute__((vector_size(16)));
  typedef int64_t mask __attribute__((vector_size(16)));
};

template <class T, bool IsMax>
inline typename V128<T>::type vec_pick(typename V128<T>::type a, typename V128<T>::type x) {
  if constexpr (IsMax) return a > x ? a : x;  // maxps: x where unordered (NaN tracked apart)
  else return a < x ? a : x;
}

// max/min of a contiguous float row; NaN if any element is NaN.
template <class T, bool IsMax>
T extremum_row(const T* p, int64_t n) {
  using V = typename V128<T>::type;
  using M = typename V128<T>::mask;
  using Op = ExtremumOp<T, IsMax>;
  constexpr int64_t W = 16 / sizeof(T), U = 4 * W;
  if (n < U) {
    T a = p[0];
    for (int64_t i = 1; i < n; ++i) a = Op::merge(a, p[i]);
    return a;
  }
  V r0, r1, r2, r3;
  std::memcpy(&r0, p, 16);
  std::memcpy(&r1, p + W, 16);
  std::memcpy(&r2, p + 2 * W, 16);
  std::memcpy(&r3, p + 3 * W, 16);
  M nan = (r0 != r0) | (r1 != r1) | (r2 != r2) | (r3 != r3);
  int64_t i = U;
  for (; i + U <= n; i += U) {
    V x0, x1, x2, x3;
    std::memcpy(&x0, p + i, 16);
    std::memcpy(&x1, p + i + W, 16);
    std::memcpy(&x2, p + i + 2 * W, 16);
    std::memcpy(&x3, p + i + 3 * W, 16);
    nan |= (x0 != x0) | (x1 != x1) | (x2 != x2) | (x3 != x3);
    r0 = vec_pick<T, IsMax>(r0, x0);
    r1 = vec_pick<T, IsMax>(r1, x1);
    r2 = vec_pick<T, IsMax>(r2, x2);
    r3 = vec_pick<T, IsMax>(r3, x3);
  }
  V r = vec_pick<T, IsMax>(vec_pick<T, IsMax>(r0, r1), vec_pick<T, IsMax>(r2, r3));
  T res = r[0];
  bool any_nan = false;
  for (int64_t j = 0; j < W; ++j) {
    res = Op::merge(res, r[j]);
    any_nan |= nan[j] != 0;
  }
  for (; i < n; ++i) res = Op::merge(res, p[i]);
  return any_nan ? std::numeric_limits<T>::quiet_NaN() : res;
}

// acc[i] = merge(acc[i], row_k[i]) for the K contiguous float rows in order, on vectors (the
// accumulator stays in a register across the K rows).
template <class T, bool IsMax, int K>
void extremum_accumulate(T* acc, const T* const* rows, int64_t n) {
  using V = typename V128<T>::type;
  constexpr int64_t W = 16 / sizeof(T);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    V a;
    std::memcpy(&a, acc + i, 16);
    for (int k = 0; k < K; ++k) {
      V x;
      std::memcpy(&x, rows[k] + i, 16);
      a = ((IsMax ? a > x : a < x) | (a != a)) ? a : x;
    }
    std::memcpy(acc + i, &a, 16);
  }
  for (; i < n; ++i)
    for (int k = 0; k < K; ++k) acc[i] = ExtremumOp<T, IsMax>::merge(acc[i], rows[k][i]);
}

template <class In>
struct AllOp {
  using in_t = In;
  using acc_t = bool;
  static bool identity() { return true; }
  static bool lift(In x) { return x != In(0); }
  static bool combine(bool a, In x) { return a & (x != In(0)); }
  static bool merge(bool a, bool b) { return a & b; }
};

template <class In>
struct AnyOp {
  using in_t = In;
  using acc_t = bool;
  static bool identity() { return false; }
  static bool lift(In x) { return x != In(0); }
  static bool combine(bool a, In x) { return a | (x != In(0)); }
  static bool merge(bool a, bool b) { return a | b; }
};

// ---- finalisers: accumulator -> output element ----
template <class Out>
struct CastFin {
  template <class Acc> Out operator()(Acc a) const { return static_cast<Out>(a); }
};
template <class Out, class Div = Out>
struct DivFin {  // mean: sum / count in Div, as NumPy (a division, not a multiply by 1/n)
  Div n;
  template <class Acc> Out operator()(Acc a) const { return static_cast<Out>(static_cast<Div>(a) / n); }
};


// ---- geometry ----
struct RDim {
  int64_t n, xs, os;  // size, x stride, out stride (elements; os = 0 on reduced dims)
  bool red;
};

struct ReduceGeometry {
  int64_t n_out = 1, n_red = 1;
  // The dims of x without size-1 dims, outermost (largest |stride|) first, neighbours merged.
  std::vector<RDim> kept, red;
  // Valid when `triple`: out[a*oA + i*oI] = reduce_r x[a*sA + r*sR + i*sI].
  bool triple = false;
  int64_t A = 1, sA = 0, oA = 0, R = 1, sR = 0, I = 1, sI = 0, oI = 0;
};

// S: Shape (std::vector) or kernels::Dims (a StridedView's).
template <class S>
ReduceGeometry reduce_geometry(const S& shape, const S& strides, const std::vector<bool>& mask) {
  ReduceGeometry g;
  const int64_t nd = static_cast<int64_t>(shape.size());
  Strides ostr(nd);
  int64_t s = 1;
  for (int64_t d = nd - 1; d >= 0; --d) {
    ostr[d] = s;
    if (!mask[d]) s *= std::max<int64_t>(shape[d], 1);
  }
  std::vector<RDim> dims;
  for (int64_t d = 0; d < nd; ++d) {
    if (mask[d]) g.n_red *= shape[d];
    else g.n_out *= shape[d];
    if (shape[d] != 1) dims.push_back({shape[d], strides[d], mask[d] ? 0 : ostr[d], static_cast<bool>(mask[d])});
  }
  if (g.n_out == 0 || g.n_red == 0) return g;
  std::stable_sort(dims.begin(), dims.end(),
                   [](const RDim& a, const RDim& b) { return std::llabs(a.xs) > std::llabs(b.xs); });
  std::vector<RDim> merged;
  for (const RDim& d : dims) {
    if (!merged.empty()) {
      RDim& p = merged.back();
      if (p.red == d.red && p.xs == d.xs * d.n && p.os == d.os * d.n) {
        p.n *= d.n;
        p.xs = d.xs;
        p.os = d.os;
        continue;
      }
    }
    merged.push_back(d);
  }
  for (const RDim& d : merged) (d.red ? g.red : g.kept).push_back(d);
  // Match [K] [R] [K,R] [R,K] [K,R,K].
  std::string pat;
  for (const RDim& d : merged) pat += d.red ? 'R' : 'K';
  auto setA = [&](const RDim& d) { g.A = d.n; g.sA = d.xs; g.oA = d.os; };
  auto setR = [&](const RDim& d) { g.R = d.n; g.sR = d.xs; };
  auto setI = [&](const RDim& d) { g.I = d.n; g.sI = d.xs; g.oI = d.os; };
  g.triple = true;
  if (pat.empty()) {
  } else if (pat == "K") setA(merged[0]);
  else if (pat == "R") setR(merged[0]);
  else if (pat == "KR") { setA(merged[0]); setR(merged[1]); }
  else if (pat == "RK") { setR(merged[0]); setI(merged[1]); }
  else if (pat == "KRK") { setA(merged[0]); setR(merged[1]); setI(merged[2]); }
  else g.triple = false;
  return g;
}

// ---- one row: pairwise over blocks of 128 with eight accumulators (NumPy's summation) ----
template <class Op>
typename Op::acc_t row_reduce(const typename Op::in_t* p, int64_t n, int64_t s) {
  using Acc = typename Op::acc_t;
  if constexpr (is_float_extremum<Op>::value) {
    if (s == 1) return extremum_row<Acc, Op::kIsMax>(p, n);
  }
  if (n < 8) {
    Acc a = Op::lift(p[0]);
    for (int64_t i = 1; i < n; ++i) a = Op::combine(a, p[i * s]);
    return a;
  }
  if (n <= 128) {
    Acc r[8];
    int64_t i = 8;
    if (s == 1) {
      for (int j = 0; j < 8; ++j) r[j] = Op::lift(p[j]);
      for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) r[j] = Op::combine(r[j], p[i + j]);
    } else {
      for (int j = 0; j < 8; ++j) r[j] = Op::lift(p[j * s]);
      for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) r[j] = Op::combine(r[j], p[(i + j) * s]);
    }
    Acc res = Op::merge(Op::merge(Op::merge(r[0], r[1]), Op::merge(r[2], r[3])),
                        Op::merge(Op::merge(r[4], r[5]), Op::merge(r[6], r[7])));
    for (; i < n; ++i) res = Op::combine(res, p[i * s]);
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return Op::merge(row_reduce<Op>(p, n2, s), row_reduce<Op>(p + n2 * s, n - n2, s));
}

// Grain (in outputs) so that one task reduces about kParallelElementThreshold elements.
inline int64_t reduce_grain(int64_t per_output) {
  return std::max<int64_t>(1, kParallelElementThreshold / std::max<int64_t>(per_output, 1));
}

template <class Op, class Out, class Fin>
void reduce_rows(const Fin& fin, Out* o, const typename Op::in_t* x, const ReduceGeometry& g) {
  parallel_for(0, g.A, reduce_grain(g.R), [&](int64_t b, int64_t e) {
    for (int64_t a = b; a < e; ++a) o[a * g.oA] = fin(row_reduce<Op>(x + a * g.sA, g.R, g.sR));
  });
}

constexpr int64_t kColumnBlock = 512;

template <class Op, class Out, class Fin>
void reduce_columns(const Fin& fin, Out* o, const typename Op::in_t* x, const ReduceGeometry& g) {
  using Acc = typename Op::acc_t;
  using In = typename Op::in_t;
  const int64_t nb = (g.I + kColumnBlock - 1) / kColumnBlock;
  parallel_for(0, g.A * nb, reduce_grain(g.R * std::min(g.I, kColumnBlock)), [&](int64_t b, int64_t e) {
    Acc acc[kColumnBlock];
    for (int64_t t = b; t < e; ++t) {
      const int64_t a = t / nb, i0 = (t % nb) * kColumnBlock, n = std::min(kColumnBlock, g.I - i0);
      const In* p = x + a * g.sA + i0 * g.sI;
      Out* q = o + a * g.oA + i0 * g.oI;
      if (g.sI == 1) {
        for (int64_t i = 0; i < n; ++i) acc[i] = Op::lift(p[i]);
        // Four rows per sweep over acc: the same sequential order (identical results), a
        // quarter of the accumulator loads and stores.
        int64_t r = 1;
        for (; r + 4 <= g.R; r += 4) {
          const In* rows[4] = {p + r * g.sR, p + (r + 1) * g.sR, p + (r + 2) * g.sR, p + (r + 3) * g.sR};
          if constexpr (is_float_extremum<Op>::value) {
            extremum_accumulate<Acc, Op::kIsMax, 4>(acc, rows, n);
          } else {
            const In *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
            for (int64_t i = 0; i < n; ++i)
              acc[i] = Op::combine(Op::combine(Op::combine(Op::combine(acc[i], r0[i]), r1[i]), r2[i]), r3[i]);
          }
        }
        for (; r < g.R; ++r) {
          const In* row = p + r * g.sR;
          if constexpr (is_float_extremum<Op>::value) extremum_accumulate<Acc, Op::kIsMax, 1>(acc, &row, n);
          else for (int64_t i = 0; i < n; ++i) acc[i] = Op::combine(acc[i], row[i]);
        }
      } else {
        for (int64_t i = 0; i < n; ++i) acc[i] = Op::lift(p[i * g.sI]);
        for (int64_t r = 1; r < g.R; ++r) {
          const In* row = p + r * g.sR;
          for (int64_t i = 0; i < n; ++i) acc[i] = Op::combine(acc[i], row[i * g.sI]);
        }
      }
      if (g.oI == 1) for (int64_t i = 0; i < n; ++i) q[i] = fin(acc[i]);
      else for (int64_t i = 0; i < n; ++i) q[i * g.oI] = fin(acc[i]);
    }
  });
}

// Any layout: one output at a time, walking the reduced dims like an odometer.
template <class Op, class Out, class Fin>
void reduce_general(const Fin& fin, Out* o, const typename Op::in_t* x, const ReduceGeometry& g) {
  using Acc = typename Op::acc_t;
  const int64_t nk = static_cast<int64_t>(g.kept.size()), nr = static_cast<int64_t>(g.red.size());
  parallel_for(0, g.n_out, reduce_grain(g.n_red), [&](int64_t b, int64_t e) {
    std::vector<int64_t> ridx(nr);
    for (int64_t j = b; j < e; ++j) {
      int64_t xoff = 0, ooff = 0, rem = j;
      for (int64_t d = nk - 1; d >= 0; --d) {
        const int64_t i = rem % g.kept[d].n;
        rem /= g.kept[d].n;
        xoff += i * g.kept[d].xs;
        ooff += i * g.kept[d].os;
      }
      const auto* p = x + xoff;
      std::fill(ridx.begin(), ridx.end(), 0);
      Acc acc = Op::lift(p[0]);
      int64_t roff = 0;
      for (int64_t k = 1; k < g.n_red; ++k) {
        for (int64_t d = nr - 1; d >= 0; --d) {
          roff += g.red[d].xs;
          if (++ridx[d] < g.red[d].n) break;
          roff -= g.red[d].xs * g.red[d].n;
          ridx[d] = 0;
        }
        acc = Op::combine(acc, p[roff]);
      }
      o[ooff] = fin(acc);
    }
  });
}

template <class Op, class Out, class Fin>
void reduce_dispatch(const Fin& fin, Out* o, const typename Op::in_t* x, const ReduceGeometry& g) {
  if (!g.triple) return reduce_general<Op>(fin, o, x, g);
  if (g.I == 1) return reduce_rows<Op>(fin, o, x, g);
  reduce_columns<Op>(fin, o, x, g);
}

}  // namespace tl::kernels
