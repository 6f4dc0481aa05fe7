// tl.linear(x, w, b=None, activation=None): the fused dense-layer op (ops/linear.h).
#include <pybind11/stl.h>
#include "bindings/convert.h"
#include "bindings/gil.h"
#include "ops/linear.h"

namespace tl::bind {

void bind_linear(py::module_& m) {
  m.def(
      "linear",
      [](py::handle x, py::handle w, py::handle b, const std::optional<std::string>& activation) {
        const LinearActivation act = parse_linear_activation(activation);
        const Tensor tx = to_tensor(x, std::nullopt, false), tw = to_tensor(w, std::nullopt, false);
        const Tensor tb = b.is_none() ? Tensor() : to_tensor(b, std::nullopt, false);
        const bool large = is_large(tx.numel() * (tw.ndim() == 2 ? tw.shape()[1] : 1));
        return without_gil_if(large, [&] { return linear(tx, tw, tb, act); });
      },
      py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("activation") = py::none(),
      "activation(x @ w + b) in one GEMM with a fused bias/relu epilogue; activation is None, 'linear' "
      "or 'relu'. Differentiable in x, w and b.");
}

}  // namespace tl::bind
