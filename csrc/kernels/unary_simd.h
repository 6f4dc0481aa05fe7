// Contiguous float32 loops of the transcendental unary kernels, compiled once per ISA
// (unary_simd_generic.cpp at baseline SSE2, unary_simd_avx2.cpp, unary_simd_avx512.cpp) from
// the same source (unary_simd_impl.h: vmath.h's branch-free functions, auto-vectorised with
// each file's flags) and picked at run time by kernels::active_isa() (cpu.h). Results agree
// across ISAs to within vmath.h's bounds (FMA contraction may change the last bit).
#pragma once
#include <cstdint>

namespace tl::kernels {

using F32Loop = void (*)(float* out, const float* in, int64_t n);
// The float32 -> bool tests: at baseline SSE2 the packing of compare results into bytes runs at
// half NumPy's speed (which dispatches them to AVX2 too).
using F32TestLoop = void (*)(bool* out, const float* in, int64_t n);

using F64Loop = void (*)(double* out, const double* in, int64_t n);
using F64TestLoop = void (*)(bool* out, const double* in, int64_t n);

// Named for its first members; it also holds the float64 loops that want the wider ISA: the
// roundings (SSE4.1's round instruction: at baseline they are libm calls, 3-6x NumPy's time)
// and the float64 tests.
struct F32UnaryLoops {
  F32Loop exp, tanh, sigmoid;
  F32TestLoop isinf, signbit;
  F32Loop floor, ceil, trunc, round;  // round: half to even (nearbyint), as np.round
  F64Loop floor64, ceil64, trunc64, round64;
  F64TestLoop isinf64, signbit64;
  F64Loop tanh64;  // vmath::tanh_f64: NumPy 2.4 has its own AVX2 loop, libm's tanh was 1.4x its time
};

const F32UnaryLoops& f32_unary_loops_generic();
const F32UnaryLoops& f32_unary_loops_avx2();
const F32UnaryLoops& f32_unary_loops_avx512();
// The table of the active ISA.
const F32UnaryLoops& f32_unary_loops();

}  // namespace tl::kernels
