// Fused, in-place optimizer updates: one pass over a parameter and its slots, following
// Keras 3's update rules operation for operation in the parameter's precision T.
// Hyperparameters come in as double, as Python floats do in Keras: each is cast to T, and
// Keras's Python-side constants (1 - rho, 1 - beta_1, 1 - beta_2) are formed in double first.
// Pure compute over raw contiguous buffers of n elements; callers validate shapes and dtypes.
#pragma once
#include <cstdint>

namespace tl::kernels {

// SGD (keras/src/optimizers/sgd.py). momentum_buf == nullptr means plain SGD:
//   p -= lr * g
// otherwise
//   m = m * momentum - g * lr
//   p += m                                  (nesterov: p += m * momentum - g * lr)
template <class T>
void sgd_update(T* param, const T* grad, T* momentum_buf, int64_t n, double lr, double momentum, bool nesterov);

// RMSprop (keras/src/optimizers/rmsprop.py):
//   v = rho * v + (1 - rho) * g^2
//   centered: a = rho * a + (1 - rho) * g;  denom = v - a^2 + eps   else denom = v + eps
//   inc = lr * g / sqrt(denom)
//   momentum_buf: m = momentum * m + inc; p -= m      else p -= inc
// average_grad must be non-null iff centered; momentum_buf iff momentum > 0.
template <class T>
void rmsprop_update(T* param, const T* grad, T* velocity, T* momentum_buf, T* average_grad, int64_t n,
                    double lr, double rho, double momentum, double epsilon);

// Adam without amsgrad (keras/src/optimizers/adam.py), at 1-based step t:
//   alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)     (powers of beta cast to T, in T)
//   m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2)
//   p -= (m * alpha) / (sqrt(v) + eps)
template <class T>
void adam_update(T* param, const T* grad, T* m, T* v, int64_t n, double lr, double beta_1, double beta_2,
                 double epsilon, int64_t step);

}  // namespace tl::kernels
