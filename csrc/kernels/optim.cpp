// SGD, RMSprop and Adam over the multi-tensor driver (optim_pieces.h): each chunk runs the
// per-ISA contiguous loop (optim_simd.h) on the pieces of the tensors it covers. The loops round
// every operation (no contraction), so the result does not depend on the split or the threads.
#include "kernels/optim.h"

#include <cmath>

#include "kernels/optim_pieces.h"
#include "kernels/optim_simd.h"

namespace tl::kernels {
namespace {

// Calls run(tensor, loops_of_its_dtype, offset, count) for every piece of every tensor.
template <class Run>
void for_each_piece(const std::vector<OptimTensor>& tensors, Run&& run) {
  const OptimLoops& loops = optim_loops();
  for_each_optim_piece(tensors, [&](const OptimTensor& t, int64_t off, int64_t n) { run(t, loops, off, n); });
}

template <class T>
T* at(void* p, int64_t off) {
  return p ? static_cast<T*>(p) + off : nullptr;
}
template <class T>
const T* at(const void* p, int64_t off) {
  return static_cast<const T*>(p) + off;
}
template <class T>
const OptimLoopsT<T>& typed(const OptimLoops& loops);
template <>
const OptimLoopsT<float>& typed<float>(const OptimLoops& loops) { return loops.f32; }
template <>
const OptimLoopsT<double>& typed<double>(const OptimLoops& loops) { return loops.f64; }

template <class T>
SgdCoef<T> sgd_coef(double lr, double momentum) {
  return {static_cast<T>(lr), static_cast<T>(momentum)};
}
template <class T>
RmspropCoef<T> rmsprop_coef(double lr, double rho, double momentum, double epsilon) {
  return {static_cast<T>(lr), static_cast<T>(rho), static_cast<T>(1.0 - rho), static_cast<T>(momentum),
          static_cast<T>(epsilon)};
}
template <class T>
AdamCoef<T> adam_coef(double lr_d, double beta_1, double beta_2, double epsilon, int64_t step) {
  const T t = static_cast<T>(step);
  const T lr = static_cast<T>(lr_d);
  const T beta_1_power = std::pow(static_cast<T>(beta_1), t);
  const T beta_2_power = std::pow(static_cast<T>(beta_2), t);
  const T alpha = lr * std::sqrt(T(1) - beta_2_power) / (T(1) - beta_1_power);
  return {alpha, static_cast<T>(1.0 - beta_1), static_cast<T>(1.0 - beta_2), static_cast<T>(epsilon)};
}

}  // namespace

void sgd_step(const std::vector<OptimTensor>& tensors, double lr, double momentum, bool nesterov) {
  const SgdCoef<float> c32 = sgd_coef<float>(lr, momentum);
  const SgdCoef<double> c64 = sgd_coef<double>(lr, momentum);
  for_each_piece(tensors, [&](const OptimTensor& t, const OptimLoops& loops, int64_t off, int64_t n) {
    auto go = [&](auto zero, const auto& c) {
      using T = decltype(zero);
      const OptimLoopsT<T>& l = typed<T>(loops);
      T* p = at<T>(t.param, off);
      const T* g = at<T>(t.grad, off);
      if (momentum == 0.0) l.sgd(p, g, n, c);
      else (nesterov ? l.sgd_nesterov : l.sgd_momentum)(p, g, at<T>(t.slot[0], off), n, c);
    };
    if (t.dtype == DType::Float32) go(0.0f, c32);
    else go(0.0, c64);
  });
}

void rmsprop_step(const std::vector<OptimTensor>& tensors, double lr, double rho, double momentum, double epsilon,
                  bool centered) {
  const RmspropCoef<float> c32 = rmsprop_coef<float>(lr, rho, momentum, epsilon);
  const RmspropCoef<double> c64 = rmsprop_coef<double>(lr, rho, momentum, epsilon);
  const int variant = 2 * int(centered) + int(momentum > 0.0);
  for_each_piece(tensors, [&](const OptimTensor& t, const OptimLoops& loops, int64_t off, int64_t n) {
    auto go = [&](auto zero, const auto& c) {
      using T = decltype(zero);
      typed<T>(loops).rmsprop[variant](at<T>(t.param, off), at<T>(t.grad, off), at<T>(t.slot[0], off),
                                       at<T>(t.slot[1], off), at<T>(t.slot[2], off), n, c);
    };
    if (t.dtype == DType::Float32) go(0.0f, c32);
    else go(0.0, c64);
  });
}

void adam_step(const std::vector<OptimTensor>& tensors, double lr, double beta_1, double beta_2, double epsilon,
               int64_t step) {
  const AdamCoef<float> c32 = adam_coef<float>(lr, beta_1, beta_2, epsilon, step);
  const AdamCoef<double> c64 = adam_coef<double>(lr, beta_1, beta_2, epsilon, step);
  for_each_piece(tensors, [&](const OptimTensor& t, const OptimLoops& loops, int64_t off, int64_t n) {
    auto go = [&](auto zero, const auto& c) {
      using T = decltype(zero);
      typed<T>(loops).adam(at<T>(t.param, off), at<T>(t.grad, off), at<T>(t.slot[0], off), at<T>(t.slot[1], off),
                           n, c);
    };
    if (t.dtype == DType::Float32) go(0.0f, c32);
    else go(0.0, c64);
  });
}

}  // namespace tl::kernels
