// The catalog's optimizer rules (optim.h: catalog_step): plain per-element loops over the
// multi-tensor driver, one loop per rule with its coefficients cast to T and computed once per
// step in T, as Keras casts its Python floats to the variable's dtype.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/optim.h"
#include "kernels/optim_pieces.h"

namespace tl::kernels {
namespace {

template <class T>
struct Coef {
  T lr, beta_1, beta_2, one_minus_beta_1, one_minus_beta_2, epsilon, rho, one_minus_rho;
  T alpha;           // Adam: lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
  T beta_1_power;    // Adamax
  T u_t, u_t1, u_product, u_product_t1, beta_2_power;  // Nadam
};

template <class T>
Coef<T> coef(const CatalogHyper& h) {
  Coef<T> c{};
  const T t = static_cast<T>(h.step);
  c.lr = static_cast<T>(h.lr);
  c.beta_1 = static_cast<T>(h.beta_1);
  c.beta_2 = static_cast<T>(h.beta_2);
  c.one_minus_beta_1 = static_cast<T>(1.0 - h.beta_1);
  c.one_minus_beta_2 = static_cast<T>(1.0 - h.beta_2);
  c.epsilon = static_cast<T>(h.epsilon);
  c.rho = static_cast<T>(h.rho);
  c.one_minus_rho = static_cast<T>(1.0 - h.rho);
  c.beta_1_power = std::pow(c.beta_1, t);
  c.beta_2_power = std::pow(c.beta_2, t);
  c.alpha = c.lr * std::sqrt(T(1) - c.beta_2_power) / (T(1) - c.beta_1_power);
  const T decay = static_cast<T>(0.96);
  c.u_t = c.beta_1 * (T(1) - T(0.5) * std::pow(decay, t));
  c.u_t1 = c.beta_1 * (T(1) - T(0.5) * std::pow(decay, t + T(1)));
  c.u_product = static_cast<T>(h.u_product);
  c.u_product_t1 = c.u_product * c.u_t1;
  return c;
}

// Branch-free (random signs would mispredict every other element); 0 and NaN stay as they are.
template <class T>
T sign(T x) {
  const T s = T(x > T(0)) - T(x < T(0));
  return x == x && x != T(0) ? s : x;
}

// One piece of one tensor: p, g, slots at the same offset, n elements.
template <class T>
void run(OptimRule rule, bool amsgrad, T* __restrict p, const T* __restrict g, T* __restrict s0, T* __restrict s1,
         T* __restrict s2, int64_t n, const Coef<T>& c, T wd_lr_factor, T wd) {
  if (wd != T(0)) {
    for (int64_t i = 0; i < n; ++i) p[i] = p[i] - p[i] * wd * wd_lr_factor;
  }
  switch (rule) {
    case OptimRule::Adam:
      for (int64_t i = 0; i < n; ++i) {
        s0[i] += (g[i] - s0[i]) * c.one_minus_beta_1;
        s1[i] += (g[i] * g[i] - s1[i]) * c.one_minus_beta_2;
        T v = s1[i];
        if (amsgrad) {
          s2[i] = s2[i] > v ? s2[i] : v;
          v = s2[i];
        }
        p[i] -= (s0[i] * c.alpha) / (std::sqrt(v) + c.epsilon);
      }
      break;
    case OptimRule::Adagrad:
      for (int64_t i = 0; i < n; ++i) {
        s0[i] += g[i] * g[i];
        p[i] -= c.lr * g[i] / std::sqrt(s0[i] + c.epsilon);
      }
      break;
    case OptimRule::Adadelta:
      for (int64_t i = 0; i < n; ++i) {
        s0[i] = c.rho * s0[i] + c.one_minus_rho * (g[i] * g[i]);
        const T delta = -(std::sqrt(s1[i] + c.epsilon) * g[i] / std::sqrt(s0[i] + c.epsilon));
        s1[i] = c.rho * s1[i] + c.one_minus_rho * (delta * delta);
        p[i] += c.lr * delta;
      }
      break;
    case OptimRule::Adamax:
      for (int64_t i = 0; i < n; ++i) {
        s0[i] += (g[i] - s0[i]) * c.one_minus_beta_1;
        const T scaled = c.beta_2 * s1[i];
        const T mag = std::abs(g[i]);
        s1[i] = scaled > mag ? scaled : mag;
        p[i] -= (c.lr * s0[i]) / ((T(1) - c.beta_1_power) * (s1[i] + c.epsilon));
      }
      break;
    case OptimRule::Nadam:
      for (int64_t i = 0; i < n; ++i) {
        s0[i] += (g[i] - s0[i]) * c.one_minus_beta_1;
        s1[i] += (g[i] * g[i] - s1[i]) * c.one_minus_beta_2;
        const T m_hat = c.u_t1 * s0[i] / (T(1) - c.u_product_t1) + (T(1) - c.u_t) * g[i] / (T(1) - c.u_product);
        const T v_hat = s1[i] / (T(1) - c.beta_2_power);
        p[i] -= (m_hat * c.lr) / (std::sqrt(v_hat) + c.epsilon);
      }
      break;
    case OptimRule::Lion:
      for (int64_t i = 0; i < n; ++i) {
        p[i] -= c.lr * sign(s0[i] * c.beta_1 + g[i] * c.one_minus_beta_1);
        s0[i] = s0[i] * c.beta_2 + g[i] * c.one_minus_beta_2;
      }
      break;
  }
}

template <class T>
T* at(void* p, int64_t off) {
  return p ? static_cast<T*>(p) + off : nullptr;
}

// Each tensor's clipping factor (norm kinds): the sums of squares in T, as Keras reduces in the
// variable's dtype, over 8 interleaved partial sums (independent adds vectorise; the order is
// fixed, so the result does not depend on threads).
template <class T>
T sum_of_squares(const OptimTensor& t) {
  const T* g = static_cast<const T*>(t.grad);
  constexpr int kLanes = 8;
  T part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= t.n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) part[k] += g[i + k] * g[i + k];
  T total = T(0);
  for (int k = 0; k < kLanes; ++k) total += part[k];
  for (; i < t.n; ++i) total += g[i] * g[i];
  return total;
}

double tensor_sum_of_squares(const OptimTensor& t) {
  return t.dtype == DType::Float32 ? double(sum_of_squares<float>(t)) : sum_of_squares<double>(t);
}

// The clipped gradient of one piece, into `out` (n elements): Keras's formulas in T.
template <class T>
void clip_piece(const T* g, T* out, int64_t n, ClipKind kind, T c, T norm_or_scale) {
  switch (kind) {
    case ClipKind::Norm: {
      const T m = norm_or_scale > c ? norm_or_scale : c;  // max(||g||, c)
      for (int64_t i = 0; i < n; ++i) out[i] = g[i] * c / m;
      break;
    }
    case ClipKind::GlobalNorm:
      for (int64_t i = 0; i < n; ++i) out[i] = g[i] * norm_or_scale;
      break;
    case ClipKind::Value:
      for (int64_t i = 0; i < n; ++i) out[i] = g[i] < -c ? -c : (g[i] > c ? c : g[i]);
      break;
    case ClipKind::None:
      break;
  }
}

}  // namespace

