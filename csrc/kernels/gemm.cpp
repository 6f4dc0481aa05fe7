// The blocked GEMM driver (GotoBLAS / BLIS design) for float and double, and a simple exact
// path for integers. Per-ISA micro-kernels come from gemm_{generic,avx2,avx512}.cpp through
// gemm_ukernel.h; this file is built for baseline x86-64 and only calls them when cpu.h says
// the CPU can run them.
//
// Loops, outermost first (row-major C; see gemm_config.h for why A is the broadcast side):
//   i0 over M by mc   | p0 over K by kc: pack A(mc x kc) into mr-row micro-panels
//   j0 over N by nc   | pack B(kc x nc) into nr-column micro-panels
//   ir over mc by mr  | jr over nc by nr: micro-kernel on one mr x nr tile of C
// The first K block applies beta, later ones accumulate (beta = 1), and only the last one
// adds the bias and applies relu, so the epilogue happens on the tile in registers. Edge
// tiles are zero-padded in the packed panels and stored with masks by the kernels.
// Shape-driven shortcuts: a narrower kernel for N <= 16; A read in place when N spans at most
// two column panels, B read in place when M fits one row panel; and for a transposed A with
// few columns (weight gradients of small layers) C^T is computed instead (try_gemm_transposed).
// Threads each take a rectangle of C (split along M or N by a per-thread cost model) and run
// this whole sequence on it with their own thread-local packing buffers; no barriers, so a
// worker that starts late never delays the caller (see parallel_pool.cpp).
// (Tried and dropped: row-dot kernels vectorised along k for N = 10 ran at ~0.8x of the 16x16
// tile on this machine.)
#include "kernels/gemm.h"
#include "capture/recorder.h"
#include <algorithm>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <type_traits>
#include "core/error.h"
#include "kernels/denormal.h"
#include "kernels/gemm_config.h"
#include "kernels/gemm_ukernel.h"
#include "kernels/parallel.h"
#include "kernels/unary_simd.h"
#include <cmath>

namespace tl::kernels {
namespace {

constexpr int64_t kDirectBMaxRows = 128, kDirectBMaxRowBytes = 2048;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }
int64_t round_down(int64_t a, int64_t b) { return a / b * b; }

// A 64-byte aligned scratch buffer that only grows: each thread keeps one for A and one for B,
// so steady-state GEMM calls never touch the heap.
class PackBuffer {
 public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { std::free(data_); }
  template <class T>
  T* get(int64_t count) {
    const size_t bytes = size_t(round_up(std::max<int64_t>(count, 1) * int64_t(sizeof(T)), 64));
    if (bytes > capacity_) {
      std::free(data_);
      data_ = nullptr;
      capacity_ = 0;
      void* p = std::aligned_alloc(64, bytes);
      if (!p) throw std::bad_alloc();
      data_ = p;
      capacity_ = bytes;
    }
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

thread_local PackBuffer tls_pack_a, tls_pack_b, tls_gather_a;

template <class T>
const GemmKernels<T>& kernels_for(Isa isa) {
  switch (isa) {
#ifdef TL_X86
    case Isa::Avx512: return gemm_kernels_avx512<T>();
    case Isa::Avx2: return gemm_kernels_avx2<T>();
#endif
    default: return gemm_kernels_generic<T>();
  }
}

// Blocking for one micro-kernel shape from the cache sizes.
template <class T>
GemmBlocking blocking_for(const UkrShape<T>& u) {
  const CacheInfo& c = cache_info();
  GemmBlocking b;
  b.mr = u.mr;
  b.nr = u.nr;
  // An mr x kc micro-panel of A takes about half of L1; B streams through the rest.
  b.kc = std::clamp<int64_t>(round_down(c.l1d / 2 / (u.mr * int64_t(sizeof(T))), 16), 64, 512);
  // A kc x nc block of packed B takes about half of L2.
  b.nc = std::max<int64_t>(round_down(c.l2 / 2 / (b.kc * int64_t(sizeof(T))), u.nr), u.nr);
  // An mc x kc block of packed A in (a share of) L3; capped to bound the per-thread buffer.
  b.mc = std::clamp<int64_t>(round_down(c.l3 / 4 / (b.kc * int64_t(sizeof(T))), u.mr), u.mr,
                             round_down(2048, u.mr));
  return b;
}

// dst[p * R + r] = src[r * ld + p] for r < rows, 0 for rows <= r < R (p < k).
template <class T>
void pack_transpose(const T* src, int64_t ld, int64_t rows, int64_t k, int R, T* dst) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* s = src + r * ld;
    T* d = dst + r;
    for (int64_t p = 0; p < k; ++p) d[p * R] = s[p];
  }
  for (int64_t r = rows; r < R; ++r)
    for (int64_t p = 0; p < k; ++p) dst[p * R + r] = T(0);
}

// dst[p * R + r] = src[p * ld + r] for r < cols, 0 for cols <= r < R (p < k).
template <class T>
void pack_copy(const T* src, int64_t ld, int64_t cols, int64_t k, int R, T* dst) {
  for (int64_t p = 0; p < k; ++p) {
    T* d = dst + p * R;
    std::memcpy(d, src + p * ld, size_t(cols) * sizeof(T));
    for (int64_t r = cols; r < R; ++r) d[r] = T(0);
  }
}

template <class T>
struct Problem {
  bool ta, tb;
  int64_t M, N, K;
  T alpha;
  const T* A;
  int64_t lda;
  const T* B;
  int64_t ldb;
  T beta;
  T* C;
  int64_t ldc;
  const T* bias;
  bool relu;
  Activation post;  // Tanh / Sigmoid, applied to each finished row panel (None otherwise)
  const ASource<T>* asrc = nullptr;  // A is packed by this instead (A is then null)
  int64_t a_row0 = 0;                // this problem's first row of asrc's op(A)

