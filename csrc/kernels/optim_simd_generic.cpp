// Baseline (SSE2) optimizer loops, and the run-time choice between ISAs.
#include "kernels/cpu.h"

#define TL_OPTIM_SIMD_NAME optim_loops_generic
#include "kernels/optim_simd_impl.h"

namespace tl::kernels {

const OptimLoops& optim_loops() {
  switch (active_isa()) {
#ifdef TL_X86
    case Isa::Avx512: return optim_loops_avx512();
    case Isa::Avx2: return optim_loops_avx2();
#endif
    default: return optim_loops_generic();
  }
}

}  // namespace tl::kernels
