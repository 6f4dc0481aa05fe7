// AVX-512 direct-conv and max-pool loops (only called when cpu.h reports AVX-512).
#define TL_WINDOW_SIMD_NAME window_loops_avx512
#include "kernels/window_simd_impl.h"
