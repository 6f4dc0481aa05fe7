#include "train/dense_stack.h"
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include "core/error.h"
#include "kernels/denormal.h"
#include "kernels/gemm.h"
#include "kernels/nn.h"
#include "kernels/reduce.h"
#include "ops/indexing.h"

namespace tl::train {
namespace {

constexpr const char* kOp = "DenseStack";
void check_matrix(const Tensor& t, const char* what, DType dtype) {
  TL_CHECK(t.defined(), kOp, what, " is missing");
  TL_CHECK(t.dtype() == dtype, kOp, what, " has dtype ", dtype_name(t.dtype()), ", expected ", dtype_name(dtype));
  TL_CHECK(t.is_contiguous(), kOp, what, " must be contiguous");
}

// Rows [start, start + rows) of a contiguous tensor, as a contiguous view (the workspace is
// sized for the largest batch; a step uses its first rows).
Tensor rows_at(const Tensor& t, int64_t start, int64_t rows) {
  Shape shape = t.shape();
  shape[0] = rows;
  int64_t row = 1;
  for (size_t d = 1; d < shape.size(); ++d) row *= shape[d];
  return t.view_with(shape, contiguous_strides(shape), t.offset() + start * row);
}

Tensor first_rows(const Tensor& t, int64_t rows) { return rows_at(t, 0, rows); }

// Hits: rows where the argmax of the logits equals the label (argmax of the target row when
// the labels are one-hot), with numpy.argmax's ties and NaNs (kernels::arg_reduce).
int64_t count_hits(const Tensor& pred, const Tensor& label) {
  const int64_t* p = pred.data<int64_t>();
  const int64_t* l = label.data<int64_t>();
  int64_t hits = 0;
  for (int64_t r = 0; r < pred.numel(); ++r) hits += p[r] == l[r];
  return hits;
}

// dh *= (h > 0): relu's derivative, as a product so a NaN gradient stays NaN (as on the
// generic path); branch-free, since the sign pattern of h is random.
template <class T>
void relu_mask(T* __restrict dh, const T* __restrict h, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dh[i] *= T(h[i] > T(0));
}

}  // namespace

DenseStack::DenseStack(std::vector<DenseLayerSpec> layers, DenseLoss loss, int64_t max_batch, bool training,
                       bool softmax_output)
    : layers_(std::move(layers)), loss_(loss), training_(training), softmax_output_(softmax_output),
      max_batch_(max_batch) {
  TL_CHECK(!(training && loss == DenseLoss::None), kOp, "training needs a loss");
  TL_CHECK(!layers_.empty(), kOp, "needs at least one Dense layer");
  TL_CHECK(max_batch_ >= 1, kOp, "batch size must be positive, got ", max_batch_);
  dtype_ = layers_[0].kernel.defined() ? layers_[0].kernel.dtype() : DType::Float32;
  TL_CHECK(dtype_ == DType::Float32 || dtype_ == DType::Float64, kOp, "weights must be float32 or float64, got ",
           dtype_name(dtype_));
  int64_t width = -1;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const DenseLayerSpec& L = layers_[l];
    check_matrix(L.kernel, "a kernel", dtype_);
    TL_CHECK(L.kernel.ndim() == 2, kOp, "kernel ", l, " must be 2-D, got shape ", shape_str(L.kernel.shape()));
    const int64_t in = L.kernel.shape()[0], units = L.kernel.shape()[1];
    TL_CHECK(in >= 1 && units >= 1, kOp, "kernel ", l, " has an empty shape ", shape_str(L.kernel.shape()));
    TL_CHECK(width < 0 || in == width, kOp, "kernel ", l, " of shape ", shape_str(L.kernel.shape()),
             " does not follow a layer of ", width, " units");
    if (L.bias.defined()) {
      check_matrix(L.bias, "a bias", dtype_);
      TL_CHECK(L.bias.ndim() == 1 && L.bias.shape()[0] == units, kOp, "bias ", l, " must have shape (", units,
               ",), got ", shape_str(L.bias.shape()));
    }
    width = units;
  }
  TL_CHECK(!layers_.back().relu, kOp, "the last layer's logits feed the softmax: it cannot have a relu");
  in_features_ = layers_[0].kernel.shape()[0];
  classes_ = width;
  for (const DenseLayerSpec& L : layers_) outs_.push_back(Tensor::empty({max_batch_, L.kernel.shape()[1]}, dtype_));
  if (loss_ != DenseLoss::None) {  // the loss kernels' per-row outputs
    loss_rows_ = Tensor::empty({max_batch_}, dtype_);
    lse_ = Tensor::empty({max_batch_, 2}, dtype_);
    pred_ = Tensor::empty({max_batch_}, DType::Int64);
    if (loss_ == DenseLoss::SoftmaxCategorical) {
      tsum_ = Tensor::empty({max_batch_}, dtype_);
      target_ids_ = Tensor::empty({max_batch_}, DType::Int64);
    }
  }
  if (!training_) return;
  // Shuffled batches are gathered here; evaluation and predict read consecutive rows in place.
  x_rows_ = Tensor::empty({max_batch_, in_features_}, dtype_);
  if (loss_ == DenseLoss::SoftmaxCategorical) y_rows_ = Tensor::empty({max_batch_, classes_}, dtype_);
  else label_rows_ = Tensor::empty({max_batch_}, DType::Int64);
  row_grad_ = Tensor::empty({max_batch_}, dtype_);
  for (const DenseLayerSpec& L : layers_) {
    out_grads_.push_back(Tensor::empty({max_batch_, L.kernel.shape()[1]}, dtype_));
    grads_.push_back(Tensor::zeros(L.kernel.shape(), dtype_));
    if (L.bias.defined()) grads_.push_back(Tensor::zeros(L.bias.shape(), dtype_));
  }
}

