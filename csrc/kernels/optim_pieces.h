// The multi-tensor driver shared by the optimizer kernels: the step's tensors are laid end to
// end in one index space [0, total), which parallel_for splits by index; each chunk calls
// run(tensor, offset, count) on the pieces of the tensors it covers. Elements are updated
// independently, so the result does not depend on the split or the thread count.
#pragma once
#include <algorithm>
#include <vector>

#include "kernels/optim.h"
#include "kernels/parallel.h"

namespace tl::kernels {

// Elements per chunk at least: enough work to amortise scheduling.
constexpr int64_t kOptimGrain = 16384;

// One parallel region over the total element count (inline below kParallelElementThreshold).
template <class Run>
void for_each_optim_piece(const std::vector<OptimTensor>& tensors, Run&& run) {
  const size_t k = tensors.size();
  std::vector<int64_t> start(k + 1, 0);  // start[i]: the first flat index of tensor i
  for (size_t i = 0; i < k; ++i) start[i + 1] = start[i] + tensors[i].n;
  const int64_t total = start[k];
  if (total == 0) return;
  auto body = [&](int64_t b, int64_t e) {
    // the last tensor starting at or before b (skips empty ones: start[i] == start[i + 1])
    size_t i = size_t(std::upper_bound(start.begin(), start.end(), b) - start.begin()) - 1;
    for (; i < k && start[i] < e; ++i) {
      const int64_t lo = std::max(b, start[i]) - start[i];
      const int64_t hi = std::min(e, start[i + 1]) - start[i];
      if (hi > lo) run(tensors[i], lo, hi - lo);
    }
  };
  if (total < kParallelElementThreshold) {
    body(0, total);
  } else {
    parallel_for(0, total, kOptimGrain, body);
  }
}

}  // namespace tl::kernels
