// Binary arithmetic with NumPy broadcasting and promotion, recorded for autograd.
#pragma once
#include "core/tensor.h"

namespace tl {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: integers give float64
Tensor neg(const Tensor& a);
// Tensor-with-Python-scalar forms: the scalar is weak (NumPy 2), it adopts a's dtype.
Tensor add(const Tensor& a, Scalar b);
Tensor mul(const Tensor& a, Scalar b);
// A Python scalar as a 0-d tensor of the dtype it takes next to `like` (weak promotion).
Tensor weak_scalar_like(Scalar s, const Tensor& like);
// Differentiable dtype conversion (identity when the dtype already matches).
Tensor astype(const Tensor& x, DType dtype);

}  // namespace tl