  // op(A)[i, p] and op(B)[p, j] as pointers into the stored matrices.
  const T* a_at(int64_t i, int64_t p) const { return ta ? A + p * lda + i : A + i * lda + p; }
  const T* b_at(int64_t p, int64_t j) const { return tb ? B + j * ldb + p : B + p * ldb + j; }
};

// Packs one micro-panel: `lines` (<= R) rows of op(A) or columns of op(B), each k deep, into
// dst[p * R + r]. When the stored matrix keeps a line's k values contiguous (src[r * ld + p]:
// A not transposed, B transposed) this is a transpose; otherwise a row-by-row copy.
template <class T>
void pack_panel(const T* src, int64_t ld, bool k_contiguous, int64_t lines, int64_t k, int R,
                const GemmKernels<T>& ks, T* dst) {
  if (!k_contiguous) (ks.pack_copy ? ks.pack_copy : pack_copy<T>)(src, ld, lines, k, R, dst);
  else (ks.pack_trans ? ks.pack_trans : pack_transpose<T>)(src, ld, lines, k, R, dst);
}

// Depth of the K blocks: even splits, e.g. K = 784 with kc = 512 gives two of 392.
int64_t even_kc(int64_t K, int64_t kc) { return round_up(ceil_div(K, ceil_div(K, kc)), 8); }

// Few column panels: packing A would not be amortised, so the kernel reads A in place (only edge
// rows get packed).
template <class T>
bool reads_a_in_place(const Problem<T>& pr, int64_t N, int NR) {
  return N <= 2 * NR && !pr.asrc;
}
// Few row panels: each B panel is used at most a few times, so full-width panels of a
// row-major B are read in place (b_stride = ldb) and only the edge panel is packed
// (zero-padded). With one row panel that always pays; with up to 128 rows only when B's rows
// are close together (measured on AVX-512: (32x784)@(784x512) 107 -> 130 GFLOP/s, the MNIST
// shapes equal or better; with 8 KB between rows the in-place panel thrashes L1 and runs at
// half speed).
template <class T>
bool reads_b_in_place(const Problem<T>& pr, int64_t M, int MR) {
  return !pr.tb && (M <= MR || (M <= kDirectBMaxRows && pr.ldb * int64_t(sizeof(T)) <= kDirectBMaxRowBytes));
}

// The whole blocked algorithm on one rectangle of C, on the calling thread.
template <class T>
void gemm_blocked(const Problem<T>& pr, const UkrShape<T>& u, const GemmBlocking& bl, const GemmKernels<T>& ks) {
  const int MR = u.mr, NR = u.nr;
  const int64_t M = pr.M, N = pr.N, K = pr.K;
  // A read in place: k-major when A is transposed, row by row otherwise.
  const bool direct_a = reads_a_in_place(pr, N, NR);
  const int amode = (direct_a && !pr.ta) ? kARowMajor : kAKMajor;
  // An implicit A packs a whole mc x kc block, in its own layout. With few column panels the
  // kernel reads that block as it is (row-major, or k-major with stride S); otherwise the
  // micro-panels are packed from what it gathers, as from a stored A.
  const bool a_rows = pr.asrc && pr.asrc->row_major();
  const bool src_layout = pr.asrc && N <= 2 * NR;
  const int pmode = a_rows ? kARowMajor : kAKMajor;
  const bool direct_b = reads_b_in_place(pr, M, MR);

  const int64_t kc = even_kc(K, bl.kc);
  // A gathered row-major block read in place serves at most two column panels: keeping it
  // small enough to stay in L2 (a quarter of it) from its packing to its use beats a large mc.
  const int64_t l2_rows = round_down(cache_info().l2 / 4 / (kc * int64_t(sizeof(T))), MR);
  const int64_t mc_cap = src_layout && a_rows ? std::clamp<int64_t>(l2_rows, MR, bl.mc) : bl.mc;
  const int64_t mc = round_up(ceil_div(M, ceil_div(M, mc_cap)), MR);
  const int64_t nc = round_up(ceil_div(N, ceil_div(N, bl.nc)), NR);

  T* abuf = tls_pack_a.get<T>(direct_a ? MR * kc : std::min(mc, round_up(M, MR)) * kc);
  T* bbuf = tls_pack_b.get<T>(kc * std::min(nc, round_up(N, NR)));
  UkrArgs<T> args{};
  args.alpha = pr.alpha;
  args.ldc = pr.ldc;

  for (int64_t i0 = 0; i0 < M; i0 += mc) {
    const int64_t mb = std::min(mc, M - i0);
    for (int64_t p0 = 0; p0 < K; p0 += kc) {
      const int64_t kb = std::min(kc, K - p0);
      const bool first = p0 == 0, last = p0 + kb == K;
      const T beta = first ? pr.beta : T(1);
      if (src_layout) {
        pr.asrc->pack(pr.a_row0 + i0, mb, p0, kb, MR, abuf);
      } else if (a_rows) {
        // Row-major panels are gathered one micro-panel at a time (in L1) and transposed.
        T* rows = tls_gather_a.get<T>(MR * kb);
        for (int64_t ir = 0; ir < mb; ir += MR) {
          const int64_t m = std::min<int64_t>(MR, mb - ir);
          pr.asrc->pack(pr.a_row0 + i0 + ir, m, p0, kb, MR, rows);
          pack_panel(rows, kb, true, m, kb, MR, ks, abuf + ir * kb);
        }
      } else if (pr.asrc) {
        // A column-major source walks each depth column once for the whole block (for a conv,
        // one patch walk per pixel), then each micro-panel is copied out of it.
        const int64_t S = round_up(mb, MR);
        T* block = tls_gather_a.get<T>(S * kb);
        pr.asrc->pack(pr.a_row0 + i0, mb, p0, kb, MR, block);
        for (int64_t ir = 0; ir < mb; ir += MR)
          pack_panel(block + ir, S, false, std::min<int64_t>(MR, mb - ir), kb, MR, ks, abuf + ir * kb);
      } else if (!direct_a)
        for (int64_t ir = 0; ir < mb; ir += MR)
          pack_panel(pr.a_at(i0 + ir, p0), pr.lda, !pr.ta, std::min<int64_t>(MR, mb - ir), kb, MR, ks,
                     abuf + ir * kb);

      for (int64_t j0 = 0; j0 < N; j0 += nc) {
        const int64_t nb = std::min(nc, N - j0);
        for (int64_t jr = 0; jr < nb; jr += NR)
          if (!direct_b || nb - jr < NR) pack_panel(pr.b_at(p0, j0 + jr), pr.ldb, pr.tb, std::min<int64_t>(NR, nb - jr), kb, NR, ks,
                     bbuf + jr * kb);

        for (int64_t ir = 0; ir < mb; ir += MR) {
          const int64_t m = std::min<int64_t>(MR, mb - ir);
          const int64_t i = i0 + ir;
          if (src_layout) {
            args.a = a_rows ? abuf + ir * kb : abuf + ir;
            args.a_stride = a_rows ? kb : round_up(mb, MR);
          } else if (!direct_a) {
            args.a = abuf + ir * kb;
            args.a_stride = MR;
          } else if (m == MR) {
            args.a = pr.a_at(i, p0);
            args.a_stride = pr.lda;
          } else {
            pack_panel(pr.a_at(i, p0), pr.lda, !pr.ta, m, kb, MR, ks, abuf);
            args.a = abuf;
            args.a_stride = MR;
          }
          const UkrFn<T> fn = u.fn[src_layout ? pmode : (direct_a && m == MR) ? amode : kAKMajor];
          args.k = kb;
          for (int64_t jr = 0; jr < nb; jr += NR) {
            const int64_t n = std::min<int64_t>(NR, nb - jr);
            const int64_t j = j0 + jr;
            const bool in_place = direct_b && n == NR;
            args.b = in_place ? pr.b_at(p0, j) : bbuf + jr * kb;
            args.b_stride = in_place ? pr.ldb : NR;
            args.c = pr.C + i * pr.ldc + j;
            args.m = int(m);
            args.n = int(n);
            args.beta = beta;
            args.bias = (last && pr.bias) ? pr.bias + j : nullptr;
            args.relu = last && pr.relu;
            fn(args);
          }
          if (last && pr.post != Activation::None)  // the panel's rows are final and still in cache
            for (int64_t r = 0; r < m; ++r) apply_activation(pr.C + (i + r) * pr.ldc + j0, nb, pr.post);
        }
      }
    }
  }
}

// C = beta * C, then the epilogue: the whole GEMM when K == 0 or alpha == 0 (as in BLAS,
// A and B are then not read).
template <class T>
void scale_and_epilogue(const Problem<T>& pr) {
  for (int64_t i = 0; i < pr.M; ++i) {
    T* c = pr.C + i * pr.ldc;
    for (int64_t j = 0; j < pr.N; ++j) {
      T v = pr.beta == T(0) ? T(0) : pr.beta * c[j];
      if (pr.bias) v += pr.bias[j];
      if (pr.relu && v <= T(0)) v = T(0);
      c[j] = v;
    }
    if (pr.post != Activation::None) apply_activation(c, pr.N, pr.post);
  }
}

// [begin, end) of part `idx` when `total` is cut into `parts` pieces aligned to `align`.
void split_range(int64_t total, int64_t parts, int64_t align, int64_t idx, int64_t* begin, int64_t* end) {
  const int64_t units = ceil_div(total, align);
  const int64_t lo = units * idx / parts, hi = units * (idx + 1) / parts;
  *begin = std::min(total, lo * align);
  *end = std::min(total, hi * align);
}

thread_local PackBuffer tls_transposed_c;

// Fraction of the lanes (or rows) doing useful work when `n` is cut into tiles of `tile`.
double tile_use(int64_t n, int64_t tile) { return double(n) / double(round_up(n, tile)); }

template <class T>
void gemm_float(const Problem<T>& pr);

// Few output columns and a transposed A (the weight gradient of a classifier layer,
// h^T @ dY with N = 10): the kernels put N in vector lanes, 10 of 16 used. Computing
// C^T = op(B)^T op(A)^T instead puts N in register rows (10 of 12) and packs op(A)^T by plain
// copies. C^T goes to a scratch buffer; the epilogue is applied while transposing it into C.
template <class T>
bool try_gemm_transposed(const Problem<T>& pr, const GemmKernels<T>& ks, const UkrShape<T>& u) {
  const UkrShape<T>& w = ks.wide;
  if (pr.asrc || !pr.ta || pr.N >= w.nr || pr.N > 32 || pr.M < w.nr) return false;
  if (tile_use(pr.N, w.mr) < tile_use(pr.N, u.nr) + 0.1) return false;
  const int64_t M = pr.M, N = pr.N;
  T* ct = tls_transposed_c.get<T>(N * M);
  const Problem<T> t{!pr.tb, false, N, M, pr.K, T(1), pr.B, pr.ldb, pr.A, pr.lda, T(0), ct, M, nullptr, false,
                     Activation::None};
  gemm_float(t);
  // Column by column: C^T's rows are read in order and C (N <= 32 columns, a few KB per
  // hundred rows) stays in L1 for the strided stores. The common case (alpha 1, beta 0, no
  // epilogue) is a plain copy; the conditions are loop-invariant, so the compiler unswitches.
  const T alpha = pr.alpha, beta = pr.beta;
  const bool plain = alpha == T(1) && beta == T(0) && !pr.bias && !pr.relu;
  for (int64_t j = 0; j < N; ++j) {
    const T* src = ct + j * M;
    T* c = pr.C + j;
    if (plain) {
      for (int64_t i = 0; i < M; ++i) c[i * pr.ldc] = src[i];
      continue;
    }
    const T b = pr.bias ? pr.bias[j] : T(0);
    for (int64_t i = 0; i < M; ++i) {
      T v = alpha * src[i];
      if (beta != T(0)) v += beta * c[i * pr.ldc];
      if (pr.bias) v += b;  // only when there is one: -0.0 + 0.0 would lose the sign
      if (pr.relu) v = v <= T(0) ? T(0) : v;  // NaN stays NaN
      c[i * pr.ldc] = v;
    }
  }
  if (pr.post != Activation::None)
    for (int64_t i = 0; i < M; ++i) apply_activation(pr.C + i * pr.ldc, N, pr.post);
  return true;
}

template <class T>
void gemm_float(const Problem<T>& pr) {
  const Isa isa = active_isa();
  const GemmKernels<T>& ks = kernels_for<T>(isa);
  const bool narrow = pr.N <= ks.narrow.nr && ks.narrow.nr < ks.wide.nr;
  const UkrShape<T>& u = narrow ? ks.narrow : ks.wide;
  if (try_gemm_transposed(pr, ks, u)) return;
  const GemmBlocking bl = blocking_for<T>(u);

  // Thread grid tm x tn over C; each thread runs the blocked algorithm on its rectangle with
  // its own packing, so a split along N makes every thread pack all of A and a split along M
  // all of B. Pick the grid with the least per-thread time: its share of the flops times the
  // tile imbalance, plus its packing at ~kPackFlops flops per element, counting only what its
  // rectangle packs (an operand read in place costs nothing: splitting a 128-row GEMM along M
  // leaves B unpacked, e.g. (128x784)@(784x256) per thread 336 -> 327 us, (256x128)^T@(128x256)
  // 119 -> 114 us measured on the AVX2 EPYC). (Sharing one packed B between threads was measured
  // here: it saved ~2% of CPU time and added waits, so no.)
  constexpr double kPackFlops = 40;
  const double flops = 2.0 * double(pr.M) * double(pr.N) * double(pr.K);
  int64_t nt = flops >= kGemmParallelFlops ? get_num_threads() : 1;
  const int64_t tiles_m = ceil_div(pr.M, u.mr), tiles_n = ceil_div(pr.N, u.nr);
  nt = std::max<int64_t>(1, std::min(nt, tiles_m * tiles_n));
  int64_t tm = 1, tn = 1;
  double best = -1;
  for (int64_t cn = 1; cn <= nt && nt > 1; ++cn) {
    if (nt % cn) continue;
    const int64_t cm = nt / cn;
    if (cm > tiles_m || cn > tiles_n) continue;
    const double imbalance =
        double(ceil_div(tiles_m, cm) * ceil_div(tiles_n, cn)) * double(nt) / double(tiles_m * tiles_n);
    const int64_t sub_m = ceil_div(tiles_m, cm) * u.mr, sub_n = ceil_div(tiles_n, cn) * u.nr;
    const double pack = double(pr.K) * ((reads_a_in_place(pr, sub_n, u.nr) ? 0.0 : double(pr.M) / double(cm)) +
                                        (reads_b_in_place(pr, sub_m, u.mr) ? 0.0 : double(pr.N) / double(cn)));
    const double cost = flops / double(nt) * imbalance + kPackFlops * pack;
    if (best < 0 || cost < best) best = cost, tm = cm, tn = cn;
  }
  if (tm * tn == 1) {
    gemm_blocked(pr, u, bl, ks);
    return;
  }
  parallel_for(0, tm * tn, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      int64_t i0, i1, j0, j1;
      split_range(pr.M, tm, u.mr, t / tn, &i0, &i1);
      split_range(pr.N, tn, u.nr, t % tn, &j0, &j1);
      if (i0 >= i1 || j0 >= j1) continue;
      Problem<T> sub = pr;
      sub.M = i1 - i0;
      sub.N = j1 - j0;
      if (pr.asrc) sub.a_row0 = pr.a_row0 + i0;
      else sub.A = pr.a_at(i0, 0);
      sub.B = pr.b_at(0, j0);
      sub.C = pr.C + i0 * pr.ldc + j0;
      sub.bias = pr.bias ? pr.bias + j0 : nullptr;
      gemm_blocked(sub, u, bl, ks);
    }
  });
}

