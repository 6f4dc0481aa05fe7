// Baseline (SSE2) complex loops, and the run-time choice between ISAs.
#include "kernels/cpu.h"

#define TL_COMPLEX_SIMD_NAME complex_loops_generic
#include "kernels/complex_simd_impl.h"

namespace tl::kernels {

const ComplexSimdLoops& complex_loops() {
  switch (active_isa()) {
#ifdef TL_X86
    case Isa::Avx512: return complex_loops_avx512();
    case Isa::Avx2: return complex_loops_avx2();
#endif
    default: return complex_loops_generic();
  }
}

}  // namespace tl::kernels
