// Softmax family and fused losses, recorded for autograd. The losses return one value per
// sample (the reduced axis removed), as Keras' loss functions do before their reduction.
#pragma once
#include "core/tensor.h"

namespace tl {

// Stable softmax / log_softmax along `axis` (row maximum subtracted). Integer inputs are
// computed in float64, as NumPy's formulas would.
Tensor softmax(const Tensor& x, int64_t axis = -1);
Tensor log_softmax(const Tensor& x, int64_t axis = -1);

// loss_i = -sum_j t_ij log softmax(z)_ij in one stable kernel; targets (one-hot or
// probabilities, same shape as logits) are cast to the logits' dtype. Backward:
// grad_logits = (softmax(z) * sum_j t_ij - t) * g_i; grad_targets = -log_softmax(z) * g_i.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets, int64_t axis = -1);
// Integer class labels of shape logits.shape[:-1] (or that plus a trailing 1, as Keras):
// loss_i = logsumexp(z_i) - z_i[label_i]. A label outside [0, C) raises IndexError naming it
// and C, before anything is computed.
Tensor sparse_softmax_cross_entropy(const Tensor& logits, const Tensor& labels);
// Keras' binary_crossentropy: mean over the last axis of the elementwise loss. Probabilities
// are clipped to [1e-7, 1 - 1e-7]; with from_logits the exact log-sigmoid form is used.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets, bool from_logits = false);
// Keras' mean_squared_error: mean over the last axis of (pred - target)^2, per sample.
Tensor mean_squared_error(const Tensor& pred, const Tensor& target);

}  // namespace tl
