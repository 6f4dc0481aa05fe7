// What the GEMM driver chose for this machine, for tl.config() and the benchmarks.
#pragma once
#include <cstdint>
#include "kernels/cpu.h"

namespace tl::kernels {

// Register tile (mr x nr) and cache blocks. The micro-kernel broadcasts A and keeps B in
// vector registers (row-major C), so the roles of BLIS's blocks are mirrored: a kc-deep
// micro-panel of A (mr x kc) stays in L1, a packed kc x nc block of B stays in L2 and an
// mc x kc block of packed A is reused from L3 across all of N.
struct GemmBlocking {
  int mr = 0, nr = 0;
  int64_t mc = 0, kc = 0, nc = 0;
};

template <class T>
GemmBlocking gemm_blocking(Isa isa);

// Measured single-thread float32 FMA throughput of `isa`'s vector width, in GFLOP/s (best of
// a few ~10 ms runs): the benchmarks' peak, which no cpuid field gives reliably (pipe count
// and turbo clock vary).
double measure_fma_peak_gflops(Isa isa);

// Work (2*M*N*K flops) from which GEMM is spread over the thread pool.
constexpr double kGemmParallelFlops = 1e6;

}  // namespace tl::kernels
