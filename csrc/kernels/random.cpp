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

// The next `blocks` Philox blocks after counter `ctr` (block j uses ctr + j + 1, as next_uint64
// increments before each block), handed kLanes at a time to put(j, lanes, out) for
// blocks j .. j + lanes - 1 (out: their 4 * lanes words in stream order); split over the thread pool by block index, so the values do not
// depend on the threads. `last` gets the final block.
template <class Put>
void philox_stream(const uint64_t ctr[4], const uint64_t key[2], int64_t blocks, uint64_t last[4], Put put) {
  auto run = [&](int64_t lo, int64_t hi) {
    uint64_t base[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    add_counter(base, uint64_t(lo));
    for (int64_t j = lo; j < hi; j += kLanes) {
      const int lanes = int(std::min<int64_t>(kLanes, hi - j));
      uint64_t c[kLanes * 4];
      for (int l = 0; l < kLanes; ++l) {
        add_counter(base, 1);
        for (int w = 0; w < 4; ++w) c[4 * l + w] = base[w];
      }
      philox_lanes(c, key);  // lanes past `hi` are computed and dropped (their counters unused)
      put(j, lanes, c);
      if (j + lanes == blocks)
        for (int w = 0; w < 4; ++w) last[w] = c[4 * (lanes - 1) + w];
      // the unused lanes advanced `base` past hi; nothing reads it after the last group
    }
  };
  if (blocks * 8 >= tl::kParallelElementThreshold) tl::parallel_for(0, blocks, kBlockGrain, run);
  else run(0, blocks);
}

}  // namespace

// The bulk fills draw whole Philox blocks directly (philox_stream) between a head and a tail taken
// one value at a time, and leave the state exactly as the one-at-a-time draws would.
void Generator::fill_uniform(double* out, int64_t n, double low, double high) {
  const double range = high - low;
  int64_t i = 0;
  for (; i < n && s_.buffer_pos < 4; ++i) out[i] = low + range * next_double();
  const int64_t blocks = (n - i) / 4;
  if (blocks > 0) {
    double* o = out + i;
    philox_stream(s_.counter, s_.key, blocks, s_.buffer, [o, low, range](int64_t j, int lanes, const uint64_t* bits) {
      // a plain loop over the lanes' words, which vectorises
      for (int q = 0; q < 4 * lanes; ++q)
        o[4 * j + q] = low + range * (static_cast<double>(bits[q] >> 11) * (1.0 / 9007199254740992.0));
    });
    add_counter(s_.counter, uint64_t(blocks));
    s_.buffer_pos = 4;
    i += 4 * blocks;
  }
  for (; i < n; ++i) out[i] = low + range * next_double();
}

void Generator::fill_uniform(float* out, int64_t n, double low, double high) {
  const double range = high - low;
  auto conv = [low, range](uint32_t u) {
    const float f = static_cast<float>(u >> 8) * (1.0f / 16777216.0f);
    return static_cast<float>(low + range * static_cast<double>(f));
  };
  int64_t i = 0;
  for (; i < n && (s_.has_uint32 || s_.buffer_pos < 4); ++i) out[i] = conv(next_uint32());
  const int64_t blocks = (n - i) / 8;
  if (blocks > 0) {
    float* o = out + i;
    philox_stream(s_.counter, s_.key, blocks, s_.buffer, [o, &conv](int64_t j, int lanes, const uint64_t* v) {
      // A uint64's low half, then its high half: the little-endian order of its two uint32s.
      uint32_t halves[kLanes * 8];
      for (int q = 0; q < 4 * lanes; ++q) {
        halves[2 * q] = static_cast<uint32_t>(v[q] & 0xFFFFFFFFu);
        halves[2 * q + 1] = static_cast<uint32_t>(v[q] >> 32);
      }
      for (int q = 0; q < 8 * lanes; ++q) o[8 * j + q] = conv(halves[q]);
    });
    add_counter(s_.counter, uint64_t(blocks));
    s_.buffer_pos = 4;
    s_.uinteger = static_cast<uint32_t>(s_.buffer[3] >> 32);  // the last half handed out, as next_uint32 leaves it
    i += 8 * blocks;
  }
  for (; i < n; ++i) out[i] = conv(next_uint32());
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
