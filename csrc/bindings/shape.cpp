// Shape ops as module functions and Tensor methods: reshape, transpose/T, swapaxes, squeeze,
// expand_dims, ravel/flatten, broadcast_to, concatenate, stack, split/array_split, copy,
// ascontiguousarray.
#include <pybind11/stl.h>
#include "bindings/convert.h"
#include "bindings/gil.h"
#include "ops/join.h"
#include "ops/shape_ops.h"

namespace tl::bind {

namespace {

// reshape(2, 3), reshape((2, 3)) and reshape([2, 3]) all mean the same.
Shape shape_from_args(const py::args& args, const char* op) {
  if (args.size() == 1) return to_shape(args[0], op);
  Shape s;
  for (py::handle h : args) s.push_back(to_shape(h, op).at(0));
  return s;
}

// axis=None | int | sequence of ints.
std::optional<std::vector<int64_t>> optional_axes(py::handle axis, const char* op) {
  if (axis.is_none()) return std::nullopt;
  return to_shape(axis, op);
}

std::vector<Tensor> array_list(py::handle seq, const char* op) {
  TL_CHECK_TYPE(py::isinstance<py::iterable>(seq), op, "expected a sequence of arrays, got ",
                std::string(py::str(py::type::of(seq).attr("__name__"))));
  std::vector<Tensor> out;
  for (py::handle h : seq) out.push_back(tensor_arg(h));
  return out;
}

py::list split_py(const Tensor& x, py::handle ios, int64_t axis, bool equal) {
  std::vector<Tensor> parts;
  if (PyLong_Check(ios.ptr()) || (py::hasattr(ios, "__index__") && !py::isinstance<py::sequence>(ios) &&
                                  !py::isinstance<Tensor>(ios) && !py::isinstance<py::array>(ios)))
    parts = equal ? split(x, ios.cast<int64_t>(), axis) : array_split(x, ios.cast<int64_t>(), axis);
  else
    parts = split(x, to_shape(ios, "split"), axis);
  py::list out;
  for (Tensor& t : parts) out.append(py::cast(std::move(t)));
  return out;
}

Tensor concat_py(py::handle seq, py::handle axis) {
  std::vector<Tensor> xs = array_list(seq, "concatenate");
  int64_t n = 0;
  for (const Tensor& x : xs) n += x.numel();
  std::optional<int64_t> ax;
  if (!axis.is_none()) ax = axis.cast<int64_t>();
  return without_gil_if(is_large(n), [&] { return concatenate(xs, ax); });
}

}  // namespace

void bind_shape(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));

  m.def("reshape", [](py::handle x, py::handle shape) { return reshape(tensor_arg(x), to_shape(shape, "reshape")); },
        py::arg("a"), py::arg("shape"));
  cls.def("reshape", [](const Tensor& t, py::args args) { return reshape(t, shape_from_args(args, "reshape")); });
  m.def("transpose", [](py::handle x, py::object axes) {
          return transpose(tensor_arg(x), axes.is_none() ? std::vector<int64_t>{} : to_shape(axes, "transpose"));
        }, py::arg("a"), py::arg("axes") = py::none());
  cls.def("transpose", [](const Tensor& t, py::args args) {
    if (args.size() == 0 || (args.size() == 1 && args[0].is_none())) return transpose(t);
    return transpose(t, shape_from_args(args, "transpose"));
  });
  cls.def_property_readonly("T", [](const Tensor& t) { return transpose(t); });
  m.def("swapaxes", [](py::handle x, int64_t a, int64_t b) { return swapaxes(tensor_arg(x), a, b); }, py::arg("a"),
        py::arg("axis1"), py::arg("axis2"));
  cls.def("swapaxes", &swapaxes, py::arg("axis1"), py::arg("axis2"));
  m.def("broadcast_to", [](py::handle x, py::handle shape) {
          return broadcast_to(tensor_arg(x), to_shape(shape, "broadcast_to"));
        }, py::arg("array"), py::arg("shape"));

  m.def("squeeze", [](py::handle x, py::handle axis) { return squeeze(tensor_arg(x), optional_axes(axis, "squeeze")); },
        py::arg("a"), py::arg("axis") = py::none());
  cls.def("squeeze", [](const Tensor& t, py::handle axis) { return squeeze(t, optional_axes(axis, "squeeze")); },
          py::arg("axis") = py::none());
  m.def("expand_dims", [](py::handle x, py::handle axis) { return expand_dims(tensor_arg(x), to_shape(axis, "expand_dims")); },
        py::arg("a"), py::arg("axis"));
  m.def("ravel", [](py::handle x) { return ravel(tensor_arg(x)); }, py::arg("a"));
  cls.def("ravel", &ravel);
  cls.def("flatten", [](const Tensor& t) { return without_gil_if(is_large(t.numel()), [&] { return flatten(t); }); });

  m.def("copy", [](py::handle x) { return copy(tensor_arg(x)); }, py::arg("a"));
  // Replaces the plain clone bound with the Tensor class: this one is differentiable.
  cls.def("copy", [](const Tensor& t) { return without_gil_if(is_large(t.numel()), [&] { return copy(t); }); },
          py::prepend());
  m.def("ascontiguousarray", [](py::handle x, py::object dtype) {
          Tensor t = ascontiguousarray(tensor_arg(x));
          if (!dtype.is_none()) t = ascontiguousarray(to_tensor(py::cast(t), parse_dtype(dtype), false));
          return t;
        }, py::arg("a"), py::arg("dtype") = py::none());

  m.def("concatenate", &concat_py, py::arg("arrays"), py::arg("axis") = 0);
  m.def("stack", [](py::handle seq, int64_t axis) { return stack(array_list(seq, "stack"), axis); },
        py::arg("arrays"), py::arg("axis") = 0);
  m.def("split", [](py::handle x, py::handle ios, int64_t axis) { return split_py(tensor_arg(x), ios, axis, true); },
        py::arg("ary"), py::arg("indices_or_sections"), py::arg("axis") = 0);
  m.def("array_split", [](py::handle x, py::handle ios, int64_t axis) { return split_py(tensor_arg(x), ios, axis, false); },
        py::arg("ary"), py::arg("indices_or_sections"), py::arg("axis") = 0);
}

}  // namespace tl::bind
