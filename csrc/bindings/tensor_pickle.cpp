// Pickle, copy and deepcopy of tensors. A tensor pickles as (bytes, dtype name, shape,
// requires_grad) rebuilt by tensorlet._pickle.rebuild_tensor, which only builds a fresh tensor
// from those validated plain values: no other object is unpickled. A view pickles as its own
// contiguous data; the graph and .grad are not pickled (as PyTorch); deepcopy copies .grad.
#include <cstring>
#include <pybind11/stl.h>
#include "bindings/convert.h"
#include "ops/shape_ops.h"

namespace tl::bind {

namespace {

py::bytes to_bytes(const Tensor& t) {
  Tensor c = t.contiguous();
  return py::bytes(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()) * c.itemsize());
}

py::object instance_dict(py::handle self) {
  py::object d = py::getattr(self, "__dict__", py::none());
  return !d.is_none() && py::len(d) ? d : py::object(py::none());
}

}  // namespace

void bind_tensor_pickle(py::module_& m) {
  m.def(
      "_tensor_from_bytes",
      [](py::bytes data, const std::string& dtype, py::object shape, bool requires_grad) {
        const char* op = "unpickle";
        const DType d = parse_dtype(py::str(dtype));
        const Shape s = to_shape(shape, op);
        const int64_t n = checked_numel(s, op);
        std::string_view buf = data;
        TL_CHECK(buf.size() == static_cast<size_t>(n) * itemsize(d), op, "got ", buf.size(), " bytes for shape ",
                 shape_str(s), " of ", dtype_name(d), " (", static_cast<size_t>(n) * itemsize(d), " expected)");
        if (d == DType::Bool)  // any other byte would be an invalid bool
          for (char c : buf) TL_CHECK(c == 0 || c == 1, op, "bool data holds a byte other than 0 or 1");
        Tensor t = Tensor::empty(s, d);
        if (n) std::memcpy(t.data_ptr(), buf.data(), buf.size());
        if (requires_grad) {
          TL_CHECK_TYPE(is_floating(d), op, "only float tensors can require gradients, got ", dtype_name(d));
          t.set_requires_grad(true);
        }
        return t;
      },
      py::arg("data"), py::arg("dtype"), py::arg("shape"), py::arg("requires_grad") = false);

  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  cls.def("__reduce__", [](py::object self) {
    Tensor t = self.cast<Tensor>();
    py::object rebuild = py::module_::import("tensorlet._pickle").attr("rebuild_tensor");
    py::tuple args = py::make_tuple(to_bytes(t), dtype_name(t.dtype()), py::tuple(py::cast(t.shape())),
                                    t.requires_grad());
    py::object state = instance_dict(self);  // attributes set on the tensor object
    if (state.is_none()) return py::tuple(py::make_tuple(rebuild, args));
    return py::tuple(py::make_tuple(rebuild, args, state));
  });
  cls.def(
      "__deepcopy__",
      [](py::object self, py::dict memo) {
        Tensor t = self.cast<Tensor>();
        if (!t.is_leaf())
          throw RuntimeError(
              "[deepcopy] only tensors created explicitly by the user (graph leaves) support the deepcopy protocol; "
              "deepcopy x.detach() instead");
        Tensor c = tl::copy(t.detach());  // an op: a captured step records the copy
        c.set_requires_grad(t.requires_grad());
        py::object out = py::cast(c);
        memo[py::int_(reinterpret_cast<uintptr_t>(self.ptr()))] = out;
        py::object deepcopy = py::module_::import("copy").attr("deepcopy");
        if (t.grad().defined()) out.attr("grad") = deepcopy(py::cast(t.grad()), memo);
        py::object state = instance_dict(self);
        if (!state.is_none()) out.attr("__dict__").attr("update")(deepcopy(state, memo));
        return out;
      },
      py::arg("memo"));
}

}  // namespace tl::bind
