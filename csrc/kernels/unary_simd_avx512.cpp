// AVX-512 float32 transcendental loops (compiled with -mavx512f ...; only called when cpu.h
// reports AVX-512).
#define TL_UNARY_SIMD_NAME f32_unary_loops_avx512
#include "kernels/unary_simd_impl.h"
