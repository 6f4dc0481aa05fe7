// Sampling tensors from a generator (kernels/random.h: Philox4x64-10 with NumPy's
// conversions). Every generator carries its lock, so draws from several threads interleave
// but never corrupt the state. default_generator() is the process-wide one behind tl.random.
#pragma once
#include <mutex>
#include "capture/recorder.h"
#include "core/tensor.h"
#include "kernels/random.h"

namespace tl::random {

class LockedGenerator : public std::enable_shared_from_this<LockedGenerator> {
 public:
  LockedGenerator();                            // seeded from OS entropy
  LockedGenerator(uint64_t lo, uint64_t hi);    // numpy.random.Philox(key=lo + 2**64 * hi)
  template <class F>
  auto with(F&& f) {
    std::lock_guard<std::mutex> lk(mu_);
    return f(gen_);
  }

 private:
  std::mutex mu_;
  Generator gen_;
};

LockedGenerator& default_generator();
uint64_t entropy64();

// key = {lo, hi}, counter 0: the same stream as numpy.random.Philox(key=lo + 2**64 * hi).
void seed(LockedGenerator& g, uint64_t lo, uint64_t hi);
GeneratorState get_state(LockedGenerator& g);
void set_state(LockedGenerator& g, const GeneratorState& s);

// low + (high - low) * U[0, 1); float dtypes only; high - low must be finite (OverflowError).
Tensor uniform(LockedGenerator& g, double low, double high, const Shape& shape, DType dtype);
// loc + scale * N(0, 1); scale >= 0 (ValueError); float dtypes only.
Tensor normal(LockedGenerator& g, double loc, double scale, const Shape& shape, DType dtype);
// Uniform integers in [low, high_inclusive] (callers check the dtype's bounds and low <= high).
Tensor randint(LockedGenerator& g, int64_t low, int64_t high_inclusive, const Shape& shape, DType dtype);
// A shuffled arange(n) (int64); n <= 0 gives an empty tensor.
Tensor permutation(LockedGenerator& g, int64_t n);
// A shuffled copy of x along axis 0 (ndim >= 1).
Tensor permutation(LockedGenerator& g, const Tensor& x);
// Shuffles x along axis 0 in place (ndim >= 1, writable, not a broadcast view).
void shuffle(LockedGenerator& g, const Tensor& x);

}  // namespace tl::random

namespace tl::capture {

// A captured random op keeps its generator by reference, so each replay draws the next numbers:
// with shared ownership when Python owns the generator, by address for the immortal default one.
struct GeneratorRef {
  std::shared_ptr<random::LockedGenerator> owner;
  random::LockedGenerator* g;
};
template <>
struct Keep<random::LockedGenerator> {
  static GeneratorRef store(const random::LockedGenerator& g) {
    auto& m = const_cast<random::LockedGenerator&>(g);
    return {m.weak_from_this().lock(), &m};
  }
};
template <>
struct Use<GeneratorRef> {
  static random::LockedGenerator& use(const GeneratorRef& r) { return *r.g; }
};

}  // namespace tl::capture
