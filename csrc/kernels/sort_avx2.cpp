// AVX2 quicksort of value sorts (sort_simd.h). Compiled with -mavx2; called only when cpu.h
// reports AVX2. Everything but the entry points has internal linkage and no std:: algorithm is
// instantiated here, so no AVX2 code can be picked by the linker for a baseline caller.
//
// Ideas from x86-simd-sort and Highway's vqsort (own code): in-place partition that keeps
// kUnroll vectors from each end in registers and always reads from the side with less free
// room, so full-vector stores at both write heads never clobber unread data; one permutation per
// comparison mask puts the left keys first and the right ones last, and that one vector is
// stored at both heads. Keys <= pivot go left; when nothing lands right (many copies of the
// largest key) the copies of the maximum are split off instead, so duplicates cost one extra pass.
// Only built on x86 (TL_X86); sort.cpp calls it only there.
#ifdef TL_X86
#include <immintrin.h>

#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/sort_simd.h"

namespace tl::kernels {
namespace {

// ---- 8 x int32 ----
struct V32 {
  using K = int32_t;
  static constexpr int L = 8;
  static __m256i load(const K* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store(K* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static __m256i set1(K k) { return _mm256_set1_epi32(k); }
  static __m256i vmin(__m256i a, __m256i b) { return _mm256_min_epi32(a, b); }
  static __m256i vmax(__m256i a, __m256i b) { return _mm256_max_epi32(a, b); }
  static unsigned gt_mask(__m256i a, __m256i b) {
    return unsigned(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(a, b))));
  }
  static __m256i reverse(__m256i v) { return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0)); }
  // Compare-exchange of every lane with the lane `p` holds; lanes in `hi` (a blend mask) keep the max.
  template <int kHi> static __m256i exchange(__m256i v, __m256i p) {
    return _mm256_blend_epi32(vmin(v, p), vmax(v, p), kHi);
  }
  // Sorts one vector: bitonic network, each merge compares a lane with its mirror, then halves.
  static __m256i sort_vec(__m256i v) {
    v = exchange<0xAA>(v, _mm256_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    v = exchange<0xCC>(v, _mm256_shuffle_epi32(v, _MM_SHUFFLE(0, 1, 2, 3)));
    v = exchange<0xAA>(v, _mm256_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    v = exchange<0xF0>(v, reverse(v));
    return merge_vec(v);
  }
  // Sorts a bitonic vector (half-cleaners at distance 4, 2, 1).
  static __m256i merge_vec(__m256i v) {
    v = exchange<0xF0>(v, _mm256_permute2x128_si256(v, v, 1));
    v = exchange<0xCC>(v, _mm256_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
    return exchange<0xAA>(v, _mm256_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
  }
  // The permutation that moves the lanes whose bit in `mask` is clear to the front (in order)
  // and the set ones to the back: 8 nibbles per mask, expanded with variable shifts.
  static __m256i compress_perm(unsigned mask);
};

struct CompressTable32 {
  uint32_t packed[256];
  constexpr CompressTable32() : packed() {
    for (unsigned m = 0; m < 256; ++m) {
      uint32_t p = 0;
      int slot = 0;
      for (int pass = 0; pass < 2; ++pass)
        for (int lane = 0; lane < 8; ++lane)
          if (((m >> lane) & 1u) == unsigned(pass)) p |= uint32_t(lane) << (4 * slot++);
      packed[m] = p;
    }
  }
};
constexpr CompressTable32 kCompress32{};

inline __m256i V32::compress_perm(unsigned mask) {
  const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  return _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(int(kCompress32.packed[mask])), shifts),
                          _mm256_set1_epi32(15));
}

// ---- 4 x int64 ----
struct V64 {
  using K = int64_t;
  static constexpr int L = 4;
  static __m256i load(const K* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void store(K* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static __m256i set1(K k) { return _mm256_set1_epi64x(k); }
  static __m256i vmin(__m256i a, __m256i b) { return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(a, b)); }
  static __m256i vmax(__m256i a, __m256i b) { return _mm256_blendv_epi8(b, a, _mm256_cmpgt_epi64(a, b)); }
  static unsigned gt_mask(__m256i a, __m256i b) {
    return unsigned(_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(a, b))));
  }
  static __m256i reverse(__m256i v) { return _mm256_permute4x64_epi64(v, _MM_SHUFFLE(0, 1, 2, 3)); }
  // kHi: a 32-bit-lane blend mask (two bits per 64-bit lane). A lane takes its partner's key
  // when it is a min lane and v > p, or a max lane and not (v > p) (equal keys: either is right),
  // so one compare, one xor and one blend do both sides.
  template <int kHi> static __m256i exchange(__m256i v, __m256i p) {
    const __m256i hi = _mm256_blend_epi32(_mm256_setzero_si256(), _mm256_set1_epi32(-1), kHi);
    return _mm256_blendv_epi8(v, p, _mm256_xor_si256(_mm256_cmpgt_epi64(v, p), hi));
  }
  // Neighbour swaps stay inside 128-bit lanes (one cheap shuffle); only the mirror crosses them.
  static __m256i swap1(__m256i v) { return _mm256_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)); }
  static __m256i sort_vec(__m256i v) {
    v = exchange<0xCC>(v, swap1(v));
    v = exchange<0xF0>(v, reverse(v));
    return exchange<0xCC>(v, swap1(v));
  }
  static __m256i merge_vec(__m256i v) {
    v = exchange<0xF0>(v, _mm256_permute2x128_si256(v, v, 1));
    return exchange<0xCC>(v, swap1(v));
  }
  static __m256i compress_perm(unsigned mask);
};

