// Softmax-family and fused-loss kernels over contiguous (N, C) rows: pure compute, no
// autograd. The ops layer moves the reduced axis last (a transpose) before calling them.
// Every row is stable: the row maximum is subtracted before exponentiating, and the
// log-sum-exp lse = m + log(sum exp(z - m)) is what the losses and their backward share; it is
// kept as the pair (m, log sum exp(z - m)) per row, an (rows, 2) tensor, so that no precision
// is lost to rounding m + log s when |m| is large.
// Rows are independent, so parallel_for splits over rows only.
#pragma once
#include "core/tensor.h"

namespace tl::kernels {

// y = softmax(x) or log_softmax(x) along rows of length C (x, y: contiguous, same shape).
void softmax_rows(const Tensor& y, const Tensor& x, int64_t C, bool log);
// Given the forward output y and the output gradient g:
//   softmax:     gx = y * (g - sum(g * y))
//   log_softmax: gx = g - exp(y) * sum(g)
void softmax_rows_backward(const Tensor& gx, const Tensor& g, const Tensor& y, int64_t C, bool log);

// Dense-target cross entropy per row: loss = sum_j t_j (lse - z_j) (terms with t_j = 0 are
// skipped, so a -inf logit with zero target costs nothing); also writes lse (rows, 2) and tsum = sum_j t_j
// per row for the backward.
void softmax_xent_rows(const Tensor& loss, const Tensor& lse, const Tensor& tsum, const Tensor& z, const Tensor& t,
                       int64_t C);
// gz = (exp(z - lse) * tsum - t) * g_row; gt (if defined) = (lse - z) * g_row.
void softmax_xent_rows_backward(const Tensor& gz, const Tensor& gt, const Tensor& g, const Tensor& z, const Tensor& t,
                                const Tensor& lse, const Tensor& tsum, int64_t C);

// Integer labels (int64, already checked to lie in [0, C)): loss = lse - z[label].
void sparse_xent_rows(const Tensor& loss, const Tensor& lse, const Tensor& z, const Tensor& labels, int64_t C);
// gz = exp(z - lse) * g_row, minus g_row at the label.
void sparse_xent_rows_backward(const Tensor& gz, const Tensor& g, const Tensor& z, const Tensor& labels,
                               const Tensor& lse, int64_t C);

// Binary cross entropy, per row the mean over its C elements (Keras' binary_crossentropy).
// Probabilities: p clipped to [eps, 1 - eps] with eps = 1e-7 (Keras' backend.epsilon()),
//   l = -(t log p + (1 - t) log(1 - p)).
// Logits (from_logits): l = max(z, 0) - z t + log1p(exp(-|z|)), exact for any z (no clip).
void bce_rows(const Tensor& loss, const Tensor& p, const Tensor& t, int64_t C, bool from_logits);
// gp = dl/dp * g_row / C (0 where p was clipped; sigmoid(z) - t for logits),
// gt = dl/dt * g_row / C (log(1 - p) - log p, or -z for logits). Either may be undefined.
void bce_rows_backward(const Tensor& gp, const Tensor& gt, const Tensor& g, const Tensor& p, const Tensor& t,
                       int64_t C, bool from_logits);

}  // namespace tl::kernels
