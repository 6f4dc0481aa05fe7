// AVX2 complex loops (compiled with -mavx2 -mfma, contraction off; only called when cpu.h
// reports AVX2).
#define TL_COMPLEX_SIMD_NAME complex_loops_avx2
#include "kernels/complex_simd_impl.h"
