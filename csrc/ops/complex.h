// The complex-only ops: real / imag parts, conj, and complex matmul (all dtypes accepted, as
// NumPy's np.real / np.imag / np.conj; real dtypes pass through).
#pragma once
#include "core/tensor.h"

namespace tl {

// A complex tensor's real (imag) part as a view of its storage in the component dtype (float32
// for complex64), as ndarray.real: writes through it change the complex tensor. A real tensor:
// real_part is x itself, imag_part zeros of x's dtype.
Tensor real_part(const Tensor& x);
Tensor imag_part(const Tensor& x);
// Complex conjugate (a new tensor); real dtypes: x itself.
Tensor conj(const Tensor& x);
// matmul of two operands already promoted to one complex dtype: four real products of the
// parts, so complex matmul runs on the float GEMM.
Tensor complex_matmul(const Tensor& a, const Tensor& b);

}  // namespace tl
