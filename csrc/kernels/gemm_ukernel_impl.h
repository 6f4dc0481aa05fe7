// The register-blocked GEMM micro-kernel, written once over a small vector-traits class V and
// instantiated by each per-ISA file (gemm_generic.cpp, gemm_avx2.cpp, gemm_avx512.cpp).
//
// Include this only inside an anonymous namespace of a per-ISA file, after defining the
// traits: the instantiations are compiled with that file's ISA flags and must not be merged
// with (or reached from) code built for another ISA. V provides:
//   T, Reg, W (lanes), zero(), loadu(p), storeu(p, r), set1(x), fmadd(a, b, c) = a*b+c,
//   mul, add, max(a, b) (returns b when either is NaN, like x86 MAXPS), and for edge tiles
//   loadu_n(p, n) / storeu_n(p, r, n), touching only the first n (0 < n < W) lanes in memory.
//
// acc[MR][NV] holds an MR x (NV * W) tile of C; each k step loads NV vectors of B and
// broadcasts MR scalars of A. The epilogue runs on the registers before the single store.

constexpr int kPrefetchK = 8;

template <class V, int MR, int NV, int AM>
void ukr(const UkrArgs<typename V::T>& p) {
  using T = typename V::T;
  using Reg = typename V::Reg;
  constexpr int W = V::W;

  Reg acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = V::zero();

  // Start pulling the C tile in while the k loop runs.
  for (int i = 0; i < p.m; ++i) {
    __builtin_prefetch(p.c + i * p.ldc, 1);
    __builtin_prefetch(p.c + i * p.ldc + p.n - 1, 1);
  }

  const T* a = p.a;
  const T* b = p.b;
  const int64_t as = p.a_stride, bs = p.b_stride;
#pragma GCC unroll 4
  for (int64_t q = 0; q < p.k; ++q) {
    // B streams from L2 (a packed panel, or B itself read in place): fetch it kPrefetchK steps
    // ahead (measured on AVX-512: +5-15% for in-place B at small M, within noise elsewhere).
#ifndef TL_GEMM_NO_B_PREFETCH
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) __builtin_prefetch(b + kPrefetchK * bs + j * W);
#endif
    Reg bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) bv[j] = V::loadu(b + j * W);
#pragma GCC unroll 32
    for (int i = 0; i < MR; ++i) {
      const Reg av = V::set1(AM == kAKMajor ? a[i] : a[i * as]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = V::fmadd(av, bv[j], acc[i][j]);
    }
    a += AM == kAKMajor ? as : 1;
    b += bs;
  }

  const Reg alpha = V::set1(p.alpha), beta = V::set1(p.beta), zero = V::zero();
  const bool use_beta = p.beta != T(0);
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    if (i >= p.m) break;
    T* c = p.c + i * p.ldc;
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const int lanes = p.n - j * W;
      if (lanes <= 0) break;
      Reg v = V::mul(acc[i][j], alpha);
      if (lanes >= W) {
        if (use_beta) v = V::fmadd(beta, V::loadu(c + j * W), v);
        if (p.bias) v = V::add(v, V::loadu(p.bias + j * W));
        if (p.relu) v = V::max(zero, v);  // max(0, NaN) keeps the NaN, as the reference does
        V::storeu(c + j * W, v);
      } else {
        if (use_beta) v = V::fmadd(beta, V::loadu_n(c + j * W, lanes), v);
        if (p.bias) v = V::add(v, V::loadu_n(p.bias + j * W, lanes));
        if (p.relu) v = V::max(zero, v);
        V::storeu_n(c + j * W, v, lanes);
      }
    }
  }
}

// The kernel pair (A k-major / A row-major) for one tile shape.
template <class V, int MR, int NV>
constexpr UkrShape<typename V::T> ukr_shape() {
  UkrShape<typename V::T> s;
  s.mr = MR;
  s.nr = NV * V::W;
  s.fn[kAKMajor] = &ukr<V, MR, NV, kAKMajor>;
  s.fn[kARowMajor] = &ukr<V, MR, NV, kARowMajor>;
  return s;
}

// FMA throughput probe for the benchmarks' "fraction of peak": `iters` rounds of 12
// independent vector FMA chains (enough to cover latency x pipes on current cores). Returns
// the flops executed; the result goes to *sink so the loop is not optimised away.
template <class V>
double fma_probe(int64_t iters, typename V::T* sink) {
  using Reg = typename V::Reg;
  constexpr int kChains = 12;
  Reg acc[kChains];
  const Reg x = V::set1(typename V::T(0.999)), y = V::set1(typename V::T(1e-3));
#pragma GCC unroll 12
  for (int c = 0; c < kChains; ++c) acc[c] = V::set1(typename V::T(c));
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c) acc[c] = V::fmadd(acc[c], x, y);
  }
  Reg s = acc[0];
  for (int c = 1; c < kChains; ++c) s = V::add(s, acc[c]);
  V::storeu(sink, s);
  return double(iters) * kChains * V::W * 2;
}

// Copying pack: dst[p * R + r] = src[p * ld + r] for r < cols, 0 for cols <= r < R (p < k),
// i.e. a row-major B (or a transposed A) into micro-panels. Inline vector copies: memcpy's
// call and size dispatch cost ~10% of a training-size GEMM.
template <class V>
void pack_copy_v(const typename V::T* src, int64_t ld, int64_t cols, int64_t k, int R, typename V::T* dst) {
  using Reg = typename V::Reg;
  constexpr int W = V::W;
  if (cols == R && R % W == 0) {
    for (int64_t p = 0; p < k; ++p)
      for (int j = 0; j < R; j += W) V::storeu(dst + p * R + j, V::loadu(src + p * ld + j));
    return;
  }
  // A full panel whose width is not a multiple of W (the 6-row A panels): every row but the
  // last is moved with whole-vector loads and stores; the W - R lanes stored past the row's end
  // land at the start of row p + 1, which is written next. Masked loads/stores are microcoded
  // on AMD (the masked path ran the (288 x 7744)^T @ (7744 x 64) weight gradient at 22 GFLOP/s).
  // A whole-vector load is safe while it ends before the block's last element.
  int64_t p0 = 0;
  if (cols == R) {
    const int64_t end = (k - 1) * ld + cols;
    for (; p0 + 1 < k; ++p0) {
      const typename V::T* s = src + p0 * ld;
      if (p0 * ld + (R + W - 1) / W * W > end) break;
      for (int j = 0; j < R; j += W) V::storeu(dst + p0 * R + j, V::loadu(s + j));
    }
  }
  for (int64_t p = p0; p < k; ++p) {
    for (int j = 0; j < R; j += W) {
      const int64_t in = cols - j;  // source lanes present
      const int out = R - j < W ? R - j : W;
      const Reg v = in >= W ? V::loadu(src + p * ld + j) : in > 0 ? V::loadu_n(src + p * ld + j, int(in)) : V::zero();
      if (out == W) V::storeu(dst + p * R + j, v);
      else V::storeu_n(dst + p * R + j, v, out);
    }
  }
}
