// linear: the fused dense-layer op, activation(x @ w + b), computed by one GEMM whose
// epilogue adds the bias and applies relu on the register tile (kernels/gemm.h).
#pragma once
#include <optional>
#include <string>
#include "core/tensor.h"

namespace tl {

enum class LinearActivation { None, Relu };
// "relu" -> Relu, "linear" / None -> None; ValueError otherwise.
LinearActivation parse_linear_activation(const std::optional<std::string>& name);

// x (..., K) @ w (K, N) + b (N,) [undefined: no bias], then the activation. Float inputs go
// through the fused GEMM (dtypes promoted as matmul does); integer ones through matmul + add.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, LinearActivation act);

}  // namespace tl