// 32-bit lane indices (two per 64-bit lane) for permutevar8x32.
struct CompressTable64 {
  int32_t idx[16][8];
  constexpr CompressTable64() : idx() {
    for (unsigned m = 0; m < 16; ++m) {
      int slot = 0;
      for (int pass = 0; pass < 2; ++pass)
        for (int lane = 0; lane < 4; ++lane)
          if (((m >> lane) & 1u) == unsigned(pass)) {
            idx[m][2 * slot] = 2 * lane;
            idx[m][2 * slot + 1] = 2 * lane + 1;
            ++slot;
          }
    }
  }
};
constexpr CompressTable64 kCompress64{};

inline __m256i V64::compress_perm(unsigned mask) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kCompress64.idx[mask]));
}

// What a leaf does with its sorted keys before storing them: KeepKeys leaves them (pivot
// samples); ToValues<T> (below) turns them back into values, so no pass over the row is needed
// afterwards. Every key goes through exactly one leaf or F::range.
struct KeepKeys {
  static __m256i vec(__m256i v) { return v; }
  template <class K> static void range(K*, int64_t) {}
};

// ---- bitonic sort of R vectors (R a power of two) ----
// Vectors from `used` on hold only the largest key (padding). They need no work until a merge
// brings real keys next to them: a block whose upper half is all padding is already merged, and
// after each level the padding is back in the last vectors (the merged block ends with the
// largest keys), so only sort_vec / merge_vec of vectors below `used` and blocks that start
// below `used - w` cost anything. That saves most of the padding a power of two would add.
template <class V, int R>
inline void sort_regs(__m256i* v, int used) {
  for (int i = 0; i < R; ++i)
    if (i < used) v[i] = V::sort_vec(v[i]);
  for (int w = 1; w < R; w *= 2) {  // merge sorted blocks of w vectors pairwise
    for (int b = 0; b < R; b += 2 * w) {
      if (b + w >= used) break;
      // Reverse the upper block (lanes and vector order), then compare lane by lane: both
      // halves become bitonic and every element of the lower one is <= every upper one.
      __m256i c[R / 2 > 0 ? R / 2 : 1];
      for (int i = 0; i < w; ++i) c[i] = V::reverse(v[b + 2 * w - 1 - i]);
      for (int i = 0; i < w; ++i) {
        const __m256i a = v[b + i];
        v[b + i] = V::vmin(a, c[i]);
        v[b + w + i] = V::vmax(a, c[i]);
      }
      for (int d = w / 2; d >= 1; d /= 2)  // half-cleaners across vectors
        for (int j = b; j < b + 2 * w; j += 2 * d)
          for (int i = j; i < j + d; ++i) {
            const __m256i a = v[i], e = v[i + d];
            v[i] = V::vmin(a, e);
            v[i + d] = V::vmax(a, e);
          }
    }
    for (int i = 0; i < R; ++i)  // and within each vector (each holds its final keys by now)
      if (i < used) v[i] = V::merge_vec(v[i]);
  }
}