// Integers: exact i-k-j loops. Arithmetic wraps modulo 2^bits like NumPy (done in the
// unsigned type, since signed overflow is undefined behaviour in C++).
template <class T>
void gemm_integer(const Problem<T>& pr) {
  using U = std::make_unsigned_t<T>;
  for (int64_t i = 0; i < pr.M; ++i) {
    T* c = pr.C + i * pr.ldc;
    U* row = reinterpret_cast<U*>(c);
    // Accumulate alpha * A @ B into the row on top of beta * C.
    for (int64_t j = 0; j < pr.N; ++j) row[j] = pr.beta == T(0) ? U(0) : U(U(pr.beta) * U(c[j]));
    for (int64_t p = 0; p < pr.K; ++p) {
      const U a = U(U(pr.alpha) * U(*pr.a_at(i, p)));
      if (a == 0) continue;
      for (int64_t j = 0; j < pr.N; ++j) row[j] = U(row[j] + U(a * U(*pr.b_at(p, j))));
    }
    for (int64_t j = 0; j < pr.N; ++j) {
      U v = row[j];
      if (pr.bias) v = U(v + U(pr.bias[j]));
      T s = T(v);
      if (pr.relu && s < T(0)) s = T(0);
      c[j] = s;
    }
  }
}

template <class T>
void check_args(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                int64_t ldb, const T* C, int64_t ldc) {
  TL_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm", "negative size: M=", M, " N=", N, " K=", K);
  // Stored shapes: A is (M, K) or (K, M) when transposed; B is (K, N) or (N, K).
  const int64_t a_rows = ta ? K : M, a_cols = ta ? M : K;
  const int64_t b_rows = tb ? N : K, b_cols = tb ? K : N;
  if (M > 0 && N > 0 && K > 0) {
    TL_CHECK(A && B, "gemm", "null input pointer");
    TL_CHECK(a_rows <= 1 || lda >= a_cols, "gemm", "lda=", lda, " < ", a_cols, " columns of A");
    TL_CHECK(b_rows <= 1 || ldb >= b_cols, "gemm", "ldb=", ldb, " < ", b_cols, " columns of B");
  }
  if (M > 0 && N > 0) {
    TL_CHECK(C, "gemm", "null output pointer");
    TL_CHECK(M <= 1 || ldc >= N, "gemm", "ldc=", ldc, " < ", N, " columns of C");
  }
}

}  // namespace

