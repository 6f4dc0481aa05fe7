// tensorlet's random generator: Philox4x64-10 (Salmon, Moraes, Dror & Shaw, "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011), a counter-based generator defined by integer
// arithmetic only, so its streams are the same on every platform and compiler.
//
// The bit stream is exactly numpy.random.Philox(key=seed) (key = the seed's two 64-bit words,
// counter starting at 0 and incremented before each block of four outputs), and the
// conversions follow NumPy's documented algorithms so tests can use NumPy as the oracle:
//   uint64  the next Philox output (buffered four at a time)
//   uint32  the low half of a uint64, then its high half (NumPy's has_uint32 buffer)
//   double  (uint64 >> 11) * 2^-53, in [0, 1)                    (Generator.random)
//   float   (uint32 >> 8) * 2^-24, in [0, 1)
//   uniform low + (high - low) * double                          (Generator.uniform)
//   normal  Marsaglia's polar method on 2*double-1 pairs, second value cached
//           (RandomState.normal with a Philox bit generator), using the logarithm below
//   bounded Lemire's multiply-shift with rejection, 32-bit draws when the range fits 32 bits
//           (Generator.integers for int64/int32)
//   interval masked rejection sampling (Generator.shuffle / permutation)
// The logarithm in the polar method is computed here with a fixed series (det_log), not the
// C library's, whose last-bit accuracy varies between platforms; compile without FMA
// contraction (this file's .cpp asks for that itself).
#pragma once
#include <cstdint>

namespace tl::random {

// One Philox4x64-10 block: out = bijection_key(ctr).
void philox4x64_10(const uint64_t ctr[4], const uint64_t key[2], uint64_t out[4]);

// Natural logarithm of a positive finite double, to within ~2 ulp, identical everywhere.
double det_log(double x);

struct GeneratorState {
  uint64_t key[2] = {0, 0};
  uint64_t counter[4] = {0, 0, 0, 0};
  uint64_t buffer[4] = {0, 0, 0, 0};
  int buffer_pos = 4;  // 4 = empty
  bool has_uint32 = false;
  uint32_t uinteger = 0;
  bool has_gauss = false;
  double gauss = 0.0;
};

// A bulk uniform draw of n values in stream order, taken apart so that any range of it can be
// filled on its own (capture/elementwise_chain.cpp fills it chunk by chunk, fill_uniform in
// parallel ranges): `head` values taken one at a time from what the generator had buffered, then
// `blocks` whole Philox blocks after counter `ctr` (kPerBlock values each), then the tail, taken
// one at a time after them. Made by Generator::draw_uniform.
template <class T>  // float or double
struct UniformDraw {
  static constexpr int kPerBlock = 32 / static_cast<int>(sizeof(T));  // a block's 256 bits
  int64_t n = 0, head = 0, blocks = 0;
  uint64_t ctr[4] = {0, 0, 0, 0}, key[2] = {0, 0};
  double low = 0, range = 0;
  T head_values[kPerBlock] = {}, tail_values[kPerBlock] = {};
  // out[i - begin] = value i, for begin <= i < end (any range of [0, n); threads may fill
  // disjoint ranges at once).
  void fill(T* out, int64_t begin, int64_t end) const;
};

class Generator {
 public:
  // key = {seed_lo, seed_hi}, counter 0, buffers empty.
  void seed(uint64_t seed_lo, uint64_t seed_hi);
  GeneratorState& state() { return s_; }

  uint64_t next_uint64();
  uint32_t next_uint32();
  double next_double() { return static_cast<double>(next_uint64() >> 11) * (1.0 / 9007199254740992.0); }
  float next_float() { return static_cast<float>(next_uint32() >> 8) * (1.0f / 16777216.0f); }
  double next_gauss();
  // Uniform in [0, rng] (inclusive; rng = high - low - 1 of a half-open range).
  uint64_t bounded(uint64_t rng);
  // Uniform in [0, max] by masked rejection.
  uint64_t interval(uint64_t max);

  // Bulk fills (n >= 0).
  void fill_uniform(double* out, int64_t n, double low, double high);
  void fill_uniform(float* out, int64_t n, double low, double high);
  // The draw fill_uniform makes, without filling: the generator advances exactly as there, and
  // d.fill(...) gives the values (fill_uniform is draw_uniform, then d.fill over [0, n)).
  template <class T>
  void draw_uniform(UniformDraw<T>& d, int64_t n, double low, double high);
  void fill_normal(double* out, int64_t n, double loc, double scale);
  void fill_bounded(int64_t* out, int64_t n, int64_t low, uint64_t rng);
  // The permutation that Generator.shuffle applies to n rows: perm[i] = original row now at i.
  void shuffle_permutation(int64_t* perm, int64_t n);

 private:
  GeneratorState s_;
};

}  // namespace tl::random
