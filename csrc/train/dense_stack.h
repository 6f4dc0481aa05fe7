// DenseStack: the compiled training step behind Sequential.fit for a stack of Dense layers
// (hidden activations relu or linear, the last layer's softmax fused with its cross-entropy).
//
// One call does what the generic path does with an autograd graph and a dozen Python-level
// calls: gather the batch rows, forward GEMMs with the bias and relu fused into their epilogue,
// the fused softmax cross-entropy and its gradient, then the backward GEMMs (no gradient for
// the input batch), relu masks and bias sums, written into gradient buffers that persist across
// steps. It runs with the GIL released; the buffers are allocated once (a step makes only small
// views and index bookkeeping). The optimizer update is
// left to the Python optimizer (one fused call), so schedules, custom optimizers and callbacks
// behave exactly as on the generic path, whose results this step matches to float rounding.
#pragma once
#include <cstdint>
#include <mutex>
#include <vector>
#include "core/tensor.h"

namespace tl::train {

struct DenseLayerSpec {
  Tensor kernel;  // (in, units), contiguous
  Tensor bias;    // (units,), contiguous, or undefined
  bool relu = false;
};

enum class DenseLoss : uint8_t {
  SoftmaxCategorical,  // y: (rows, classes) targets of the weights' dtype
  SoftmaxSparse,       // y: (rows,) int64 class ids
  None,                // predict only
};

struct StepResult {
  double loss = 0;   // the batch mean of the per-sample losses
  int64_t hits = 0;  // rows whose argmax of logits equals the label (argmax of the target row)
  int64_t rows = 0;
};

class DenseStack {
 public:
  // Checks every layer (shapes chain, dtypes agree, float32/float64, contiguous) and allocates
  // the workspace for batches of up to max_batch rows (and, when `training`, the buffers of the
  // backward pass). softmax_output: predict returns softmax(logits) rather than the logits.
  DenseStack(std::vector<DenseLayerSpec> layers, DenseLoss loss, int64_t max_batch, bool training,
             bool softmax_output);

  // One step on rows index[start:stop] of x and y (or rows start:stop when index is undefined):
  // the loss, the hits and the gradients of every kernel and bias (see grads()).
  StepResult train_step(const Tensor& x, const Tensor& y, const Tensor& index, int64_t start, int64_t stop);

  // The loss and hits of rows start:stop without gradients (evaluate's step).
  StepResult test_step(const Tensor& x, const Tensor& y, int64_t start, int64_t stop);

  // The model's output for rows start:stop of x, written into rows start:stop of out (n, classes).
  void predict(const Tensor& x, int64_t start, int64_t stop, const Tensor& out);

  // Gradient buffers in weight order: kernel, then bias when the layer has one, per layer.
  // They are overwritten by every train_step.
  const std::vector<Tensor>& grads() const { return grads_; }

  int64_t max_batch() const { return max_batch_; }

 private:
  template <class T>
  StepResult run(const Tensor& x, const Tensor& y, const Tensor& index, int64_t start, int64_t stop, bool train);
  template <class T>
  void forward(const T* x, int64_t rows);
  template <class T>
  void predict_rows(const Tensor& x, int64_t start, int64_t stop, const Tensor& out);
  void check_x(const Tensor& x) const;
  void check_data(const Tensor& x, const Tensor& y, const Tensor& index, int64_t start, int64_t stop) const;

  std::vector<DenseLayerSpec> layers_;
  DenseLoss loss_;
  bool training_, softmax_output_;
  DType dtype_;
  int64_t max_batch_, in_features_, classes_;
  // Workspace, max_batch_ rows each: the gathered batch and every layer's output and its gradient.
  Tensor x_rows_, y_rows_, label_rows_;
  std::vector<Tensor> outs_;       // per layer: (max_batch, units) activations (the last: logits)
  std::vector<Tensor> out_grads_;  // per layer: the gradient with respect to its pre-activation
  Tensor loss_rows_, lse_, tsum_, row_grad_;  // the loss kernels' per-row values (kernels/nn.h)
  Tensor pred_, target_ids_;                  // argmax of the logits and of one-hot targets
  std::vector<Tensor> grads_;
  std::mutex mu_;  // one step at a time per stack: the workspace is shared
};

}  // namespace tl::train