template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc, const Epilogue<T>& ep) {
  TL_CAPTURE_KERNEL((C), (A, B, ep.bias, beta != T(0) ? static_cast<const T*>(C) : nullptr), gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ep));
  check_args(ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
  TL_CHECK(std::is_floating_point_v<T> || ep.act == Activation::None || ep.act == Activation::Relu, "gemm",
           "a tanh or sigmoid epilogue needs a float dtype");
  if (M == 0 || N == 0) return;
  const bool post = ep.act == Activation::Tanh || ep.act == Activation::Sigmoid;
  const Problem<T> pr{ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, ep.bias, ep.act == Activation::Relu,
                      post ? ep.act : Activation::None};
  if constexpr (std::is_floating_point_v<T>) {
    DenormalGuard flush_mode;  // the packing on this thread too, not only the pool's chunks
    if (K == 0 || alpha == T(0)) return scale_and_epilogue(pr);
    gemm_float(pr);
  } else {
    gemm_integer(pr);
  }
}

template <class T>
void apply_activation(T* x, int64_t n, Activation act) {
  if constexpr (std::is_same_v<T, float>) {  // the unary kernels' own float32 loops, per ISA
    if (act == Activation::Tanh) return f32_unary_loops().tanh(x, x, n);
    if (act == Activation::Sigmoid) return f32_unary_loops().sigmoid(x, x, n);
  }
  if constexpr (std::is_same_v<T, double>) {  // as kernels/unary.cpp computes double: tanh by its per-ISA loop
    if (act == Activation::Tanh) return f32_unary_loops().tanh64(x, x, n);
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (act == Activation::Sigmoid)
      for (int64_t i = 0; i < n; ++i) {
        const T e = std::exp(-std::fabs(x[i]));
        x[i] = (x[i] < 0 ? e : T(1)) / (T(1) + e);
      }
  }
  if (act == Activation::Relu)
    for (int64_t i = 0; i < n; ++i) x[i] = x[i] > T(0) || x[i] != x[i] ? x[i] : T(0);
}
template void apply_activation<float>(float*, int64_t, Activation);
template void apply_activation<double>(double*, int64_t, Activation);

