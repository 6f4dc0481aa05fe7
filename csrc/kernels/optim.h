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

// The catalog's rules (optim_catalog.cpp), Keras 3's formulas in each parameter's precision T, at
// 1-based step t; first, when weight_decay[i] != 0, parameter i decays: p = p - p * wd * lr.
//   Adam      slot0 m, slot1 v (slot2 v_hat iff amsgrad): as adam_step; amsgrad: v_hat = max(v_hat, v)
//             replaces v in the update
//   Adagrad   slot0 a:  a += g^2;  p -= lr * g / sqrt(a + eps)
//   Adadelta  slot0 a, slot1 d:  a = rho a + (1 - rho) g^2;  delta = -(sqrt(d + eps) g / sqrt(a + eps));
//             d = rho d + (1 - rho) delta^2;  p += lr * delta
//   Adamax    slot0 m, slot1 u:  m += (g - m)(1 - beta_1);  u = max(beta_2 u, |g|);
//             p -= lr m / ((1 - beta_1^t)(u + eps))
//   Nadam     slot0 m, slot1 v, with u_t = beta_1 (1 - 0.5 * 0.96^t), u_t1 = the same at t + 1 and
//             u_product = prod over steps 1..t of u_t (passed in):  m, v as Adam;
//             m_hat = u_t1 m / (1 - u_product u_t1) + (1 - u_t) g / (1 - u_product);
//             p -= m_hat lr / (sqrt(v / (1 - beta_2^t)) + eps)
//   Lion      slot0 m:  p -= lr * sign(beta_1 m + (1 - beta_1) g);  m = beta_2 m + (1 - beta_2) g
enum class OptimRule { Adam, Adagrad, Adadelta, Adamax, Nadam, Lion };

// Keras's gradient clipping, applied to each gradient as the update reads it (the gradient
// buffers are not written): per tensor g * c / max(||g||, c); all tensors g * c * min(1 / ||all||,
// 1 / c); or clip(g, -c, c).
enum class ClipKind { None, Norm, GlobalNorm, Value };

struct CatalogHyper {
  double lr = 0.0, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7, rho = 0.95;
  bool amsgrad = false;
  int64_t step = 1;
  double u_product = 1.0;  // Nadam: the product including this step's u_t
  ClipKind clip = ClipKind::None;
  double clip_value = 0.0;
};

// `weight_decay`: one factor per tensor (0: no decay), or empty for none.
void catalog_step(OptimRule rule, const std::vector<OptimTensor>& tensors, const CatalogHyper& h,
                  const std::vector<double>& weight_decay);

}  // namespace tl::kernels
