// AVX2 + FMA float32 transcendental loops (compiled with -mavx2 -mfma; only called when cpu.h
// reports AVX2).
#define TL_UNARY_SIMD_NAME f32_unary_loops_avx2
#include "kernels/unary_simd_impl.h"