template <class T>
void gemm_implicit_a(const ASource<T>& a, int64_t M, int64_t N, int64_t K, const T* B, int64_t ldb, T beta, T* C,
                     int64_t ldc, const Epilogue<T>& ep) {
  TL_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm", "negative size: M=", M, " N=", N, " K=", K);
  TL_CHECK(M == 0 || N == 0 || K == 0 || (B && (K <= 1 || ldb >= N)), "gemm", "B null or ldb=", ldb, " < ", N,
           " columns");
  TL_CHECK(M == 0 || N == 0 || (C && (M <= 1 || ldc >= N)), "gemm", "C null or ldc=", ldc, " < ", N, " columns");
  if (M == 0 || N == 0) return;
  const bool post = ep.act == Activation::Tanh || ep.act == Activation::Sigmoid;
  Problem<T> pr{false, false, M, N, K, T(1), nullptr, K, B, ldb, beta, C, ldc, ep.bias, ep.act == Activation::Relu,
                post ? ep.act : Activation::None};
  pr.asrc = &a;
  DenormalGuard flush_mode;
  if (K == 0) return scale_and_epilogue(pr);
  gemm_float(pr);
}

template <class T>
GemmBlocking gemm_blocking(Isa isa) {
  return blocking_for<T>(kernels_for<T>(isa).wide);
}