// The largest network: 256 int32 keys (32 vectors), as x86-simd-sort uses on AVX2; bigger leaves
// mean fewer partition passes, and the network runs in L1. For 4-lane int64 vectors most of a
// network's work is the in-vector merges every level needs, so 128 keys (32 vectors, one level
// less) measured faster than 256 (and than 64) on 1M random int64.
template <class V> constexpr int64_t kLeaf = V::L == 4 ? 128 : 256;
template <class V> constexpr int kMaxRegs = int(kLeaf<V> / V::L);

template <class V, class F, int R>
inline void sort_small_r(typename V::K* a, int64_t n) {
  using K = typename V::K;
  alignas(32) K buf[R * V::L];
  const int used = int((n + V::L - 1) / V::L);
  std::memcpy(buf, a, sizeof(K) * size_t(n));
  for (int64_t i = n; i < used * V::L; ++i) buf[i] = std::numeric_limits<K>::max();  // padding sorts last
  __m256i v[R];
  for (int i = 0; i < R; ++i) v[i] = i < used ? V::load(buf + i * V::L) : V::set1(std::numeric_limits<K>::max());
  sort_regs<V, R>(v, used);
  for (int i = 0; i < used; ++i) V::store(buf + i * V::L, F::vec(v[i]));
  std::memcpy(a, buf, sizeof(K) * size_t(n));
}

// n <= kLeaf keys: one bitonic network of the smallest power-of-two number of vectors.
template <class V, class F = KeepKeys>
void sort_small(typename V::K* a, int64_t n) {
  if (n <= V::L) return sort_small_r<V, F, 1>(a, n);
  if (n <= 2 * V::L) return sort_small_r<V, F, 2>(a, n);
  if (n <= 4 * V::L) return sort_small_r<V, F, 4>(a, n);
  if (n <= 8 * V::L) return sort_small_r<V, F, 8>(a, n);
  if (n <= 16 * V::L) return sort_small_r<V, F, 16>(a, n);
  if (n <= 32 * V::L) return sort_small_r<V, F, 32>(a, n);
  if constexpr (kMaxRegs<V> >= 64) {
    if (n <= 64 * V::L) return sort_small_r<V, F, 64>(a, n);
  }
}

// Stores the left keys of `cur` (<= pivot) at the left head and the right ones at the right head.
template <class V>
inline void partition_vec(typename V::K* a, int64_t& ls, int64_t& rs, __m256i cur, __m256i pivot) {
  const unsigned m = V::gt_mask(cur, pivot);
  const int right = __builtin_popcount(m);
  const __m256i p = _mm256_permutevar8x32_epi32(cur, V::compress_perm(m));
  V::store(a + ls, p);
  V::store(a + rs - V::L, p);
  ls += V::L - right;
  rs -= right;
}

// Vectors read per step of the partition loop. The choice of side depends on the previous
// step's counts, so reading one vector at a time makes a serial chain (load, compare, popcount,
// compare) per vector; reading kUnroll at a time from the same side breaks it.
constexpr int kUnroll = 8;

// Partitions a[0, n) (n >= 2 kUnroll L) into keys <= pivot, then keys > pivot; returns the size
// of the first part. Equal keys are dealt with by the caller (min_max when nothing is > pivot).
template <class V>
int64_t partition(typename V::K* a, int64_t n, typename V::K pivot) {
  using K = typename V::K;
  constexpr int L = V::L, U = kUnroll;
  int64_t l = 0, r = n;
  for (int64_t c = n % L; c > 0; --c) {  // scalar steps until a whole number of vectors is left
    const K e = a[l];
    const bool right = e > pivot;  // branch-free swap with the last unread key when e is right
    const K t = a[r - 1];
    a[l] = right ? t : e;
    a[r - 1] = right ? e : t;
    l += !right;
    r -= right;
  }
  const __m256i pv = V::set1(pivot);
  // U vectors from each end wait in registers: that is the free room the stores start with.
  __m256i saved[2 * U];
  for (int i = 0; i < U; ++i) {
    saved[i] = V::load(a + l + i * L);
    saved[U + i] = V::load(a + r - (i + 1) * L);
  }
  int64_t ls = l, rs = r;
  l += U * L;
  r -= U * L;
  // Invariant: free room (l - ls) + (rs - r) = 2 U L. Reading from the side with less room
  // leaves both with at least U L, so none of the next U full-vector stores (each uses at most
  // L of a side's room) reaches unread keys. The side is chosen branch-free (it is random).
  while (r - l >= U * L) {
    const bool from_right = rs - r < l - ls;
    const int64_t at = from_right ? r - U * L : l;
    __m256i cur[U];
    for (int i = 0; i < U; ++i) cur[i] = V::load(a + at + i * L);
    r -= from_right ? U * L : 0;
    l += from_right ? 0 : U * L;
    for (int i = 0; i < U; ++i) partition_vec<V>(a, ls, rs, cur[i], pv);
  }
  while (l < r) {  // fewer than U vectors left: one at a time, same rule
    const bool from_right = rs - r < l - ls;
    const int64_t at = from_right ? r - L : l;
    const __m256i cur = V::load(a + at);
    r -= from_right ? L : 0;
    l += from_right ? 0 : L;
    partition_vec<V>(a, ls, rs, cur, pv);
  }
  for (int i = 0; i < 2 * U; ++i) partition_vec<V>(a, ls, rs, saved[i], pv);
  return ls;
}

