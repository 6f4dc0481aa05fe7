// parallel_for: split [begin, end) into chunks of at least `grain` and run fn(chunk_begin,
// chunk_end) on the thread pool (the caller takes part). Small ranges run inline.
#pragma once
#include <cstdint>
#include "kernels/function_ref.h"

namespace tl {

// Elementwise work below this many elements stays on the calling thread.
constexpr int64_t kParallelElementThreshold = 65536;

void parallel_for(int64_t begin, int64_t end, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn);

int get_num_threads();
void set_num_threads(int n);

}  // namespace tl
