#include "capture/recorder.h"
#include "ops/nn.h"
#include <numeric>
#include "autograd/function.h"
#include "kernels/nn.h"
#include "ops/binary.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"

namespace tl {

namespace {

// Permutation moving `axis` last, and its inverse.
std::vector<int64_t> axis_last_perm(int64_t nd, int64_t axis) {
  std::vector<int64_t> p;
  for (int64_t d = 0; d < nd; ++d)
    if (d != axis) p.push_back(d);
  p.push_back(axis);
  return p;
}
std::vector<int64_t> inverse_perm(const std::vector<int64_t>& p) {
  std::vector<int64_t> inv(p.size());
  for (size_t i = 0; i < p.size(); ++i) inv[p[i]] = static_cast<int64_t>(i);
  return inv;
}

Tensor as_float(const Tensor& x, const char* op) {
  // Complex logits / probabilities have no meaning here: refuse rather than drop the imaginary part.
  TL_CHECK_TYPE(!is_complex(x.dtype()), op, "not supported for complex dtype ", dtype_name(x.dtype()));
  return is_floating(x.dtype()) ? x : astype(x, DType::Float64);
}

// Gradient of a per-row value, as a column that broadcasts against the rows.
Tensor per_row(const Tensor& g) {
  Shape s = g.shape();
  s.push_back(1);
  return reshape(g, s);
}

struct SoftmaxBackward : Node {
  SavedTensor x_saved, y_saved;  // x: the (axis-last) input as given; y: the output (contiguous)
  bool log = false;
  const char* name() const override { return log ? "LogSoftmaxBackward0" : "SoftmaxBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    if (GradMode::is_enabled()) {  // create_graph: differentiable composite
      Tensor p = softmax(unpack(x_saved), -1);
      if (log) return {sub(g, mul(p, sum(g, AxisSpec::of({-1}), true)))};
      return {mul(p, sub(g, sum(mul(g, p), AxisSpec::of({-1}), true)))};
    }
    const Tensor& y = unpack(y_saved);
    Tensor gx = Tensor::empty(y.shape(), y.dtype());
    kernels::softmax_rows_backward(gx, g.contiguous(), y, y.shape().back(), log);
    return {gx};
  }
  void release_saved() override {
    x_saved.reset();
    y_saved.reset();
  }
};

Tensor softmax_last(const Tensor& x, bool log) {
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  kernels::softmax_rows(y, xc, x.shape().back(), log);
  if (auto node = record<SoftmaxBackward>(y, {x})) {
    node->x_saved = x;
    node->y_saved.save_output(y);
    node->log = log;
  }
  return y;
}

Tensor softmax_impl(const Tensor& x_in, int64_t axis, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  const int64_t nd = x_in.ndim();
  TL_CHECK_INDEX(nd > 0, name, "axis ", axis, " is out of bounds for array of dimension 0");
  const int64_t ax = normalize_axis(axis, nd, name);
  Tensor x = as_float(x_in, name);
  if (ax == nd - 1) return softmax_last(x, log);
  std::vector<int64_t> perm = axis_last_perm(nd, ax);
  return not_a_view(transpose(softmax_last(transpose(x, perm), log), inverse_perm(perm)));
}

// Loss inputs: float logits, targets cast to the logits' dtype.
void check_same_shape(const Tensor& a, const Tensor& b, const char* op, const char* an, const char* bn) {
  TL_CHECK(a.shape() == b.shape(), op, "arguments `", an, "` and `", bn, "` must have the same shape, got ",
           shape_str(a.shape()), " and ", shape_str(b.shape()));
}

struct SoftmaxXentBackward : Node {
  SavedTensor z_saved, t_saved;  // as given (axis last)
  Tensor lse, tsum;              // per row, private to this node
  const char* name() const override { return "SoftmaxCrossEntropyBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const bool gz_needed = needs_input_grad(0), gt_needed = needs_input_grad(1);
    const Tensor &z = unpack(z_saved), &t = unpack(t_saved);
    if (GradMode::is_enabled()) {
      Tensor gcol = per_row(g), gz, gt;
      if (gz_needed) gz = mul(sub(mul(softmax(z, -1), sum(t, AxisSpec::of({-1}), true)), t), gcol);
      if (gt_needed) gt = neg(mul(log_softmax(z, -1), gcol));
      return {gz, gt};
    }
    Tensor gz = gz_needed ? Tensor::empty(z.shape(), z.dtype()) : Tensor();
    Tensor gt = gt_needed ? Tensor::empty(z.shape(), z.dtype()) : Tensor();
    kernels::softmax_xent_rows_backward(gz, gt, g.contiguous(), z.contiguous(), t.contiguous(), lse, tsum,
                                        z.shape().back());
    return {gz, gt};
  }
  void release_saved() override {
    z_saved.reset();
    t_saved.reset();
    lse = tsum = Tensor();
  }
};

struct SparseXentBackward : Node {
  SavedTensor z_saved;
  Tensor labels, lse;  // private to this node
  const char* name() const override { return "SparseSoftmaxCrossEntropyBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const Tensor& z = unpack(z_saved);
    const int64_t C = z.shape().back();
    if (GradMode::is_enabled()) {
      Tensor onehot = Tensor::zeros(z.shape(), z.dtype());
      TL_DISPATCH_FLOAT(z.dtype(), "sparse_softmax_cross_entropy", [&] {
        scalar_t* o = onehot.data<scalar_t>();
        const int64_t* y = labels.data<int64_t>();
        for (int64_t r = 0; r < labels.numel(); ++r) o[r * C + y[r]] = 1;
      });
      return {mul(sub(softmax(z, -1), onehot), per_row(g))};
    }
    Tensor gz = Tensor::empty(z.shape(), z.dtype());
    kernels::sparse_xent_rows_backward(gz, g.contiguous(), z.contiguous(), labels, lse, C);
    if (capture::recording()) capture::describe({gz}, {z, labels, lse});  // for capture/rewrite.cpp
    return {gz};
  }
  void release_saved() override {
    z_saved.reset();
    labels = lse = Tensor();
  }
};

// Keras' squeeze_or_expand_to_same_rank: a trailing 1 on one side only is dropped/added.
Tensor match_rank(const Tensor& t, const Tensor& like) {
  if (t.ndim() == like.ndim() + 1 && t.shape().back() == 1) {
    Shape s(t.shape().begin(), t.shape().end() - 1);
    return reshape(t, s);
  }
  if (like.ndim() == t.ndim() + 1 && like.shape().back() == 1) {
    Shape s = t.shape();
    s.push_back(1);
    return reshape(t, s);
  }
  return t;
}

struct BceBackward : Node {
  SavedTensor p_saved, t_saved;
  bool from_logits = false;
  const char* name() const override { return "BinaryCrossEntropyBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const Tensor &p = unpack(p_saved), &t = unpack(t_saved);
    // Computed by a kernel even under create_graph: no double backward through this loss.
    Tensor gp = needs_input_grad(0) ? Tensor::empty(p.shape(), p.dtype()) : Tensor();
    Tensor gt = needs_input_grad(1) ? Tensor::empty(p.shape(), p.dtype()) : Tensor();
    kernels::bce_rows_backward(gp, gt, g.contiguous(), p.contiguous(), t.contiguous(), p.shape().back(), from_logits);
    return {gp, gt};
  }
  void release_saved() override {
    p_saved.reset();
    t_saved.reset();
  }
};

Shape rows_shape(const Shape& s) { return Shape(s.begin(), s.end() - 1); }
// The per-row log-sum-exp pair (max, log sum exp(z - max)).
Shape pair_shape(Shape rows) {
  rows.push_back(2);
  return rows;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { TL_CAPTURE_OP(softmax, x, axis); return softmax_impl(x, axis, false); }
Tensor log_softmax(const Tensor& x, int64_t axis) { TL_CAPTURE_OP(log_softmax, x, axis); return softmax_impl(x, axis, true); }

Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets, int64_t axis) {
  TL_CAPTURE_OP(softmax_cross_entropy, logits, targets, axis);
  const char* name = "softmax_cross_entropy";
  check_same_shape(logits, targets, name, "logits", "targets");
  const int64_t nd = logits.ndim();
  TL_CHECK(nd >= 1, name, "arguments `logits` and `targets` must be at least rank 1, got shape ",
           shape_str(logits.shape()));
  const int64_t ax = normalize_axis(axis, nd, name);
  Tensor z = as_float(logits, "softmax_cross_entropy"), t = astype(targets, z.dtype());
  if (ax != nd - 1) {
    std::vector<int64_t> perm = axis_last_perm(nd, ax);
    z = transpose(z, perm);
    t = transpose(t, perm);
  }
  const int64_t C = z.shape().back();
  Shape out_shape = rows_shape(z.shape());
  Tensor loss = Tensor::empty(out_shape, z.dtype()), lse = Tensor::empty(pair_shape(out_shape), z.dtype()),
         tsum = Tensor::empty(out_shape, z.dtype());
  kernels::softmax_xent_rows(loss, lse, tsum, z.contiguous(), t.contiguous(), C);
  if (auto node = record<SoftmaxXentBackward>(loss, {z, t})) {
    node->z_saved = z;
    node->t_saved = t;
    node->lse = lse;
    node->tsum = tsum;
  }
  return loss;
}

Tensor sparse_softmax_cross_entropy(const Tensor& logits, const Tensor& labels_in) {
  TL_CAPTURE_OP(sparse_softmax_cross_entropy, logits, labels_in);
  const char* name = "sparse_softmax_cross_entropy";
  TL_CHECK(logits.ndim() >= 1, name, "argument `logits` must be at least rank 1, got shape ", shape_str(logits.shape()));
  TL_CHECK_TYPE(is_integral(labels_in.dtype()), name, "labels must be integers, got dtype ",
                dtype_name(labels_in.dtype()), " (cast them with astype('int64'))");
  Shape rows = rows_shape(logits.shape());
  Tensor labels = labels_in;
  if (labels.ndim() == logits.ndim() && labels.shape().back() == 1) labels = labels.view_with(
      rows_shape(labels.shape()), Strides(labels.strides().begin(), labels.strides().end() - 1), labels.offset());
  TL_CHECK(labels.shape() == rows, name, "labels of shape ", shape_str(labels_in.shape()),
           " do not match logits of shape ", shape_str(logits.shape()), ": expected labels of shape ", shape_str(rows));
  const int64_t C = logits.shape().back();
  // A private int64 copy: checked once here, and the caller changing its labels after the
  // forward cannot change (or break the bounds of) the backward.
  labels = labels.to_dtype(DType::Int64);
  labels = labels.storage() == labels_in.storage() ? labels.clone() : labels.contiguous();
  // Logged with the kernels: a replayed step checks each batch's labels before the kernel reads them.
  capture::record_check([labels, C, name] {
    const int64_t* y = labels.data<int64_t>();
    for (int64_t i = 0, n = labels.numel(); i < n; ++i)
      TL_CHECK_INDEX(y[i] >= 0 && y[i] < C, name, "label ", y[i], " (at flat index ", i, ") is out of range for ", C,
                     " classes");
  }, {capture::written_ptr(labels)});
  Tensor z = as_float(logits, "sparse_softmax_cross_entropy");
  Tensor loss = Tensor::empty(rows, z.dtype()), lse = Tensor::empty(pair_shape(rows), z.dtype());
  kernels::sparse_xent_rows(loss, lse, z.contiguous(), labels, C);
  if (auto node = record<SparseXentBackward>(loss, {z})) {
    node->z_saved = z;
    node->labels = labels;
    node->lse = lse;
  }
  return loss;
}

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets, bool from_logits) {
  TL_CAPTURE_OP(binary_cross_entropy, probs, targets, from_logits);
  const char* name = "binary_cross_entropy";
  Tensor p = as_float(probs, "binary_cross_entropy");
  Tensor t = astype(match_rank(targets, p), p.dtype());
  check_same_shape(t, p, name, "targets", "probs");
  TL_CHECK(p.ndim() >= 1, name, "arguments must be at least rank 1, got shape ", shape_str(p.shape()));
  Tensor loss = Tensor::empty(rows_shape(p.shape()), p.dtype());
  kernels::bce_rows(loss, p.contiguous(), t.contiguous(), p.shape().back(), from_logits);
  if (auto node = record<BceBackward>(loss, {p, t})) {
    node->p_saved = p;
    node->t_saved = t;
    node->from_logits = from_logits;
  }
  return loss;
}

Tensor mean_squared_error(const Tensor& pred, const Tensor& target) {
  TL_CAPTURE_OP(mean_squared_error, pred, target);
  const char* name = "mean_squared_error";
  Tensor p = as_float(pred, "mean_squared_error");
  Tensor t = astype(match_rank(target, p), p.dtype());
  Shape s = broadcast_shapes(p.shape(), t.shape(), name);
  TL_CHECK(!s.empty(), name, "arguments must be at least rank 1, got shapes ", shape_str(pred.shape()), " and ",
           shape_str(target.shape()));
  Tensor d = sub(p, t);
  return mean(mul(d, d), AxisSpec::of({-1}));
}

}  // namespace tl