void DenseStack::check_x(const Tensor& x) const {
  check_matrix(x, "x", dtype_);
  TL_CHECK(x.ndim() == 2 && x.shape()[1] == in_features_, kOp, "x must have shape (n, ", in_features_, "), got ",
           shape_str(x.shape()));
}

void DenseStack::check_data(const Tensor& x, const Tensor& y, const Tensor& index, int64_t start,
                            int64_t stop) const {
  check_x(x);
  const int64_t n = x.shape()[0];
  TL_CHECK(loss_ != DenseLoss::None, kOp, "this stack was built for predict only: it has no loss");
  if (loss_ == DenseLoss::SoftmaxCategorical) {
    check_matrix(y, "y", dtype_);
    TL_CHECK(y.ndim() == 2 && y.shape()[0] == n && y.shape()[1] == classes_, kOp, "y must have shape (", n, ", ",
             classes_, ") to match x ", shape_str(x.shape()), ", got ", shape_str(y.shape()));
  } else {
    check_matrix(y, "y", DType::Int64);
    TL_CHECK(y.ndim() == 1 && y.shape()[0] == n, kOp, "y must have shape (", n, ",) to match x ",
             shape_str(x.shape()), ", got ", shape_str(y.shape()));
  }
  const int64_t limit = index.defined() ? index.numel() : n;
  if (index.defined()) {
    check_matrix(index, "index", DType::Int64);
    TL_CHECK(index.ndim() == 1, kOp, "index must be 1-D, got shape ", shape_str(index.shape()));
  }
  TL_CHECK_INDEX(0 <= start && start < stop && stop <= limit, kOp, "rows [", start, ", ", stop,
                 ") are not a non-empty range within ", limit);
  TL_CHECK(stop - start <= max_batch_, kOp, "a batch of ", stop - start, " rows exceeds the workspace of ",
           max_batch_);
}

