// Contiguous complex64 / complex128 loops of the commonest kernels (+, -, *, abs, full sum),
// compiled once per ISA (complex_simd_generic.cpp at baseline SSE2, complex_simd_avx2.cpp,
// complex_simd_avx512.cpp) from one source (complex_simd_impl.h) and picked at run time by
// kernels::active_isa(). The files compile with -ffp-contract=off, so every ISA gives the bits
// of complex.cpp's scalar formulas; only the full sum's order (pairwise blocks) is its own.
#pragma once
#include <complex>
#include <cstdint>

namespace tl::kernels {

template <class C>
struct ComplexLoops {
  using R = typename C::value_type;
  void (*add)(C* out, const C* a, const C* b, int64_t n);
  void (*sub)(C* out, const C* a, const C* b, int64_t n);
  // The textbook product; an element whose parts both come out NaN is redone by std::complex's
  // operator* (Annex G recovery), as complex.cpp's mul_c.
  void (*mul)(C* out, const C* a, const C* b, int64_t n);
  // complex.cpp's abs_c: complex64 through double, complex128 scaled by the larger part;
  // non-finite parts take std::hypot.
  void (*abs)(R* out, const C* x, int64_t n);
  // The sum of n values, NumPy's pairwise summation (blocks of 64 values, eight running part
  // sums each), accumulated in double even for complex64 (NumPy's stays in float there).
  std::complex<double> (*sum)(const C* x, int64_t n);
};

struct ComplexSimdLoops {
  ComplexLoops<std::complex<float>> c64;
  ComplexLoops<std::complex<double>> c128;
};

const ComplexSimdLoops& complex_loops_generic();
const ComplexSimdLoops& complex_loops_avx2();
const ComplexSimdLoops& complex_loops_avx512();
// The table of the active ISA.
const ComplexSimdLoops& complex_loops();

}  // namespace tl::kernels
