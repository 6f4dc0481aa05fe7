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

// reshape(2, 3), reshape((2, 3)) and reshape([2, 3]) all mean the same.
Shape shape_from_args(const py::args& args, const char* op) {
  if (args.size() == 1) return to_shape(args[0], op);
  Shape s;
  for (py::handle h : args) s.push_back(to_shape(h, op).at(0));
  return s;
}

}  // namespace

void bind_ops(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));

  m.def("add", &call_binary<add>, py::arg("x1"), py::arg("x2"));
  m.def("subtract", &call_binary<sub>, py::arg("x1"), py::arg("x2"));
  m.def("multiply", &call_binary<mul>, py::arg("x1"), py::arg("x2"));
  m.def("divide", &call_binary<div>, py::arg("x1"), py::arg("x2"));
  m.def("matmul", &call_binary<matmul>, py::arg("x1"), py::arg("x2"));
  m.def("dot", &call_binary<dot>, py::arg("a"), py::arg("b"));
  m.def("negative", [](py::handle x) { return neg(to_tensor(x, std::nullopt, false)); }, py::arg("x"));

  cls.def("__add__", [](const Tensor& a, py::handle b) { return call_binary<add>(py::cast(a), b); }, py::is_operator());
  cls.def("__radd__", [](const Tensor& a, py::handle b) { return call_binary<add>(b, py::cast(a)); }, py::is_operator());
  cls.def("__sub__", [](const Tensor& a, py::handle b) { return call_binary<sub>(py::cast(a), b); }, py::is_operator());
  cls.def("__rsub__", [](const Tensor& a, py::handle b) { return call_binary<sub>(b, py::cast(a)); }, py::is_operator());
  cls.def("__mul__", [](const Tensor& a, py::handle b) { return call_binary<mul>(py::cast(a), b); }, py::is_operator());
  cls.def("__rmul__", [](const Tensor& a, py::handle b) { return call_binary<mul>(b, py::cast(a)); }, py::is_operator());
  cls.def("__truediv__", [](const Tensor& a, py::handle b) { return call_binary<div>(py::cast(a), b); }, py::is_operator());
  cls.def("__rtruediv__", [](const Tensor& a, py::handle b) { return call_binary<div>(b, py::cast(a)); }, py::is_operator());
  cls.def("__matmul__", [](const Tensor& a, py::handle b) { return call_binary<matmul>(py::cast(a), b); }, py::is_operator());
  cls.def("__rmatmul__", [](const Tensor& a, py::handle b) { return call_binary<matmul>(b, py::cast(a)); }, py::is_operator());
  cls.def("__neg__", [](const Tensor& a) { return neg(a); });
  cls.def("__pos__", [](const Tensor& a) { return a; });
  cls.def("dot", [](const Tensor& a, py::handle b) { return call_binary<dot>(py::cast(a), b); });

  // Shape ops.
  m.def("reshape", [](py::handle x, py::handle shape) { return reshape(to_tensor(x, std::nullopt, false), to_shape(shape, "reshape")); },
        py::arg("a"), py::arg("newshape"));
  cls.def("reshape", [](const Tensor& t, py::args args) { return reshape(t, shape_from_args(args, "reshape")); });
  m.def("transpose", [](py::handle x, py::object axes) {
          return transpose(to_tensor(x, std::nullopt, false), axes.is_none() ? std::vector<int64_t>{} : to_shape(axes, "transpose"));
        }, py::arg("a"), py::arg("axes") = py::none());
  cls.def("transpose", [](const Tensor& t, py::args args) {
    if (args.size() == 0 || (args.size() == 1 && args[0].is_none())) return transpose(t);
    return transpose(t, shape_from_args(args, "transpose"));
  });
  cls.def_property_readonly("T", [](const Tensor& t) { return transpose(t); });
  m.def("swapaxes", [](py::handle x, int64_t a, int64_t b) { return swapaxes(to_tensor(x, std::nullopt, false), a, b); },
        py::arg("a"), py::arg("axis1"), py::arg("axis2"));
  cls.def("swapaxes", &swapaxes, py::arg("axis1"), py::arg("axis2"));
  m.def("broadcast_to", [](py::handle x, py::handle shape) {
          return broadcast_to(to_tensor(x, std::nullopt, false), to_shape(shape, "broadcast_to"));
        }, py::arg("array"), py::arg("shape"));

  // Reductions.
  auto sum_fn = [](const Tensor& t, py::handle axis, bool keepdims) {
    return without_gil_if(is_large(t.numel()), [&] { return sum(t, to_axis(axis), keepdims); });
  };
  m.def("sum", [sum_fn](py::handle x, py::handle axis, bool keepdims) { return sum_fn(to_tensor(x, std::nullopt, false), axis, keepdims); },
        py::arg("a"), py::arg("axis") = py::none(), py::arg("keepdims") = false);
  cls.def("sum", sum_fn, py::arg("axis") = py::none(), py::arg("keepdims") = false);
}

}  // namespace tl::bind