// The guaranteed O(n log n) fallback when the recursion goes too deep.
template <class K>
void heap_sort(K* a, int64_t n) {
  auto sift = [a](int64_t i, int64_t end) {
    const K v = a[i];
    for (int64_t c = 2 * i + 1; c < end; c = 2 * i + 1) {
      if (c + 1 < end && a[c + 1] > a[c]) ++c;
      if (!(a[c] > v)) break;
      a[i] = a[c];
      i = c;
    }
    a[i] = v;
  };
  for (int64_t i = n / 2 - 1; i >= 0; --i) sift(i, n);
  for (int64_t end = n - 1; end > 0; --end) {
    const K t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift(0, end);
  }
}

// The median of an evenly spaced sample (sorted with the small network).
template <class V>
typename V::K choose_pivot(const typename V::K* a, int64_t n) {
  using K = typename V::K;
  const int s = n >= 65536 ? 64 : n >= 4096 ? 32 : 16;
  alignas(32) K sample[64];
  const int64_t step = n / s;
  for (int i = 0; i < s; ++i) sample[i] = a[i * step + step / 2];
  sort_small<V>(sample, s);
  return sample[s / 2];
}

// The smallest (kMax false) or largest key of a vector's lanes.
template <class V, bool kMax>
typename V::K reduce_lanes(__m256i v) {
  typename V::K t[V::L];
  V::store(t, v);
  typename V::K m = t[0];
  for (int i = 1; i < V::L; ++i) m = (kMax ? t[i] > m : t[i] < m) ? t[i] : m;
  return m;
}

// The smallest and largest of a[0, n) (n a positive multiple of L).
template <class V>
void min_max(const typename V::K* a, int64_t n, typename V::K& lo, typename V::K& hi) {
  __m256i vmin = V::load(a), vmax = vmin;
  for (int64_t i = V::L; i < n; i += V::L) {
    const __m256i v = V::load(a + i);
    vmin = V::vmin(vmin, v);
    vmax = V::vmax(vmax, v);
  }
  lo = reduce_lanes<V, false>(vmin);
  hi = reduce_lanes<V, true>(vmax);
}

template <class V, class F>
void quicksort(typename V::K* a, int64_t n, int depth_left) {
  using K = typename V::K;
  while (n > kLeaf<V>) {
    if (depth_left-- <= 0) {
      heap_sort(a, n);
      return F::range(a, n);
    }
    const K pivot = choose_pivot<V>(a, n);
    const int64_t b = partition<V>(a, n, pivot);
    if (b == n) {
      // Nothing is above the pivot (it is the largest key, often with many copies). Then
      // either every key is equal (done), or the copies of the largest key split off: they
      // need no more sorting, and the rest is strictly smaller, so each step makes progress.
      K lo, hi;
      min_max<V>(a + n % V::L, n - n % V::L, lo, hi);
      for (int64_t i = 0; i < n % V::L; ++i) {
        lo = a[i] < lo ? a[i] : lo;
        hi = a[i] > hi ? a[i] : hi;
      }
      if (lo == hi) return F::range(a, n);
      const int64_t below = partition<V>(a, n, K(hi - 1));
      F::range(a + below, n - below);
      n = below;
      continue;
    }
    // Recurse into the smaller side, loop on the larger: the stack stays O(log n).
    if (b < n - b) {
      quicksort<V, F>(a, b, depth_left);
      a += b;
      n -= b;
    } else {
      quicksort<V, F>(a + b, n - b, depth_left);
      n = b;
    }
  }
  sort_small<V, F>(a, n);
}

