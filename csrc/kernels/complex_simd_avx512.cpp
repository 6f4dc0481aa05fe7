// AVX-512 complex loops (compiled with -mavx512f and friends, contraction off; only called when
// cpu.h reports AVX-512).
#define TL_COMPLEX_SIMD_NAME complex_loops_avx512
#include "kernels/complex_simd_impl.h"
