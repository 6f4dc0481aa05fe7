// Baseline (SSE2) float32 transcendental loops, and the run-time choice between ISAs.
#include "kernels/cpu.h"

#define TL_UNARY_SIMD_NAME f32_unary_loops_generic
#include "kernels/unary_simd_impl.h"

namespace tl::kernels {

const F32UnaryLoops& f32_unary_loops() {
  switch (active_isa()) {
#ifdef TL_X86
    case Isa::Avx512: return f32_unary_loops_avx512();
    case Isa::Avx2: return f32_unary_loops_avx2();
#endif
    default: return f32_unary_loops_generic();
  }
}

}  // namespace tl::kernels
