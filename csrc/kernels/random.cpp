// Philox4x64-10 and NumPy's conversions; see random.h for the definitions.
//
// Floating-point results must not depend on whether the compiler fuses a*b+c into an FMA
// (GCC does by default on targets that have FMA, e.g. aarch64): switch contraction off here.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "kernels/random.h"
#include <algorithm>
#include <cmath>
#include "kernels/parallel.h"
#include <limits>
#include <type_traits>

namespace tl::random {

namespace {

constexpr uint64_t kPhiloxM0 = 0xD2E7470EE14C6C93ULL;
constexpr uint64_t kPhiloxM1 = 0xCA5A826395121157ULL;
constexpr uint64_t kPhiloxW0 = 0x9E3779B97F4A7C15ULL;  // golden ratio
constexpr uint64_t kPhiloxW1 = 0xBB67AE8584CAA73BULL;  // sqrt(3) - 1

// Full 64 x 64 -> 128-bit product.
inline uint64_t mulhilo64(uint64_t a, uint64_t b, uint64_t* hi) {
#if defined(__SIZEOF_INT128__)
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  *hi = static_cast<uint64_t>(p >> 64);
  return static_cast<uint64_t>(p);
#else
  const uint64_t a_lo = a & 0xFFFFFFFFu, a_hi = a >> 32, b_lo = b & 0xFFFFFFFFu, b_hi = b >> 32;
  const uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
  const uint64_t mid = (ll >> 32) + (lh & 0xFFFFFFFFu) + (hl & 0xFFFFFFFFu);
  *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
  return (mid << 32) | (ll & 0xFFFFFFFFu);
#endif
}

}  // namespace

void philox4x64_10(const uint64_t ctr_in[4], const uint64_t key_in[2], uint64_t out[4]) {
  uint64_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
  uint64_t k0 = key_in[0], k1 = key_in[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    uint64_t hi0, hi1;
    const uint64_t lo0 = mulhilo64(kPhiloxM0, c0, &hi0);
    const uint64_t lo1 = mulhilo64(kPhiloxM1, c2, &hi1);
    const uint64_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

double det_log(double x) {
  // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(s), s = (m - 1) / (m + 1),
  // |s| <= 0.1716, summed as 2s (1 + s^2/3 + s^4/5 + ... + s^22/23) (next term < 2^-56).
  // ln 2 is split so that e * ln2_hi is exact for every exponent.
  if (!(x > 0.0) || std::isinf(x)) return x == 0.0 ? -std::numeric_limits<double>::infinity()
                                                   : (x > 0.0 ? x : std::numeric_limits<double>::quiet_NaN());
  int e = 0;
  double m = std::frexp(x, &e);  // [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  const double f = m - 1.0;  // exact
  const double s = f / (2.0 + f);
  const double z = s * s;
  double poly = 1.0 / 23.0;
  for (int k = 21; k >= 1; k -= 2) poly = 1.0 / k + z * poly;  // 1/21 + z(1/23), ..., 1 + z(...)
  const double log_m = 2.0 * s * poly;
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // 0x3FE62E42FEE00000: low 21 bits zero
  constexpr double ln2_lo = 1.90821492927058770002e-10;  // ln 2 - ln2_hi
  const double de = static_cast<double>(e);
  return de * ln2_hi + (de * ln2_lo + log_m);
}

void Generator::seed(uint64_t seed_lo, uint64_t seed_hi) {
  s_ = GeneratorState();
  s_.key[0] = seed_lo;
  s_.key[1] = seed_hi;
}

uint64_t Generator::next_uint64() {
  if (s_.buffer_pos < 4) return s_.buffer[s_.buffer_pos++];
  // 256-bit counter increment, then one block.
  for (int i = 0; i < 4; ++i)
    if (++s_.counter[i] != 0) break;
  philox4x64_10(s_.counter, s_.key, s_.buffer);
  s_.buffer_pos = 1;
  return s_.buffer[0];
}

uint32_t Generator::next_uint32() {
  if (s_.has_uint32) {
    s_.has_uint32 = false;
    return s_.uinteger;
  }
  const uint64_t v = next_uint64();
  s_.has_uint32 = true;
  s_.uinteger = static_cast<uint32_t>(v >> 32);
  return static_cast<uint32_t>(v & 0xFFFFFFFFu);
}

double Generator::next_gauss() {
  if (s_.has_gauss) {
    const double g = s_.gauss;
    s_.has_gauss = false;
    s_.gauss = 0.0;
    return g;
  }
  double x1, x2, r2;
  do {
    x1 = 2.0 * next_double() - 1.0;
    x2 = 2.0 * next_double() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  const double f = std::sqrt(-2.0 * det_log(r2) / r2);  // sqrt is correctly rounded (IEEE 754)
  s_.gauss = f * x1;
  s_.has_gauss = true;
  return f * x2;
}

uint64_t Generator::bounded(uint64_t rng) {
  if (rng == 0) return 0;
  if (rng <= 0xFFFFFFFFULL) {
    if (rng == 0xFFFFFFFFULL) return next_uint32();
    // Lemire: the high half of draw * (rng + 1), rejecting the biased low remainders.
    const uint32_t rng_excl = static_cast<uint32_t>(rng) + 1;
    uint64_t m = static_cast<uint64_t>(next_uint32()) * rng_excl;
    uint32_t leftover = static_cast<uint32_t>(m);
    if (leftover < rng_excl) {
      const uint32_t threshold = static_cast<uint32_t>((0xFFFFFFFFULL - rng) % rng_excl);
      while (leftover < threshold) {
        m = static_cast<uint64_t>(next_uint32()) * rng_excl;
        leftover = static_cast<uint32_t>(m);
      }
    }
    return m >> 32;
  }
  if (rng == std::numeric_limits<uint64_t>::max()) return next_uint64();
  const uint64_t rng_excl = rng + 1;
  uint64_t hi;
  uint64_t leftover = mulhilo64(next_uint64(), rng_excl, &hi);
  if (leftover < rng_excl) {
    const uint64_t threshold = (std::numeric_limits<uint64_t>::max() - rng) % rng_excl;
    while (leftover < threshold) leftover = mulhilo64(next_uint64(), rng_excl, &hi);
  }
  return hi;
}

uint64_t Generator::interval(uint64_t max) {
  if (max == 0) return 0;
  uint64_t mask = max;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  mask |= mask >> 32;
  uint64_t value;
  if (max <= 0xFFFFFFFFULL) {
    while ((value = (next_uint32() & mask)) > max) {
    }
  } else {
    while ((value = (next_uint64() & mask)) > max) {
    }
  }
  return value;
}

namespace {

// Philox4x64-10 on kLanes blocks at once: the same rounds as philox4x64_10, interleaved so that
// the multiplies of independent blocks overlap (one block alone is a chain of dependent
// 128-bit products: ~4x slower per block on x86-64).
constexpr int kLanes = 4;
inline void philox_lanes(uint64_t* c, const uint64_t key[2]) {  // c: kLanes blocks of 4 words
  uint64_t k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
#pragma GCC unroll 4
    for (int l = 0; l < kLanes; ++l) {
      uint64_t hi0, hi1;
      uint64_t* b = c + 4 * l;
      const uint64_t lo0 = mulhilo64(kPhiloxM0, b[0], &hi0);
      const uint64_t lo1 = mulhilo64(kPhiloxM1, b[2], &hi1);
      const uint64_t n0 = hi1 ^ b[1] ^ k0, n2 = hi0 ^ b[3] ^ k1;
      b[0] = n0;
      b[1] = lo1;
      b[2] = n2;
      b[3] = lo0;
    }
  }
}

// ctr += n (256-bit, as the generator's increment carries).
void add_counter(uint64_t ctr[4], uint64_t n) {
  const uint64_t before = ctr[0];
  ctr[0] += n;
  if (ctr[0] >= before) return;
  for (int i = 1; i < 4; ++i)
    if (++ctr[i] != 0) break;
}

// Blocks at least per parallel chunk (a block is ~100 cycles).
constexpr int64_t kBlockGrain = 1024;

// Philox blocks j0 .. j1 - 1 after counter `ctr` (block j uses ctr + j + 1, as next_uint64
// increments before each block), handed kLanes at a time to put(j, lanes, words) for blocks
// j .. j + lanes - 1 (words: their 4 * lanes outputs in stream order).
template <class Put>
void philox_blocks(const uint64_t ctr[4], const uint64_t key[2], int64_t j0, int64_t j1, Put put) {
  uint64_t base[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
  add_counter(base, uint64_t(j0));
  for (int64_t j = j0; j < j1; j += kLanes) {
    const int lanes = int(std::min<int64_t>(kLanes, j1 - j));
    uint64_t c[kLanes * 4];
    for (int l = 0; l < kLanes; ++l) {
      add_counter(base, 1);
      for (int w = 0; w < 4; ++w) c[4 * l + w] = base[w];
    }
    philox_lanes(c, key);  // lanes past j1 are computed and dropped (their counters unused)
    put(j, lanes, c);
  }
}

// NumPy's conversions (random.h): low + range * a double from a uint64's top 53 bits, or a float
// from a uint32's top 24 bits, the sum rounded to float.
inline double to_uniform(uint64_t bits, double low, double range) {
  return low + range * (static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0));
}
inline float to_uniform(uint32_t bits, double low, double range) {
  const float f = static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
  return static_cast<float>(low + range * static_cast<double>(f));
}

// The values of `lanes` whole blocks (their 4 * lanes words): plain loops, which vectorise.
inline void block_values(const uint64_t* words, int lanes, double low, double range, double* out) {
  for (int q = 0; q < 4 * lanes; ++q) out[q] = to_uniform(words[q], low, range);
}
inline void block_values(const uint64_t* words, int lanes, double low, double range, float* out) {
  // A uint64's low half, then its high half: the little-endian order of its two uint32s.
  uint32_t halves[kLanes * 8];
  for (int q = 0; q < 4 * lanes; ++q) {
    halves[2 * q] = static_cast<uint32_t>(words[q] & 0xFFFFFFFFu);
    halves[2 * q + 1] = static_cast<uint32_t>(words[q] >> 32);
  }
  for (int q = 0; q < 8 * lanes; ++q) out[q] = to_uniform(halves[q], low, range);
}

// One value taken from the generator's stream, and whether the generator holds buffered bits
// that such a value takes first.
inline double draw_one(Generator& g, double low, double range, double*) { return to_uniform(g.next_uint64(), low, range); }
inline float draw_one(Generator& g, double low, double range, float*) { return to_uniform(g.next_uint32(), low, range); }
inline bool buffered(const GeneratorState& s, double*) { return s.buffer_pos < 4; }
inline bool buffered(const GeneratorState& s, float*) { return s.has_uint32 || s.buffer_pos < 4; }

// The whole draw into out, its blocks split over the thread pool by block index, so the values
// do not depend on the threads.
template <class T>
void fill_drawn(const UniformDraw<T>& d, T* out) {
  constexpr int P = UniformDraw<T>::kPerBlock;
  if (d.blocks * 8 < tl::kParallelElementThreshold) return d.fill(out, 0, d.n);
  tl::parallel_for(0, d.blocks, kBlockGrain, [&](int64_t lo, int64_t hi) {
    const int64_t b = lo == 0 ? 0 : d.head + P * lo, e = hi == d.blocks ? d.n : d.head + P * hi;  // + head, tail
    d.fill(out + b, b, e);
  });
}

}  // namespace

template <class T>
void UniformDraw<T>::fill(T* out, int64_t begin, int64_t end) const {
  constexpr int P = kPerBlock;
  const int64_t body_end = head + P * blocks;
  int64_t i = begin;
  for (; i < end && i < head; ++i) out[i - begin] = head_values[i];
  const int64_t stop = std::min(end, body_end);
  if (i < stop) {
    // locals, which the stores into `out` (a double* may alias this struct's doubles) cannot change
    const int64_t from = i, h = head;
    const double lo = low, r = range;
    const uint64_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]}, k[2] = {key[0], key[1]};
    philox_blocks(c, k, (from - h) / P, (stop - h + P - 1) / P, [=](int64_t j, int lanes, const uint64_t* w) {
      const int64_t first = h + P * j;  // the index of the group's first value
      if (first >= from && first + P * lanes <= stop) return block_values(w, lanes, lo, r, out + (first - begin));
      T v[kLanes * P];  // a group cut by the range's ends
      block_values(w, lanes, lo, r, v);
      for (int64_t q = std::max(from, first); q < std::min(stop, first + P * lanes); ++q) out[q - begin] = v[q - first];
    });
    i = stop;
  }
  for (; i < end; ++i) out[i - begin] = tail_values[i - body_end];
}
template struct UniformDraw<float>;
template struct UniformDraw<double>;

// The head values one at a time, then whole blocks, whose last one the generator keeps buffered
// (all of it handed out), then the tail one at a time: the state ends exactly as n draws of one
// value leave it.
template <class T>
void Generator::draw_uniform(UniformDraw<T>& d, int64_t n, double low, double high) {
  constexpr int P = UniformDraw<T>::kPerBlock;
  T* tag = nullptr;
  d.n = n;
  d.low = low;
  d.range = high - low;
  int64_t i = 0;
  for (; i < n && buffered(s_, tag); ++i) d.head_values[i] = draw_one(*this, low, d.range, tag);
  d.head = i;
  d.blocks = (n - i) / P;
  std::copy(s_.counter, s_.counter + 4, d.ctr);
  std::copy(s_.key, s_.key + 2, d.key);
  if (d.blocks > 0) {
    add_counter(s_.counter, uint64_t(d.blocks));
    philox4x64_10(s_.counter, s_.key, s_.buffer);
    s_.buffer_pos = 4;
    if constexpr (std::is_same_v<T, float>)
      s_.uinteger = static_cast<uint32_t>(s_.buffer[3] >> 32);  // the last half handed out, as next_uint32 leaves it
    i += P * d.blocks;
  }
  for (int t = 0; i < n; ++i, ++t) d.tail_values[t] = draw_one(*this, low, d.range, tag);
}
template void Generator::draw_uniform(UniformDraw<float>&, int64_t, double, double);
template void Generator::draw_uniform(UniformDraw<double>&, int64_t, double, double);

void Generator::fill_uniform(double* out, int64_t n, double low, double high) {
  UniformDraw<double> d;
  draw_uniform(d, n, low, high);
  fill_drawn(d, out);
}

void Generator::fill_uniform(float* out, int64_t n, double low, double high) {
  UniformDraw<float> d;
  draw_uniform(d, n, low, high);
  fill_drawn(d, out);
}

void Generator::fill_normal(double* out, int64_t n, double loc, double scale) {
  for (int64_t i = 0; i < n; ++i) out[i] = loc + scale * next_gauss();
}

void Generator::fill_bounded(int64_t* out, int64_t n, int64_t low, uint64_t rng) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int64_t>(static_cast<uint64_t>(low) + bounded(rng));
}

void Generator::shuffle_permutation(int64_t* perm, int64_t n) {
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  for (int64_t i = n - 1; i >= 1; --i) {
    const int64_t j = static_cast<int64_t>(interval(static_cast<uint64_t>(i)));
    const int64_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}

}  // namespace tl::random
