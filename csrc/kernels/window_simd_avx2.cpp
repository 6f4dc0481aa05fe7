// AVX2 + FMA direct-conv and max-pool loops (compiled with -mavx2 -mfma; only called when
// cpu.h reports AVX2).
#define TL_WINDOW_SIMD_NAME window_loops_avx2
#include "kernels/window_simd_impl.h"
