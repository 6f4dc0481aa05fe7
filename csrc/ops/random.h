// Sampling tensors from the process-wide generator (kernels/random.h: Philox4x64-10 with
// NumPy's conversions). Each call takes the generator's lock, so draws from several threads
// interleave but never corrupt the state.
#pragma once
#include "core/tensor.h"
#include "kernels/random.h"

namespace tl::random {

// key = {lo, hi}: the same stream as numpy.random.Philox(key=lo + 2**64 * hi).
void seed(uint64_t lo, uint64_t hi);
void seed_from_entropy();
GeneratorState get_state();
void set_state(const GeneratorState& s);

// low + (high - low) * U[0, 1); float dtypes only; high - low must be finite (OverflowError).
Tensor uniform(double low, double high, const Shape& shape, DType dtype);
// loc + scale * N(0, 1); scale >= 0 (ValueError); float dtypes only.
Tensor normal(double loc, double scale, const Shape& shape, DType dtype);
// Uniform integers in [low, high_inclusive] (callers check the dtype's bounds and low <= high).
Tensor randint(int64_t low, int64_t high_inclusive, const Shape& shape, DType dtype);
// A shuffled arange(n) (int64); n <= 0 gives an empty tensor.
Tensor permutation(int64_t n);
// A shuffled copy of x along axis 0 (ndim >= 1).
Tensor permutation(const Tensor& x);
// Shuffles x along axis 0 in place (ndim >= 1, writable).
void shuffle(const Tensor& x);

}  // namespace tl::random
