#include "kernels/optim.h"

#include <cmath>
#include <type_traits>

#include "kernels/parallel.h"

namespace tl::kernels {
namespace {

// Elements per task: enough work per chunk to amortise scheduling.
constexpr int64_t kGrain = 16384;

template <class F>
void for_chunks(int64_t n, F&& body) {
  if (n < kParallelElementThreshold) {
    body(int64_t{0}, n);
  } else {
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) { body(b, e); });
  }
}

}  // namespace

template <class T>
void sgd_update(T* param, const T* grad, T* momentum_buf, int64_t n, double lr_d, double momentum_d,
                bool nesterov) {
  const T lr = static_cast<T>(lr_d);
  const T momentum = static_cast<T>(momentum_d);
  if (momentum_buf == nullptr) {
    for_chunks(n, [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) param[i] -= grad[i] * lr;
    });
  } else if (nesterov) {
    for_chunks(n, [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T gl = grad[i] * lr;
        const T m = momentum_buf[i] * momentum - gl;
        momentum_buf[i] = m;
        param[i] += m * momentum - gl;
      }
    });
  } else {
    for_chunks(n, [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T m = momentum_buf[i] * momentum - grad[i] * lr;
        momentum_buf[i] = m;
        param[i] += m;
      }
    });
  }
}

template <class T>
void rmsprop_update(T* param, const T* grad, T* velocity, T* momentum_buf, T* average_grad, int64_t n,
                    double lr_d, double rho_d, double momentum_d, double epsilon_d) {
  const T lr = static_cast<T>(lr_d);
  const T rho = static_cast<T>(rho_d);
  const T one_minus_rho = static_cast<T>(1.0 - rho_d);
  const T momentum = static_cast<T>(momentum_d);
  const T epsilon = static_cast<T>(epsilon_d);
  // The four variants get their own loops so the hot loop has no per-element branches.
  auto run = [&](auto centered_tag, auto momentum_tag) {
    constexpr bool kCentered = decltype(centered_tag)::value;
    constexpr bool kMomentum = decltype(momentum_tag)::value;
    for_chunks(n, [=](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T g = grad[i];
        const T v = rho * velocity[i] + one_minus_rho * (g * g);
        velocity[i] = v;
        T denom;
        if constexpr (kCentered) {
          const T a = rho * average_grad[i] + one_minus_rho * g;
          average_grad[i] = a;
          denom = v - a * a + epsilon;
        } else {
          denom = v + epsilon;
        }
        const T inc = (lr * g) / std::sqrt(denom);
        if constexpr (kMomentum) {
          const T m = momentum * momentum_buf[i] + inc;
          momentum_buf[i] = m;
          param[i] -= m;
        } else {
          param[i] -= inc;
        }
      }
    });
  };
  using Yes = std::true_type;
  using No = std::false_type;
  const bool centered = average_grad != nullptr;
  const bool with_momentum = momentum_buf != nullptr;
  if (centered && with_momentum) run(Yes{}, Yes{});
  else if (centered) run(Yes{}, No{});
  else if (with_momentum) run(No{}, Yes{});
  else run(No{}, No{});
}

template <class T>
void adam_update(T* param, const T* grad, T* m, T* v, int64_t n, double lr_d, double beta_1_d,
                 double beta_2_d, double epsilon_d, int64_t step) {
  const T t = static_cast<T>(step);
  const T lr = static_cast<T>(lr_d);
  const T beta_1_power = std::pow(static_cast<T>(beta_1_d), t);
  const T beta_2_power = std::pow(static_cast<T>(beta_2_d), t);
  const T alpha = lr * std::sqrt(T(1) - beta_2_power) / (T(1) - beta_1_power);
  const T one_minus_b1 = static_cast<T>(1.0 - beta_1_d);
  const T one_minus_b2 = static_cast<T>(1.0 - beta_2_d);
  const T epsilon = static_cast<T>(epsilon_d);
  for_chunks(n, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T g = grad[i];
      const T mi = m[i] + (g - m[i]) * one_minus_b1;
      const T vi = v[i] + (g * g - v[i]) * one_minus_b2;
      m[i] = mi;
      v[i] = vi;
      param[i] -= (mi * alpha) / (std::sqrt(vi) + epsilon);
    }
  });
}

#define TL_INSTANTIATE_OPTIM(T)                                                                      \
  template void sgd_update<T>(T*, const T*, T*, int64_t, double, double, bool);                      \
  template void rmsprop_update<T>(T*, const T*, T*, T*, T*, int64_t, double, double, double, double); \
  template void adam_update<T>(T*, const T*, T*, T*, int64_t, double, double, double, double, int64_t);
TL_INSTANTIATE_OPTIM(float)
TL_INSTANTIATE_OPTIM(double)
#undef TL_INSTANTIATE_OPTIM

}  // namespace tl::kernels