template <class V, class F>
void sort_keys(typename V::K* a, int64_t n) {
  int depth = 4;
  for (int64_t m = n; m > 1; m >>= 1) depth += 2;
  quicksort<V, F>(a, n, depth);
}

// ---- values <-> signed keys (the order of the keys is the sort order) ----
template <class T> using SKey = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;

template <class T, bool kDescending>
inline SKey<T> to_skey(T v) {
  using S = SKey<T>;
  using U = std::make_unsigned_t<S>;
  S s;
  if constexpr (std::is_floating_point_v<T>) {
    std::memcpy(&s, &v, sizeof s);
    s ^= S(U(s >> (sizeof(S) * 8 - 1)) >> 1);  // negative: flip all but the sign bit
    s = v == T(0) ? S(0) : s;                    // -0.0 and +0.0: one key
    s = kDescending ? S(~s) : s;
    s = v != v ? std::numeric_limits<S>::max() : s;  // NaN last in both directions
  } else if constexpr (std::is_unsigned_v<T>) {
    s = S(U(v) ^ (U(1) << (sizeof(S) * 8 - 1)));
    s = kDescending ? S(~s) : s;
  } else {
    s = kDescending ? S(~v) : S(v);
  }
  return s;
}

template <class T, bool kDescending>
inline T from_skey(SKey<T> s) {
  using S = SKey<T>;
  using U = std::make_unsigned_t<S>;
  if constexpr (std::is_floating_point_v<T>) {
    // NaN's key comes back as some NaN; the refill writes the real payloads.
    s = kDescending && s != std::numeric_limits<S>::max() ? S(~s) : s;
    s ^= S(U(s >> (sizeof(S) * 8 - 1)) >> 1);
    T v;
    std::memcpy(&v, &s, sizeof v);
    return v;
  } else if constexpr (std::is_unsigned_v<T>) {
    s = kDescending ? S(~s) : s;
    return T(U(s) ^ (U(1) << (sizeof(S) * 8 - 1)));
  } else {
    return kDescending ? T(~s) : T(s);
  }
}

// The leaves' finisher of a value sort: from_skey on a vector of keys, and on a range.
template <class T, bool kDescending>
struct ToValues {
  using S = SKey<T>;
  static __m256i vec(__m256i s) {
    const __m256i ones = _mm256_set1_epi32(-1);
    if constexpr (std::is_floating_point_v<T>) {
      if (kDescending) {  // NaN's key stays the largest
        const __m256i nan = sizeof(S) == 4 ? _mm256_cmpeq_epi32(s, _mm256_set1_epi32(std::numeric_limits<int32_t>::max()))
                                           : _mm256_cmpeq_epi64(s, _mm256_set1_epi64x(std::numeric_limits<int64_t>::max()));
        s = _mm256_xor_si256(s, _mm256_andnot_si256(nan, ones));
      }
      const __m256i neg = sizeof(S) == 4 ? _mm256_srai_epi32(s, 31) : _mm256_cmpgt_epi64(_mm256_setzero_si256(), s);
      return _mm256_xor_si256(s, sizeof(S) == 4 ? _mm256_srli_epi32(neg, 1) : _mm256_srli_epi64(neg, 1));
    } else {
      if (kDescending) s = _mm256_xor_si256(s, ones);
      if constexpr (std::is_unsigned_v<T>)
        s = _mm256_xor_si256(s, sizeof(S) == 4 ? _mm256_set1_epi32(std::numeric_limits<int32_t>::min())
                                               : _mm256_set1_epi64x(std::numeric_limits<int64_t>::min()));
      return s;
    }
  }
  static void range(S* a, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      const T v = from_skey<T, kDescending>(a[i]);
      std::memcpy(a + i, &v, sizeof v);
    }
  }
};

template <class T, bool kDescending>
void to_keys(const T* x, int64_t n, T* values, FloatCounts* counts) {
  using S = SKey<T>;
  int64_t nans = 0, zeros = 0, below_zero = 0;
  const S zero_key = kDescending ? S(-1) : S(0);
  for (int64_t i = 0; i < n; ++i) {
    const S k = to_skey<T, kDescending>(x[i]);
    std::memcpy(values + i, &k, sizeof k);  // the keys live in the output buffer
    if constexpr (std::is_floating_point_v<T>) {
      nans += x[i] != x[i];
      zeros += x[i] == T(0);
      below_zero += k < zero_key;
    }
  }
  counts->nans += nans;
  counts->zeros += zeros;
  counts->below_zero += below_zero;
}

