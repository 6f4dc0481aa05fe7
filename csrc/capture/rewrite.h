// Fusions as rewrites of a recorded plan (the step's first capture, before its buffers share
// memory): runs of entries are replaced by one fused entry that computes the same values with
// fewer passes over memory and fewer calls. A rewrite fires only where the plan proves it safe:
// each intermediate it stops writing is read by no other entry (every entry after its producer
// has known reads: kernel-logged reads, an op's tensor arguments, or a node's described saved
// tensors), is not one of the step's outputs and is no .grad.
//
//   gemm_epilogue      linear (no activation) -> tanh / sigmoid of its result: one GEMM whose
//                      epilogue applies the activation (kernels::Activation), no pre-activation.
//   activation_grad    TanhBackward0 / SigmoidBackward0 -> AddmmBackward0, and AddmmBackward0
//                      of a relu linear: one sweep computing the activation's gradient and the
//                      bias gradient (kernels::activation_grad_bias), then the two GEMMs. Not for
//                      a one-unit layer with a bias: its eager bias sum is pairwise, not in row order.
//   mean_xent_grad     MeanBackward0 of a full mean -> SparseSoftmaxCrossEntropyBackward0: the
//                      mean's gradient and the cross-entropy's in one entry, both lowered.
//   mean_grad          any other MeanBackward0 of a full mean: lowered to one fill (the node
//                      makes its scale constant outside any logged kernel, so it re-ran as op).
//   elementwise_chain  a run of entries made only of elementwise kernels over one element count
//                      (Dropout's uniform, <, *, where and its backward; capture/elementwise_chain.cpp):
//                      one entry running the kernels chunk by chunk; dead intermediates live in a
//                      chunk scratch instead of the arena. Runs last, after the rewrites above.
// Fused entries replay as their own kernels, which reach memory through tensor handles, so they
// stay valid when Plan::share_buffers moves buffers.
#pragma once
#include <string>
#include <utility>
#include <vector>
#include "capture/recorder.h"

namespace tl::capture {

// Applies every rewrite above until none fires; returns how often each fired, by name.
// `visible`: the step's outputs (never fused away).
std::vector<std::pair<std::string, int>> fuse(Plan& plan, const std::vector<Tensor>& visible);

}  // namespace tl::capture