void catalog_step(OptimRule rule, const std::vector<OptimTensor>& tensors, const CatalogHyper& h,
                  const std::vector<double>& weight_decay) {
  const Coef<float> c32 = coef<float>(h);
  const Coef<double> c64 = coef<double>(h);
  // Per tensor: its norm (ClipKind::Norm) or the global scale (GlobalNorm), computed before any
  // update reads a gradient.
  std::vector<double> clip_arg(tensors.size(), 0.0);
  if (h.clip == ClipKind::Norm || h.clip == ClipKind::GlobalNorm) {
    double global = 0.0;
    for (size_t i = 0; i < tensors.size(); ++i) {
      const double sq = tensor_sum_of_squares(tensors[i]);
      clip_arg[i] = std::sqrt(sq);
      global += sq;
    }
    if (h.clip == ClipKind::GlobalNorm) {
      const double norm = std::sqrt(global);
      // 1 / 0 = inf: scale 1; a non-finite norm gives NaN, as Keras's clip_by_global_norm
      const double scale = std::isfinite(norm) ? h.clip_value * std::min(1.0 / norm, 1.0 / h.clip_value)
                                               : std::nan("");
      std::fill(clip_arg.begin(), clip_arg.end(), scale);
    }
  }
  // Index of each tensor (pieces know their tensor by address) for its decay and clip factors.
  const OptimTensor* first = tensors.data();
  for_each_optim_piece(tensors, [&](const OptimTensor& t, int64_t off, int64_t n) {
    const size_t index = size_t(&t - first);
    const double wd = weight_decay.empty() ? 0.0 : weight_decay[index];
    auto go = [&](auto zero, const auto& c) {
      using T = decltype(zero);
      const T* g = static_cast<const T*>(t.grad) + off;
      std::vector<T> clipped;
      if (h.clip != ClipKind::None) {
        clipped.resize(size_t(n));
        clip_piece<T>(g, clipped.data(), n, h.clip, static_cast<T>(h.clip_value), static_cast<T>(clip_arg[index]));
        g = clipped.data();
      }
      run<T>(rule, h.amsgrad, at<T>(t.param, off), g, at<T>(t.slot[0], off), at<T>(t.slot[1], off),
             at<T>(t.slot[2], off), n, c, c.lr, static_cast<T>(wd));
    };
    if (t.dtype == DType::Float32) go(0.0f, c32);
    else go(0.0, c64);
  });
}

}  // namespace tl::kernels
