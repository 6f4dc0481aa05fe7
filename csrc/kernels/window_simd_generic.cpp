// Baseline (SSE2) direct-conv and max-pool loops, and the run-time choice between ISAs.
#include "kernels/cpu.h"

#define TL_WINDOW_SIMD_NAME window_loops_generic
#include "kernels/window_simd_impl.h"

namespace tl::kernels {

template <class T>
const WindowLoops<T>& window_loops() {
  switch (active_isa()) {
#ifdef TL_X86
    case Isa::Avx512: return window_loops_avx512<T>();
    case Isa::Avx2: return window_loops_avx2<T>();
#endif
    default: return window_loops_generic<T>();
  }
}
template const WindowLoops<float>& window_loops<float>();
template const WindowLoops<double>& window_loops<double>();

}  // namespace tl::kernels
