// The Python operands of a binary op as Tensors: the bindings' one door to the weak-scalar rule
// (tl::weak_scalar, ops/binary.h). Every module function, operator and method that takes two
// operands (elementwise ops, where, clip bounds, matmul, dot) goes through here.
//
// Weak (NumPy 2) operands are exactly Python's bool / int / float / complex: np.float64
// subclasses float but is a strong float64 for NumPy, so it takes the array path.
#pragma once
#include <utility>
#include "bindings/convert.h"
#include "ops/binary.h"

namespace tl::bind {

inline bool is_tensor(py::handle h) { return py::isinstance<Tensor>(h); }

inline bool is_weak_scalar(py::handle h) {
  return PyBool_Check(h.ptr()) || PyLong_CheckExact(h.ptr()) || PyFloat_CheckExact(h.ptr()) ||
         PyComplex_CheckExact(h.ptr());
}

inline Tensor as_tensor(py::handle h) {
  if (is_tensor(h)) return h.cast<const Tensor&>();
  return to_tensor(h, std::nullopt, false);
}

// A Python scalar as the operand of `op` next to `like`.
inline Tensor weak(py::handle s, const Tensor& like, kernels::BinaryOp op) {
  return weak_scalar(to_scalar(s), like, op);
}

// The other operand of an operator / method whose first operand is `self`.
inline Tensor other_operand(py::handle h, const Tensor& self, kernels::BinaryOp op = kernels::BinaryOp::Add) {
  if (is_tensor(h)) return h.cast<const Tensor&>();
  if (is_weak_scalar(h)) return weak(h, self, op);
  return to_tensor(h, std::nullopt, false);
}

// Both operands of a module function: Python scalars are weak next to an array, strong when
// both are Python scalars (np.add(1, 2.5) is float64).
inline std::pair<Tensor, Tensor> binary_operands(py::handle a, py::handle b,
                                                 kernels::BinaryOp op = kernels::BinaryOp::Add) {
  const bool sa = is_weak_scalar(a), sb = is_weak_scalar(b);
  if (sa && sb) return {to_tensor(a, std::nullopt, false), to_tensor(b, std::nullopt, false)};
  if (sa) {
    Tensor tb = as_tensor(b);
    return {weak(a, tb, op), tb};
  }
  Tensor ta = as_tensor(a);
  return {ta, sb ? weak(b, ta, op) : as_tensor(b)};
}

}  // namespace tl::bind