// Timed in this thread's CPU time, so time spent descheduled on a busy machine does not count.
static double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double measure_fma_peak_gflops(Isa isa) {
  TL_CHECK(isa_supported(isa), "gemm", isa_name(isa), " is not supported on this machine");
  const auto probe = kernels_for<float>(isa).fma_probe;
  alignas(64) float sink[16];
  double best = 0;
  int64_t iters = 1 << 16;
  for (int run = 0; run < 8; ++run) {
    const double t0 = thread_seconds();
    const double flops = probe(iters, sink);
    const double sec = thread_seconds() - t0;
    if (sec < 5e-3) iters *= 4;  // too short to time: grow, and do not count it
    else best = std::max(best, flops / sec * 1e-9);
  }
  return best;
}

#define TL_INSTANTIATE(T)                                                                                     \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, int64_t, T, \
                        T*, int64_t, const Epilogue<T>&);
TL_INSTANTIATE(float)
TL_INSTANTIATE(double)
TL_INSTANTIATE(int64_t)
TL_INSTANTIATE(int32_t)
TL_INSTANTIATE(uint8_t)
#undef TL_INSTANTIATE
template void gemm_implicit_a<float>(const ASource<float>&, int64_t, int64_t, int64_t, const float*, int64_t, float,
                                     float*, int64_t, const Epilogue<float>&);
template void gemm_implicit_a<double>(const ASource<double>&, int64_t, int64_t, int64_t, const double*, int64_t,
                                      double, double*, int64_t, const Epilogue<double>&);
template GemmBlocking gemm_blocking<float>(Isa);
template GemmBlocking gemm_blocking<double>(Isa);

}  // namespace tl::kernels