// The keys of one vector of T (to_skey lane by lane); floats count NaNs, zeros and keys below
// zero's into c[0..2].
template <class T, bool kDescending>
inline __m256i to_skey_vec(const T* x, int64_t* c) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
  const __m256i ones = _mm256_set1_epi32(-1);
  if constexpr (sizeof(T) == 4) {
    __m256i s;
    if constexpr (std::is_same_v<T, float>) {
      const __m256 f = _mm256_castsi256_ps(v);
      s = _mm256_xor_si256(v, _mm256_srli_epi32(_mm256_srai_epi32(v, 31), 1));
      const __m256 zero = _mm256_cmp_ps(f, _mm256_setzero_ps(), _CMP_EQ_OQ);
      const __m256 nan = _mm256_cmp_ps(f, f, _CMP_UNORD_Q);
      s = _mm256_andnot_si256(_mm256_castps_si256(zero), s);
      if (kDescending) s = _mm256_xor_si256(s, ones);
      s = _mm256_blendv_epi8(s, _mm256_set1_epi32(std::numeric_limits<int32_t>::max()), _mm256_castps_si256(nan));
      const __m256i below = _mm256_cmpgt_epi32(_mm256_set1_epi32(kDescending ? -1 : 0), s);
      c[0] += __builtin_popcount(unsigned(_mm256_movemask_ps(nan)));
      c[1] += __builtin_popcount(unsigned(_mm256_movemask_ps(zero)));
      c[2] += __builtin_popcount(unsigned(_mm256_movemask_ps(_mm256_castsi256_ps(below))));
      return s;
    } else {
      s = std::is_unsigned_v<T> ? _mm256_xor_si256(v, _mm256_set1_epi32(std::numeric_limits<int32_t>::min())) : v;
      return kDescending ? _mm256_xor_si256(s, ones) : s;
    }
  } else {
    __m256i s;
    if constexpr (std::is_same_v<T, double>) {
      const __m256d f = _mm256_castsi256_pd(v);
      const __m256i neg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), v);
      s = _mm256_xor_si256(v, _mm256_srli_epi64(neg, 1));
      const __m256d zero = _mm256_cmp_pd(f, _mm256_setzero_pd(), _CMP_EQ_OQ);
      const __m256d nan = _mm256_cmp_pd(f, f, _CMP_UNORD_Q);
      s = _mm256_andnot_si256(_mm256_castpd_si256(zero), s);
      if (kDescending) s = _mm256_xor_si256(s, ones);
      s = _mm256_blendv_epi8(s, _mm256_set1_epi64x(std::numeric_limits<int64_t>::max()), _mm256_castpd_si256(nan));
      const __m256i below = _mm256_cmpgt_epi64(_mm256_set1_epi64x(kDescending ? -1 : 0), s);
      c[0] += __builtin_popcount(unsigned(_mm256_movemask_pd(nan)));
      c[1] += __builtin_popcount(unsigned(_mm256_movemask_pd(zero)));
      c[2] += __builtin_popcount(unsigned(_mm256_movemask_pd(_mm256_castsi256_pd(below))));
      return s;
    } else {
      s = std::is_unsigned_v<T> ? _mm256_xor_si256(v, _mm256_set1_epi64x(std::numeric_limits<int64_t>::min())) : v;
      return kDescending ? _mm256_xor_si256(s, ones) : s;
    }
  }
}