StepResult DenseStack::train_step(const Tensor& x, const Tensor& y, const Tensor& index, int64_t start,
                                  int64_t stop) {
  TL_CHECK(training_, kOp, "this stack was built for evaluation only: it has no gradient buffers");
  check_data(x, y, index, start, stop);
  std::lock_guard<std::mutex> lk(mu_);
  return dtype_ == DType::Float32 ? run<float>(x, y, index, start, stop, true)
                                  : run<double>(x, y, index, start, stop, true);
}

StepResult DenseStack::test_step(const Tensor& x, const Tensor& y, int64_t start, int64_t stop) {
  check_data(x, y, Tensor(), start, stop);
  std::lock_guard<std::mutex> lk(mu_);
  return dtype_ == DType::Float32 ? run<float>(x, y, Tensor(), start, stop, false)
                                  : run<double>(x, y, Tensor(), start, stop, false);
}

void DenseStack::predict(const Tensor& x, int64_t start, int64_t stop, const Tensor& out) {
  check_x(x);
  const int64_t n = x.shape()[0];
  check_matrix(out, "out", dtype_);
  TL_CHECK(out.ndim() == 2 && out.shape()[0] == n && out.shape()[1] == classes_, kOp, "out must have shape (", n,
           ", ", classes_, ") to match x ", shape_str(x.shape()), ", got ", shape_str(out.shape()));
  out.check_writable(kOp);
  TL_CHECK_INDEX(0 <= start && start < stop && stop <= n, kOp, "rows [", start, ", ", stop,
                 ") are not a non-empty range within ", n);
  TL_CHECK(stop - start <= max_batch_, kOp, "a batch of ", stop - start, " rows exceeds the workspace of ",
           max_batch_);
  std::lock_guard<std::mutex> lk(mu_);
  if (dtype_ == DType::Float32) predict_rows<float>(x, start, stop, out);
  else predict_rows<double>(x, start, stop, out);
}

template <class T>
void DenseStack::predict_rows(const Tensor& x, int64_t start, int64_t stop, const Tensor& out) {
  kernels::DenormalGuard flush_mode;
  const int64_t B = stop - start, C = classes_;
  forward<T>(x.data<T>() + start * in_features_, B);
  const Tensor z = first_rows(outs_.back(), B), o = rows_at(out, start, B);
  if (softmax_output_) kernels::softmax_rows(o, z, C, false);
  else std::memcpy(o.data<T>(), z.data<T>(), size_t(B * C) * sizeof(T));
}

// Each layer's GEMM with its bias and relu applied in the epilogue; outs_ holds the results.
template <class T>
void DenseStack::forward(const T* x, int64_t B) {
  const T* h = x;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const DenseLayerSpec& layer = layers_[l];
    const int64_t K = layer.kernel.shape()[0], N = layer.kernel.shape()[1];
    kernels::Epilogue<T> ep;
    ep.bias = layer.bias.defined() ? layer.bias.data<T>() : nullptr;
    ep.act = layer.relu ? kernels::Activation::Relu : kernels::Activation::None;
    kernels::gemm<T>(false, false, B, N, K, T(1), h, K, layer.kernel.data<T>(), N, T(0), outs_[l].data<T>(), N, ep);
    h = outs_[l].data<T>();
  }
}

