// Placeholder scheduler: runs everything on the caller. Replaced by the thread pool.
#include "kernels/parallel.h"

namespace tl {

void parallel_for(int64_t begin, int64_t end, int64_t grain, FunctionRef<void(int64_t, int64_t)> fn) {
  if (end > begin) fn(begin, end);
}
int get_num_threads() { return 1; }
void set_num_threads(int) {}

}  // namespace tl