// The keys of x, partitioned on the way into `values` (out of place: left keys from the front,
// right keys from the back). Saves the separate key pass. Returns the split like split().
template <class T, bool kDescending>
int64_t keys_and_split(const T* x, int64_t n, T* values, FloatCounts* counts) {
  using V = std::conditional_t<sizeof(T) == 4, V32, V64>;
  using S = typename V::K;
  if (n <= kLeaf<V>) {
    to_keys<T, kDescending>(x, n, values, counts);
    return n;
  }
  S sample[64];
  const int64_t step = n / 64;
  for (int i = 0; i < 64; ++i) sample[i] = to_skey<T, kDescending>(x[i * step + step / 2]);
  sort_small<V>(sample, 64);
  const S pivot = sample[32];
  const __m256i pv = V::set1(pivot);
  S* out = reinterpret_cast<S*>(values);
  int64_t c[3] = {0, 0, 0};
  int64_t ls = 0, rs = n;
  // The gap [ls, rs) is n - i wide; the two full-vector stores only stay clear of each other's
  // keys while it is at least 2L, so the last (fewer than 2L) keys go one by one.
  int64_t whole = 0;
  for (; whole + 2 * V::L <= n; whole += V::L)
    partition_vec<V>(out, ls, rs, to_skey_vec<T, kDescending>(x + whole, c), pv);
  FloatCounts tail;
  T tail_keys[2 * V::L];  // the gap they fill is not where they came from: convert them aside
  to_keys<T, kDescending>(x + whole, n - whole, tail_keys, &tail);
  for (int64_t i = 0; i < n - whole; ++i) {
    S k;
    std::memcpy(&k, tail_keys + i, sizeof k);
    if (k > pivot) out[--rs] = k;
    else out[ls++] = k;
  }
  counts->nans += c[0] + tail.nans;
  counts->zeros += c[1] + tail.zeros;
  counts->below_zero += c[2] + tail.below_zero;
  return ls == n ? n : ls;
}

template <class V>
int64_t split(typename V::K* a, int64_t n) {
  if (n <= kLeaf<V>) return n;
  const int64_t b = partition<V>(a, n, choose_pivot<V>(a, n));
  return b == 0 ? n : b;
}

// ---- 64-bit integers whose range fits in 32 bits ----
// Keys of T's order as int64 (ascending; the descending flip is applied to the narrow key).
template <class T>
inline __m256i skey64_vec(const T* x) {
  int64_t unused[3];
  return to_skey_vec<T, false>(x, unused);
}

// The narrow key of s: its distance from the row's first key in sort order (lo ascending, hi
// descending) as uint32, biased into int32 order.
template <bool kDescending>
inline __m256i narrow_vec(__m256i s, __m256i base) {
  const __m256i d = kDescending ? _mm256_sub_epi64(base, s) : _mm256_sub_epi64(s, base);
  // The low 32 bits of the four lanes, packed into the low 128 bits.
  const __m256i packed = _mm256_permutevar8x32_epi32(d, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
  return _mm256_xor_si256(packed, _mm256_set1_epi32(std::numeric_limits<int32_t>::min()));
}

template <class T, bool kDescending>
bool narrow_keys(const T* x, int64_t n, int32_t* keys, int64_t* base) {
  using U = uint64_t;
  constexpr U kMaxRange = std::numeric_limits<uint32_t>::max();
  // A sample first: a full-range row shows a range too wide at once, and costs no min/max pass.
  int64_t lo = to_skey<T, false>(x[0]), hi = lo;
  for (int64_t i = 1; i < 64; ++i) {
    const int64_t s = to_skey<T, false>(x[i * (n / 64)]);
    lo = s < lo ? s : lo;
    hi = s > hi ? s : hi;
  }
  if (U(hi) - U(lo) > kMaxRange) return false;
  // The min/max pass, in chunks so a wide row stops early.
  constexpr int64_t kChunk = 4096;
  const int64_t whole = n - n % V64::L;
  __m256i vlo = V64::set1(lo), vhi = V64::set1(hi);
  for (int64_t c = 0; c < whole; c += kChunk) {
    const int64_t end = c + kChunk < whole ? c + kChunk : whole;
    for (int64_t i = c; i < end; i += V64::L) {
      const __m256i s = skey64_vec<T>(x + i);
      vlo = V64::vmin(vlo, s);
      vhi = V64::vmax(vhi, s);
    }
    if (U(reduce_lanes<V64, true>(vhi)) - U(reduce_lanes<V64, false>(vlo)) > kMaxRange) return false;
  }
  lo = reduce_lanes<V64, false>(vlo);
  hi = reduce_lanes<V64, true>(vhi);
  for (int64_t i = whole; i < n; ++i) {
    const int64_t s = to_skey<T, false>(x[i]);
    lo = s < lo ? s : lo;
    hi = s > hi ? s : hi;
  }
  if (U(hi) - U(lo) > kMaxRange) return false;
  *base = kDescending ? hi : lo;
  const __m256i vbase = V64::set1(*base);
  for (int64_t i = 0; i < whole; i += V64::L)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(keys + i),
                     _mm256_castsi256_si128(narrow_vec<kDescending>(skey64_vec<T>(x + i), vbase)));
  for (int64_t i = whole; i < n; ++i) {
    const U s = U(to_skey<T, false>(x[i]));
    keys[i] = int32_t(uint32_t(kDescending ? U(*base) - s : s - U(*base)) ^ 0x80000000u);
  }
  return true;
}

