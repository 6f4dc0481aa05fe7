// Arithmetic, shape, reduction and linear-algebra ops as module functions and Tensor methods.
#include <pybind11/stl.h>
#include "bindings/binary_args.h"
#include "bindings/gil.h"
#include "ops/ops.h"

namespace tl::bind {

namespace {

using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);

template <BinaryFn F>
Tensor call_binary(py::handle a, py::handle b) {
  auto [ta, tb] = binary_operands(a, b);  // the weak-scalar rule of every op
  return without_gil_if(is_large(std::max(ta.numel(), tb.numel())), [&] { return F(ta, tb); });
}

}  // namespace

void bind_ops(py::module_& m) {
  // Elementwise arithmetic and its operators are bound in elementwise.cpp.
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));

  m.def("matmul", &call_binary<matmul>, py::arg("x1"), py::arg("x2"));
  m.def("dot", &call_binary<dot>, py::arg("a"), py::arg("b"));

  cls.def("__matmul__", [](const Tensor& a, py::handle b) { return call_binary<matmul>(py::cast(a), b); }, py::is_operator());
  cls.def("__rmatmul__", [](const Tensor& a, py::handle b) { return call_binary<matmul>(b, py::cast(a)); }, py::is_operator());
  cls.def("dot", [](const Tensor& a, py::handle b) { return call_binary<dot>(py::cast(a), b); });
}

}  // namespace tl::bind
