#include "capture/recorder.h"
#include "ops/batch_norm.h"
#include <cmath>
#include <stdexcept>
#include <vector>
#include "autograd/function.h"
#include "core/error.h"
#include "kernels/batch_norm.h"
#include "kernels/copy.h"
#include "ops/binary.h"
#include "ops/creation.h"
#include "ops/inplace.h"

namespace tl {
namespace {

kernels::ChannelLayout layout_of(const Shape& s, int64_t axis) {
  kernels::ChannelLayout l;
  for (int64_t d = 0; d < int64_t(s.size()); ++d) {
    if (d < axis) l.outer *= s[size_t(d)];
    else if (d > axis) l.inner *= s[size_t(d)];
  }
  l.C = s[size_t(axis)];
  return l;
}

// Checks x and the per-channel vectors; returns the normalised axis.
int64_t check_args(const char* op, const Tensor& x, int64_t axis, std::initializer_list<std::pair<const char*, const Tensor*>> vectors,
                   double epsilon) {
  TL_CHECK_TYPE(is_floating(x.dtype()), op, "needs a float x, got ", dtype_name(x.dtype()));
  TL_CHECK(x.ndim() >= 1, op, "x must have at least one dimension, got shape ", shape_str(x.shape()));
  TL_CHECK(axis >= -x.ndim() && axis < x.ndim(), op, "axis ", axis, " is out of bounds for x of shape ",
           shape_str(x.shape()));
  const int64_t a = axis < 0 ? axis + x.ndim() : axis;
  const int64_t C = x.shape()[size_t(a)];
  for (const auto& [name, t] : vectors) {
    if (!t->defined()) continue;
    TL_CHECK(t->ndim() == 1 && t->shape()[0] == C, op, name, " must have shape (", C, ",) (x ",
             shape_str(x.shape()), " along axis ", axis, "), got ", shape_str(t->shape()));
    TL_CHECK_TYPE(is_floating(t->dtype()), op, "needs a float ", name, ", got ", dtype_name(t->dtype()));
  }
  TL_CHECK(std::isfinite(epsilon) && epsilon >= 0, op, "epsilon must be a finite number >= 0, got ", epsilon);
  return a;
}

// The values of a 1-D float tensor (or `fill` repeated C times when undefined), as doubles.
std::vector<double> doubles(const Tensor& t, int64_t C, double fill) {
  if (!t.defined()) return std::vector<double>(size_t(C), fill);
  NoGradGuard no_grad;
  const Tensor d = astype(t, DType::Float64).contiguous();
  return std::vector<double>(d.data<double>(), d.data<double>() + C);
}

// A fresh (C,) float64 tensor holding v: what nodes save, allocated in the op so that a captured
// step's replay rewrites it.
Tensor tensor_of(const std::vector<double>& v) {
  Tensor t = Tensor::empty({int64_t(v.size())}, DType::Float64);
  std::copy(v.begin(), v.end(), t.data<double>());
  return t;
}

// The (C,) gradient of a parameter of dtype `dt`, from doubles.
Tensor grad_of(const std::vector<double>& v, DType dt) {
  const Tensor t = tensor_of(v);
  return dt == DType::Float64 ? t : astype(t, dt);
}

// y = x * a[c] + k[c] with a = scale * inv, k = offset - mean * a.
Tensor normalise(const Tensor& xc, const kernels::ChannelLayout& l, const std::vector<double>& mean,
                 const std::vector<double>& inv, const std::vector<double>& scale, const std::vector<double>& offset) {
  Tensor y = Tensor::empty(xc.shape(), xc.dtype());
  TL_DISPATCH_FLOAT(xc.dtype(), "batch_normalization", [&] {
    std::vector<scalar_t> a(size_t(l.C)), k(size_t(l.C));
    for (int64_t c = 0; c < l.C; ++c) {
      const double ac = scale[size_t(c)] * inv[size_t(c)];
      a[size_t(c)] = scalar_t(ac);
      k[size_t(c)] = scalar_t(offset[size_t(c)] - mean[size_t(c)] * ac);
    }
    kernels::channel_affine<scalar_t>(l, xc.data<scalar_t>(), nullptr, a.data(), nullptr, k.data(),
                                      y.data<scalar_t>());
  });
  return y;
}

// What both backward passes start from: sum(g) and sum(g * (x - mean)) per channel.
struct GradSums {
  std::vector<double> g, gd;
};
GradSums grad_sums(const Tensor& g, const Tensor& x, const kernels::ChannelLayout& l, const double* mean) {
  GradSums s{std::vector<double>(size_t(l.C)), std::vector<double>(size_t(l.C))};
  TL_DISPATCH_FLOAT(x.dtype(), "batch_normalization", [&] {
    kernels::channel_grad_sums<scalar_t>(l, g.data<scalar_t>(), x.data<scalar_t>(), mean, s.g.data(), s.gd.data());
  });
  return s;
}

// dx = g * a[c] + x * b[c] + k[c] (b, k may be all zero).
Tensor affine_grad(const Tensor& g, const Tensor& x, const kernels::ChannelLayout& l, const std::vector<double>& a,
                   const std::vector<double>& b, const std::vector<double>& k) {
  Tensor dx = Tensor::empty(x.shape(), x.dtype());
  TL_DISPATCH_FLOAT(x.dtype(), "batch_normalization", [&] {
    const std::vector<scalar_t> at(a.begin(), a.end()), bt(b.begin(), b.end()), kt(k.begin(), k.end());
    kernels::channel_affine<scalar_t>(l, g.data<scalar_t>(), x.data<scalar_t>(), at.data(), bt.data(), kt.data(),
                                      dx.data<scalar_t>());
  });
  return dx;
}

// Both nodes: saved are the contiguous x, and per channel the mean, 1/sqrt(var + eps) and scale
// (float64 tensors made by the forward). backward computes the per-channel sums of g and
// g * (x - mean) that every gradient needs, then each node's `grads`.
struct BatchNormNode : Node {
  SavedTensor x_saved, mean_saved, inv_saved, scale_saved;
  kernels::ChannelLayout layout;
  const char* name() const override { return "NativeBatchNormBackward0"; }
  struct Inputs {
    const Tensor& g;
    const Tensor& x;
    const double *mean, *inv, *scale;
    GradSums sums;
  };
  virtual std::vector<Tensor> grads(const Inputs& in) = 0;
  std::vector<Tensor> backward(const Tensor& g_in) override {
    if (GradMode::is_enabled())
      throw std::runtime_error("[batch_normalization] double backward (create_graph=True) is not implemented");
    const Tensor g = g_in.contiguous();
    const Tensor& x = unpack(x_saved);
    const double* mean = unpack(mean_saved).data<double>();
    return grads({g, x, mean, unpack(inv_saved).data<double>(), unpack(scale_saved).data<double>(),
                  grad_sums(g, x, layout, mean)});
  }
  void release_saved() override {
    x_saved.reset();
    mean_saved.reset();
    inv_saved.reset();
    scale_saved.reset();
  }
};

// Inputs: x, mean, variance, offset, scale.
struct BatchNormBackward : BatchNormNode {
  std::vector<Tensor> grads(const Inputs& in) override {
    const size_t C = size_t(layout.C);
    std::vector<double> a(C), zero(C, 0.0), dmean(C), dvar(C), dscale(C);
    for (size_t i = 0; i < C; ++i) {
      a[i] = in.scale[i] * in.inv[i];
      dmean[i] = -a[i] * in.sums.g[i];
      dvar[i] = -0.5 * in.scale[i] * in.inv[i] * in.inv[i] * in.inv[i] * in.sums.gd[i];
      dscale[i] = in.inv[i] * in.sums.gd[i];
    }
    std::vector<Tensor> out(5);
    if (needs_input_grad(0)) out[0] = affine_grad(in.g, in.x, layout, a, zero, zero);
    if (needs_input_grad(1)) out[1] = grad_of(dmean, input_meta[1].dtype);
    if (needs_input_grad(2)) out[2] = grad_of(dvar, input_meta[2].dtype);
    if (needs_input_grad(3)) out[3] = grad_of(in.sums.g, input_meta[3].dtype);
    if (needs_input_grad(4)) out[4] = grad_of(dscale, input_meta[4].dtype);
    return out;
  }
};

// Inputs: x, offset, scale. The batch statistics depend on x:
//   dx = a * (g - sum(g) / n - (x - mean) * inv^2 * sum(g * (x - mean)) / n),  a = scale * inv
struct BatchNormTrainBackward : BatchNormNode {
  std::vector<Tensor> grads(const Inputs& in) override {
    const size_t C = size_t(layout.C);
    const double n = double(layout.count());
    std::vector<double> a(C), b(C), k(C), dscale(C);
    for (size_t i = 0; i < C; ++i) {
      a[i] = in.scale[i] * in.inv[i];
      b[i] = -a[i] * in.inv[i] * in.inv[i] * in.sums.gd[i] / n;
      k[i] = -a[i] * in.sums.g[i] / n - in.mean[i] * b[i];
      dscale[i] = in.inv[i] * in.sums.gd[i];
    }
    std::vector<Tensor> out(3);
    if (needs_input_grad(0)) out[0] = affine_grad(in.g, in.x, layout, a, b, k);
    if (needs_input_grad(1)) out[1] = grad_of(in.sums.g, input_meta[1].dtype);
    if (needs_input_grad(2)) out[2] = grad_of(dscale, input_meta[2].dtype);
    return out;
  }
};

std::vector<double> inverse_std(const std::vector<double>& var, double epsilon) {
  std::vector<double> inv(var.size());
  for (size_t c = 0; c < var.size(); ++c) inv[c] = 1.0 / std::sqrt(var[c] + epsilon);
  return inv;
}

void save(BatchNormNode& node, const Tensor& xc, const kernels::ChannelLayout& l, const std::vector<double>& mean,
          const std::vector<double>& inv, const std::vector<double>& scale) {
  node.x_saved = xc;
  node.mean_saved = tensor_of(mean);
  node.inv_saved = tensor_of(inv);
  node.scale_saved = tensor_of(scale);
  node.layout = l;
}

}  // namespace

Tensor batch_normalization(const Tensor& x, const Tensor& mean, const Tensor& variance, int64_t axis,
                           const Tensor& offset, const Tensor& scale, double epsilon) {
  TL_CAPTURE_OP(batch_normalization, x, mean, variance, axis, offset, scale, epsilon);
  const char* op = "batch_normalization";
  TL_CHECK(mean.defined() && variance.defined(), op, "needs mean and variance");
  const int64_t a = check_args(op, x, axis, {{"mean", &mean}, {"variance", &variance}, {"offset", &offset},
                                             {"scale", &scale}}, epsilon);
  const kernels::ChannelLayout l = layout_of(x.shape(), a);
  const Tensor xc = x.contiguous();
  const std::vector<double> m = doubles(mean, l.C, 0), inv = inverse_std(doubles(variance, l.C, 0), epsilon),
                            sc = doubles(scale, l.C, 1);
  Tensor y = normalise(xc, l, m, inv, sc, doubles(offset, l.C, 0));
  if (auto node = record<BatchNormBackward>(y, {x, mean, variance, offset, scale})) save(*node, xc, l, m, inv, sc);
  return y;
}

Tensor batch_norm_train(const Tensor& x, const Tensor& moving_mean, const Tensor& moving_variance, int64_t axis,
                        const Tensor& offset, const Tensor& scale, double momentum, double epsilon) {
  TL_CAPTURE_OP(batch_norm_train, x, moving_mean, moving_variance, axis, offset, scale, momentum, epsilon);
  const char* op = "batch_norm_train";
  TL_CHECK(moving_mean.defined() && moving_variance.defined(), op, "needs moving_mean and moving_variance");
  const int64_t a = check_args(op, x, axis, {{"moving_mean", &moving_mean}, {"moving_variance", &moving_variance},
                                             {"offset", &offset}, {"scale", &scale}}, epsilon);
  TL_CHECK(std::isfinite(momentum), op, "momentum must be a finite number, got ", momentum);
  for (const Tensor* t : {&moving_mean, &moving_variance}) {
    check_inplace_target(*t, op);
    if (t->requires_grad() && GradMode::is_enabled())
      throw std::runtime_error(str_cat("[", op, "] the moving statistics are updated in place and must not "
                                       "require grad"));
  }
  const kernels::ChannelLayout l = layout_of(x.shape(), a);
  TL_CHECK(l.count() > 0, op, "x ", shape_str(x.shape()), " has no values per channel along axis ", axis,
           ": the batch's mean and variance do not exist");
  const Tensor xc = x.contiguous();
  std::vector<double> mean(size_t(l.C)), var(size_t(l.C));
  TL_DISPATCH_FLOAT(x.dtype(), op, [&] { kernels::channel_moments<scalar_t>(l, xc.data<scalar_t>(), mean.data(), var.data()); });
  // The moving statistics, in their own dtype: Keras's assign of moving * momentum + batch * (1 - momentum).
  const auto update = [&](const Tensor& moving, const std::vector<double>& batch) {
    std::vector<double> v = doubles(moving, l.C, 0);
    for (size_t c = 0; c < v.size(); ++c) v[c] = v[c] * momentum + batch[c] * (1.0 - momentum);
    const Tensor src = tensor_of(v);
    begin_inplace_write(moving, op);
    kernels::copy_cast(moving, src);
  };
  update(moving_mean, mean);
  update(moving_variance, var);
  const std::vector<double> inv = inverse_std(var, epsilon), sc = doubles(scale, l.C, 1);
  Tensor y = normalise(xc, l, mean, inv, sc, doubles(offset, l.C, 0));
  if (auto node = record<BatchNormTrainBackward>(y, {x, offset, scale})) save(*node, xc, l, mean, inv, sc);
  return y;
}

}  // namespace tl