// Narrow keys (sorted, in the first 4n bytes of values) back to values, in place: from the end
// down, so each 8-byte store only covers narrow keys already read (slots 2i, 2i+1 >= i).
template <class T, bool kDescending>
void widen_keys(T* values, int64_t n, int64_t base) {
  using U = uint64_t;
  const int32_t* keys = reinterpret_cast<const int32_t*>(values);
  int64_t* out = reinterpret_cast<int64_t*>(values);
  const int64_t whole = n - n % V64::L;
  for (int64_t i = n - 1; i >= whole; --i) {
    const U d = uint32_t(keys[i]) ^ 0x80000000u;
    const T v = from_skey<T, false>(int64_t(kDescending ? U(base) - d : U(base) + d));
    std::memcpy(out + i, &v, sizeof v);
  }
  const __m256i vbase = V64::set1(base);
  const __m128i bias = _mm_set1_epi32(std::numeric_limits<int32_t>::min());
  for (int64_t i = whole - V64::L; i >= 0; i -= V64::L) {
    const __m128i k = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(keys + i)), bias);
    const __m256i d = _mm256_cvtepu32_epi64(k);
    __m256i s = kDescending ? _mm256_sub_epi64(vbase, d) : _mm256_add_epi64(vbase, d);
    if constexpr (std::is_unsigned_v<T>) s = _mm256_xor_si256(s, _mm256_set1_epi64x(std::numeric_limits<int64_t>::min()));
    V64::store(out + i, s);
  }
}

}  // namespace

template <class T>
int64_t keys_and_split_avx2(const T* x, int64_t n, bool descending, T* values, FloatCounts* counts) {
  if (descending) return keys_and_split<T, true>(x, n, values, counts);
  return keys_and_split<T, false>(x, n, values, counts);
}

template <class T>
void sort_keys_avx2(T* values, int64_t n, bool descending) {
  using V = std::conditional_t<sizeof(T) == 4, V32, V64>;
  auto* keys = reinterpret_cast<SKey<T>*>(values);
  if (descending) sort_keys<V, ToValues<T, true>>(keys, n);
  else sort_keys<V, ToValues<T, false>>(keys, n);
}

template <class T>
bool narrow_keys_avx2(const T* x, int64_t n, bool descending, int32_t* keys, int64_t* base) {
  if (descending) return narrow_keys<T, true>(x, n, keys, base);
  return narrow_keys<T, false>(x, n, keys, base);
}

template <class T>
void widen_keys_avx2(T* values, int64_t n, bool descending, int64_t base) {
  if (descending) widen_keys<T, true>(values, n, base);
  else widen_keys<T, false>(values, n, base);
}

template bool narrow_keys_avx2<int64_t>(const int64_t*, int64_t, bool, int32_t*, int64_t*);
template bool narrow_keys_avx2<uint64_t>(const uint64_t*, int64_t, bool, int32_t*, int64_t*);
template void widen_keys_avx2<int64_t>(int64_t*, int64_t, bool, int64_t);
template void widen_keys_avx2<uint64_t>(uint64_t*, int64_t, bool, int64_t);

int64_t partition_keys_avx2(int32_t* keys, int64_t n) { return split<V32>(keys, n); }
int64_t partition_keys_avx2(int64_t* keys, int64_t n) { return split<V64>(keys, n); }

#define TL_VSORT_INSTANTIATE(T)                                                                  \
  template int64_t keys_and_split_avx2<T>(const T*, int64_t, bool, T*, FloatCounts*);        \
  template void sort_keys_avx2<T>(T*, int64_t, bool);
TL_VSORT_INSTANTIATE(float)
TL_VSORT_INSTANTIATE(double)
TL_VSORT_INSTANTIATE(int32_t)
TL_VSORT_INSTANTIATE(uint32_t)
TL_VSORT_INSTANTIATE(int64_t)
TL_VSORT_INSTANTIATE(uint64_t)
#undef TL_VSORT_INSTANTIATE

}  // namespace tl::kernels
#endif  // TL_X86
