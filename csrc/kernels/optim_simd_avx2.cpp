// AVX2 optimizer loops (compiled with -mavx2 -mfma, contraction off; only called when cpu.h
// reports AVX2).
#define TL_OPTIM_SIMD_NAME optim_loops_avx2
#include "kernels/optim_simd_impl.h"
