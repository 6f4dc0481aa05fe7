// Replaying part of a Plan, and finding where its gradients become final: what a data-parallel
// step needs to start each gradient bucket's all-reduce while the rest of backward still runs
// (tensorlet.distribution). Kept apart from recorder.h, which every op includes.
#pragma once
#include <cstddef>
#include <vector>
#include "capture/recorder.h"

namespace tl::capture {

// Replays entries [begin, end) of `plan` as Plan::replay does (replay() is replay_range over all
// entries). Replaying consecutive ranges in order equals one replay.
void replay_range(Plan& plan, size_t begin, size_t end);

// A recorded .grad assignment: after entry `index` has run, `grad` (what `leaf`'s .grad then
// holds) is final for the step.
struct LeafGrad {
  size_t index;
  Tensor leaf, grad;
};
// Every recorded .grad assignment of `plan`, in plan order.
std::vector<LeafGrad> leaf_grad_entries(const Plan& plan);

}  // namespace tl::capture
