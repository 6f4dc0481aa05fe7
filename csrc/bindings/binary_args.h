// Turns the two Python operands of a binary op into Tensors, applying NumPy 2's weak-scalar
// rule: a Python int/float/bool next to a tensor takes the tensor's dtype within its kind.
#pragma once
#include <utility>
#include "bindings/convert.h"

namespace tl::bind {

inline std::pair<Tensor, Tensor> binary_operands(py::handle a, py::handle b) {
  if (py::isinstance<Tensor>(a)) {
    Tensor ta = a.cast<Tensor>();
    return {ta, operand(b, ta)};
  }
  if (py::isinstance<Tensor>(b)) {
    Tensor tb = b.cast<Tensor>();
    return {operand(a, tb), tb};
  }
  if (is_python_scalar(a) && !is_python_scalar(b)) {
    Tensor tb = to_tensor(b, std::nullopt, false);
    return {operand(a, tb), tb};
  }
  Tensor ta = to_tensor(a, std::nullopt, false);
  return {ta, is_python_scalar(b) && !is_python_scalar(a) ? operand(b, ta) : to_tensor(b, std::nullopt, false)};
}

}  // namespace tl::bind