template <class T>
StepResult DenseStack::run(const Tensor& x, const Tensor& y, const Tensor& index, int64_t start, int64_t stop,
                           bool train) {
  kernels::DenormalGuard flush_mode;
  const int64_t B = stop - start, C = classes_, n = x.shape()[0];
  const bool sparse = loss_ == DenseLoss::SoftmaxSparse;

  // The batch: rows gathered into the workspace (take_into, on both cores for big batches), or
  // read in place when they are consecutive.
  Tensor xb = rows_at(x, start, B), t = rows_at(y, start, B);
  if (index.defined()) {
    const Tensor idx = rows_at(index, start, B);
    const int64_t* ip = idx.data<int64_t>();
    for (int64_t r = 0; r < B; ++r)  // take_into checks too; this names the stack's rows
      TL_CHECK_INDEX(0 <= ip[r] && ip[r] < n, kOp, "row index ", ip[r], " is out of bounds for ", n, " rows");
    const Tensor xr = first_rows(x_rows_, B), tr = first_rows(sparse ? label_rows_ : y_rows_, B);
    take_into(x, idx, 0, xr);
    take_into(y, idx, 0, tr);
    xb = xr;
    t = tr;
  }
  if (sparse) {
    const int64_t* lb = t.data<int64_t>();
    for (int64_t r = 0; r < B; ++r)
      TL_CHECK(0 <= lb[r] && lb[r] < C, kOp, "label ", lb[r], " is out of range for ", C, " classes");
  }

  forward<T>(xb.data<T>(), B);
  const size_t L = layers_.size();

  // The loss (batch mean), its gradient with respect to the logits and the hits, by the same
  // row kernels as the generic path's fused softmax cross-entropy (kernels/nn.h).
  StepResult res;
  res.rows = B;
  const Tensor z = first_rows(outs_.back(), B), loss = first_rows(loss_rows_, B), lse = first_rows(lse_, B);
  const Tensor pred = first_rows(pred_, B);
  Tensor tsum, labels = t;
  if (sparse) {
    kernels::sparse_xent_rows(loss, lse, z, t, C);
  } else {
    tsum = first_rows(tsum_, B);
    kernels::softmax_xent_rows(loss, lse, tsum, z, t, C);
    labels = first_rows(target_ids_, B);
    kernels::arg_reduce(true, labels, t, 1);
  }
  kernels::arg_reduce(true, pred, z, 1);
  res.hits = count_hits(pred, labels);
  double loss_sum = 0;  // in row order: the same at any thread count
  for (const T* lp = loss.data<T>(); lp != loss.data<T>() + B; ++lp) loss_sum += double(*lp);
  res.loss = loss_sum / double(B);
  if (!train) return res;

  const Tensor g_rows = first_rows(row_grad_, B), gz = first_rows(out_grads_.back(), B);
  std::fill(g_rows.data<T>(), g_rows.data<T>() + B, T(1) / T(B));  // d(mean)/d(row loss)
  if (sparse) kernels::sparse_xent_rows_backward(gz, g_rows, z, t, lse, C);
  else kernels::softmax_xent_rows_backward(gz, Tensor(), g_rows, z, t, lse, tsum, C);

  // Backward, last layer first: dW = H^T dZ, db = column sums of dZ, and (except for the input
  // batch, which needs no gradient) dH = dZ W^T, masked by relu's derivative.
  size_t g = grads_.size();
  for (size_t l = L; l-- > 0;) {
    const DenseLayerSpec& layer = layers_[l];
    const int64_t K = layer.kernel.shape()[0], N = layer.kernel.shape()[1];
    const Tensor dz_rows = first_rows(out_grads_[l], B);
    const T* dz = dz_rows.data<T>();
    const T* hin = l == 0 ? xb.data<T>() : outs_[l - 1].data<T>();
    if (layer.bias.defined()) {  // db = column sums of dZ: the reduction's column fast path
      const Tensor& db = grads_[--g];
      kernels::reduce(kernels::ReduceOp::Sum, db.view_with({1, N}, {N, 1}, db.offset()), dz_rows, {true, false});
    }
    kernels::gemm<T>(true, false, K, N, B, T(1), hin, K, dz, N, T(0), grads_[--g].data<T>(), N);
    if (l == 0) break;
    T* dh = out_grads_[l - 1].data<T>();
    kernels::gemm<T>(false, true, B, K, N, T(1), dz, N, layer.kernel.data<T>(), N, T(0), dh, K);
    if (layers_[l - 1].relu) relu_mask(dh, outs_[l - 1].data<T>(), B * K);
  }
  return res;
}

}  // namespace tl::train
