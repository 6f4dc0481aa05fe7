// Fused, in-place, multi-tensor optimizer steps: one call updates every parameter of a step,
// in ONE parallel region over the total element count (so small tensors share the work and the
// thread pool wakes once per step), following Keras 3's update rules operation for operation in
// each parameter's precision T. The contiguous loops are per-ISA (optim_simd.h).
//
// Hyperparameters come in as double, as Python floats do in Keras: each is cast to T, and
// Keras's Python-side constants (1 - rho, 1 - beta_1, 1 - beta_2) are formed in double first.
// Pure compute over raw contiguous buffers; callers validate shapes, dtypes, and that no written
// buffer overlaps any other buffer of the step (the loops use __restrict pointers and run
// chunks of the step concurrently).
#pragma once
#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace tl::kernels {

// One parameter of a step: n elements of `dtype` (Float32 or Float64) at `param`, its gradient
// and up to three slot buffers (see each step function for their meaning; unused ones null).
struct OptimTensor {
  DType dtype = DType::Float32;
  int64_t n = 0;
  void* param = nullptr;
  const void* grad = nullptr;
  void* slot[3] = {nullptr, nullptr, nullptr};
};

// SGD (keras/src/optimizers/sgd.py). slot[0] = momentum buffer, used iff momentum != 0:
//   momentum == 0:  p -= g * lr
//   else            m = m * momentum - g * lr;  p += m     (nesterov: p += m * momentum - g * lr)
void sgd_step(const std::vector<OptimTensor>& tensors, double lr, double momentum, bool nesterov);

// RMSprop (keras/src/optimizers/rmsprop.py). slot[0] = velocity, slot[1] = momentum buffer (iff
// momentum > 0), slot[2] = average gradient (iff centered):
//   v = rho * v + (1 - rho) * g^2
//   centered: a = rho * a + (1 - rho) * g;  denom = v - a^2 + eps   else denom = v + eps
//   inc = lr * g / sqrt(denom)
//   momentum > 0: m = momentum * m + inc; p -= m      else p -= inc
void rmsprop_step(const std::vector<OptimTensor>& tensors, double lr, double rho, double momentum, double epsilon,
                  bool centered);

// Adam without amsgrad (keras/src/optimizers/adam.py) at 1-based step t. slot[0] = m, slot[1] = v:
//   alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)     (powers of beta cast to T, in T)
//   m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
//   p -= (m * alpha) / (sqrt(v) + eps)
void adam_step(const std::vector<OptimTensor>& tensors, double lr, double beta_1, double beta_2, double epsilon,
               int64_t step);

}  // namespace tl::kernels
