#include "train/dense_stack.h"
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include "core/error.h"
#include "kernels/cpu.h"
#include "kernels/gemm.h"
#include "kernels/parallel.h"

namespace tl::train {
namespace {

constexpr const char* kOp = "DenseStack";
// Logits per parallel chunk of the per-row loss/softmax loops (each costs an exp): a training
// batch of 128 x 10 stays on one thread, an evaluation group of thousands of rows splits.
constexpr int64_t kRowWork = 8192;

// First index of the row maximum, NaN counting as the maximum (numpy.argmax).
template <class T>
int64_t argmax_row(const T* v, int64_t n) {
  int64_t best = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (std::isnan(v[j])) return j;
    if (v[j] > v[best]) best = j;
  }
  return best;
}

void check_matrix(const Tensor& t, const char* what, DType dtype) {
  TL_CHECK(t.defined(), kOp, what, " is missing");
  TL_CHECK(t.dtype() == dtype, kOp, what, " has dtype ", dtype_name(t.dtype()), ", expected ", dtype_name(dtype));
  TL_CHECK(t.is_contiguous(), kOp, what, " must be contiguous");
}

// Softmax cross-entropy of one row of logits z against targets t (or the class `label` when t
// is null): returns the loss and writes its gradient times `scale` into gz (unless null). Stable: the row
// maximum is subtracted first; terms with a zero target cost nothing (so a -inf logit with a
// zero target gives a finite loss), as in the generic kernels (kernels/nn.h).
template <class T>
double xent_row(const T* z, const T* t, int64_t label, int64_t C, T scale, T* gz) {
  T m = z[0];
  for (int64_t j = 1; j < C; ++j) m = z[j] > m ? z[j] : m;
  T s = 0;
  for (int64_t j = 0; j < C; ++j) s += std::exp(z[j] - m);
  const T log_s = std::log(s);
  if (!t) {
    if (gz) {
      for (int64_t j = 0; j < C; ++j) gz[j] = std::exp((z[j] - m) - log_s) * scale;
      gz[label] -= scale;
    }
    return double((m - z[label]) + log_s);
  }
  T loss = 0, tsum = 0;
  for (int64_t j = 0; j < C; ++j) {
    tsum += t[j];
    if (t[j] != T(0)) loss += t[j] * ((m - z[j]) + log_s);
  }
  if (gz)
    for (int64_t j = 0; j < C; ++j) gz[j] = (std::exp((z[j] - m) - log_s) * tsum - t[j]) * scale;
  return double(loss);
}

// db[j] = sum over rows of dz[r, j]; restrict pointers so the loops vectorise.
template <class T>
void column_sums(T* __restrict db, const T* __restrict dz, int64_t rows, int64_t N) {
  std::fill(db, db + N, T(0));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < N; ++j) db[j] += dz[r * N + j];
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
  if (loss_ != DenseLoss::None) row_loss_ = Tensor::empty({max_batch_}, DType::Float64);
  if (!training_) return;
  // Shuffled batches are gathered here; evaluation and predict read consecutive rows in place.
  x_rows_ = Tensor::empty({max_batch_, in_features_}, dtype_);
  if (loss_ == DenseLoss::SoftmaxCategorical) y_rows_ = Tensor::empty({max_batch_, classes_}, dtype_);
  else label_rows_ = Tensor::empty({max_batch_}, DType::Int64);
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
  kernels::DenormalGuard ftz;
  const int64_t B = stop - start, C = classes_;
  forward<T>(x.data<T>() + start * in_features_, B);
  const T* z = outs_.back().data<T>();
  T* o = out.data<T>() + start * C;
  if (!softmax_output_) {
    std::memcpy(o, z, size_t(B * C) * sizeof(T));
    return;
  }
  parallel_for(0, B, std::max<int64_t>(1, kRowWork / C), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {  // stable softmax of each row
      const T* zr = z + r * C;
      T* orow = o + r * C;
      T m = zr[0];
      for (int64_t j = 1; j < C; ++j) m = zr[j] > m ? zr[j] : m;
      T s = 0;
      for (int64_t j = 0; j < C; ++j) s += (orow[j] = std::exp(zr[j] - m));
      for (int64_t j = 0; j < C; ++j) orow[j] /= s;
    }
  });
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
  kernels::DenormalGuard ftz;
  const int64_t B = stop - start, K0 = in_features_, C = classes_, n = x.shape()[0];
  const bool sparse = loss_ == DenseLoss::SoftmaxSparse;

  // The batch: rows gathered into the workspace, or read in place when they are consecutive.
  const T* xb = x.data<T>() + start * K0;
  const T* tb = sparse ? nullptr : y.data<T>() + start * C;
  const int64_t* lb = sparse ? y.data<int64_t>() + start : nullptr;
  if (index.defined()) {
    const int64_t* idx = index.data<int64_t>() + start;
    for (int64_t r = 0; r < B; ++r)
      TL_CHECK_INDEX(0 <= idx[r] && idx[r] < n, kOp, "row index ", idx[r], " is out of bounds for ", n, " rows");
    T* xr = x_rows_.data<T>();
    const T* xs = x.data<T>();
    // Random rows come from DRAM: both cores copy once the batch is big enough.
    parallel_for(0, B, std::max<int64_t>(1, kParallelElementThreshold / K0), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) std::memcpy(xr + r * K0, xs + idx[r] * K0, size_t(K0) * sizeof(T));
    });
    xb = xr;
    if (sparse) {
      int64_t* lr = label_rows_.data<int64_t>();
      for (int64_t r = 0; r < B; ++r) lr[r] = y.data<int64_t>()[idx[r]];
      lb = lr;
    } else {
      T* yr = y_rows_.data<T>();
      for (int64_t r = 0; r < B; ++r) std::memcpy(yr + r * C, y.data<T>() + idx[r] * C, size_t(C) * sizeof(T));
      tb = yr;
    }
  }
  if (sparse)
    for (int64_t r = 0; r < B; ++r)
      TL_CHECK(0 <= lb[r] && lb[r] < C, kOp, "label ", lb[r], " is out of range for ", C, " classes");

  forward<T>(xb, B);
  const size_t L = layers_.size();

  // The loss (batch mean), its gradient with respect to the logits, and the hits.
  StepResult res;
  res.rows = B;
  const T* z = outs_.back().data<T>();
  T* gz = train ? out_grads_.back().data<T>() : nullptr;
  const T scale = T(1) / T(B);
  // Rows are independent: big (evaluation) batches split them over the threads. Each row's loss
  // goes to row_loss_ and is summed afterwards in row order, so the result does not depend on
  // the thread count; hits are integers.
  double* row_loss = row_loss_.data<double>();
  std::atomic<int64_t> hits{0};
  parallel_for(0, B, std::max<int64_t>(1, kRowWork / C), [&](int64_t lo, int64_t hi) {
    int64_t h = 0;
    for (int64_t r = lo; r < hi; ++r) {
      const T* zr = z + r * C;
      const T* tr = sparse ? nullptr : tb + r * C;
      const int64_t label = sparse ? lb[r] : argmax_row(tr, C);
      row_loss[r] = xent_row(zr, tr, label, C, scale, gz ? gz + r * C : nullptr);
      h += argmax_row(zr, C) == label;
    }
    hits.fetch_add(h, std::memory_order_relaxed);
  });
  double loss_sum = 0;
  for (int64_t r = 0; r < B; ++r) loss_sum += row_loss[r];
  res.hits = hits.load();
  res.loss = loss_sum / double(B);
  if (!train) return res;

  // Backward, last layer first: dW = H^T dZ, db = column sums of dZ, and (except for the input
  // batch, which needs no gradient) dH = dZ W^T, masked by relu's derivative.
  size_t g = grads_.size();
  for (size_t l = L; l-- > 0;) {
    const DenseLayerSpec& layer = layers_[l];
    const int64_t K = layer.kernel.shape()[0], N = layer.kernel.shape()[1];
    const T* dz = out_grads_[l].data<T>();
    const T* hin = l == 0 ? xb : outs_[l - 1].data<T>();
    if (layer.bias.defined()) column_sums(grads_[--g].data<T>(), dz, B, N);
    kernels::gemm<T>(true, false, K, N, B, T(1), hin, K, dz, N, T(0), grads_[--g].data<T>(), N);
    if (l == 0) break;
    T* dh = out_grads_[l - 1].data<T>();
    kernels::gemm<T>(false, true, B, K, N, T(1), dz, N, layer.kernel.data<T>(), N, T(0), dh, K);
    if (layers_[l - 1].relu) relu_mask(dh, outs_[l - 1].data<T>(), B * K);
  }
  return res;
}

}  // namespace tl::train
