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
  auto [ta, tb] = binary_operands(a, b);
  return without_gil_if(is_large(std::max(ta.numel(), tb.numel())), [&] { return F(ta, tb); });
}

// AxisSpec from Python's axis=None | int | tuple of ints.
AxisSpec to_axis(py::handle axis) {
  if (axis.is_none()) return AxisSpec::none();
  if (py::isinstance<py::tuple>(axis) || py::isinstance<py::list>(axis)) {
    std::vector<int64_t> v;
    for (py::handle h : axis) v.push_back(h.cast<int64_t>());
    return AxisSpec::of(v);
  }
  return AxisSpec::of({axis.cast<int64_t>()});
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

  // Reductions.
  auto sum_fn = [](const Tensor& t, py::handle axis, bool keepdims) {
    return without_gil_if(is_large(t.numel()), [&] { return sum(t, to_axis(axis), keepdims); });
  };
  m.def("sum", [sum_fn](py::handle x, py::handle axis, bool keepdims) { return sum_fn(to_tensor(x, std::nullopt, false), axis, keepdims); },
        py::arg("a"), py::arg("axis") = py::none(), py::arg("keepdims") = false);
  cls.def("sum", sum_fn, py::arg("axis") = py::none(), py::arg("keepdims") = false);
}

}  // namespace tl::bind
