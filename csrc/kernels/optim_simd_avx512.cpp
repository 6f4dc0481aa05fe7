// AVX-512 optimizer loops (compiled with -mavx512f ... and 512-bit vectors preferred, contraction
// off; only called when cpu.h reports AVX-512).
#define TL_OPTIM_SIMD_NAME optim_loops_avx512
#include "kernels/optim_simd_impl.h"
