// tensorlet.Tensor: attributes, NumPy interop (buffer protocol, __array__, numpy()).
#include <pybind11/stl.h>
#include "bindings/convert.h"
#include "capture/recorder.h"
#include "bindings/gil.h"

namespace tl::bind {

// The Python int of a size-1 integer tensor (uint64 above 2^63 stays positive).
static py::int_ int_object(const Tensor& t) {
  const int64_t v = t.item_int();  // the same 64 bits for uint64
  return t.dtype() == DType::UInt64 ? py::int_(static_cast<uint64_t>(v)) : py::int_(v);
}

static py::tuple shape_tuple(const Shape& s) {
  py::tuple t(s.size());
  for (size_t i = 0; i < s.size(); ++i) t[i] = py::int_(s[i]);
  return t;
}

void bind_tensor(py::module_& m) {
  py::class_<Tensor> cls(m, "Tensor", py::buffer_protocol(), py::dynamic_attr());
  cls.doc() = "An n-dimensional strided tensor computed by tensorlet's C++ core.";
  cls.def_buffer([](const Tensor& t) -> py::buffer_info {
    capture::note_python_read("the buffer protocol (np.asarray, memoryview)");
    std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end()), strides(t.ndim());
    for (int64_t i = 0; i < t.ndim(); ++i) strides[i] = t.strides()[i] * static_cast<py::ssize_t>(t.itemsize());
    // struct-module codes in DType's order (dtype.h).
    static const char* formats[] = {"?", "B", "i", "q", "f", "d", "b", "h", "H", "I", "Q", "e", "Zf", "Zd"};
    static_assert(sizeof(formats) / sizeof(formats[0]) == kNumDTypes, "one buffer format per dtype");
    return py::buffer_info(t.data_ptr(), static_cast<py::ssize_t>(t.itemsize()), formats[static_cast<int>(t.dtype())],
                           t.ndim(), shape, strides, exports_read_only(t));
  });
  cls.def(py::init([](py::object data, py::object dtype, bool requires_grad) {
            Tensor t = to_tensor(data, parse_optional_dtype(dtype), true);
            if (requires_grad) {
              TL_CHECK_TYPE(is_floating(t.dtype()), "Tensor", "only float tensors can require gradients, got ",
                            dtype_name(t.dtype()));
              t.set_requires_grad(true);
            }
            return t;
          }),
          py::arg("data"), py::arg("dtype") = py::none(), py::arg("requires_grad") = false);
  cls.def_property_readonly("shape", [](const Tensor& t) { return shape_tuple(t.shape()); });
  cls.def_property_readonly("ndim", &Tensor::ndim);
  cls.def_property_readonly("size", &Tensor::numel);
  cls.def_property_readonly("itemsize", [](const Tensor& t) { return t.itemsize(); });
  cls.def_property_readonly("nbytes", [](const Tensor& t) { return t.numel() * static_cast<int64_t>(t.itemsize()); });
  cls.def_property_readonly("dtype", [](const Tensor& t) { return to_numpy_dtype(t.dtype()); });
  cls.def_property_readonly("strides", [](const Tensor& t) {
    Shape s(t.ndim());
    for (int64_t i = 0; i < t.ndim(); ++i) s[i] = t.strides()[i] * static_cast<int64_t>(t.itemsize());
    return shape_tuple(s);
  });
  cls.def_property_readonly("is_contiguous", &Tensor::is_contiguous);
  cls.def("numpy", [](const Tensor& t) {
    capture::note_python_read(".numpy()");
    return to_numpy(t);
  }, "A zero-copy NumPy view of this tensor.");
  cls.def(
      "__array__",
      [](const Tensor& t, py::object dtype, py::object copy) {
        capture::note_python_read("__array__ (np.asarray)");
        py::object arr = to_numpy(t);
        if (!dtype.is_none()) arr = arr.attr("astype")(dtype, py::arg("copy") = false);
        if (!copy.is_none() && py::bool_(copy)) arr = arr.attr("copy")();
        return arr;
      },
      py::arg("dtype") = py::none(), py::arg("copy") = py::none());
  cls.def("item", [](const Tensor& t) -> py::object {
    TL_CHECK(t.numel() == 1, "item", "can only convert an array of size 1 to a Python scalar");
    capture::note_python_read(".item()");
    if (is_complex(t.dtype())) return to_numpy(t).attr("item")();
    if (is_floating(t.dtype())) return py::float_(t.item_double());
    if (t.dtype() == DType::Bool) return py::bool_(t.item_int() != 0);
    return int_object(t);
  });
  cls.def("__float__", [](const Tensor& t) {
    TL_CHECK_TYPE(t.numel() == 1, "float", "only size-1 tensors can be converted to Python scalars");
    TL_CHECK_TYPE(!is_complex(t.dtype()), "float", "can't convert ", dtype_name(t.dtype()), " to float: use real(x)");
    capture::note_python_read("float()");
    return t.item_double();
  });
  cls.def("__int__", [](const Tensor& t) {
    TL_CHECK_TYPE(t.numel() == 1, "int", "only size-1 tensors can be converted to Python scalars");
    TL_CHECK_TYPE(!is_complex(t.dtype()), "int", "can't convert ", dtype_name(t.dtype()), " to int: use real(x)");
    capture::note_python_read("int()");
    // Python's int(float): NaN is a ValueError, inf an OverflowError, a huge value a big int
    // (a cast to int64 would be undefined for all three).
    if (is_floating(t.dtype())) return py::int_(py::float_(t.item_double()));
    return int_object(t);
  });
  cls.def("__bool__", [](const Tensor& t) {
    TL_CHECK(t.numel() == 1, "bool",
             "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()");
    capture::note_python_read("bool() (an if or while on a tensor)");
    if (is_complex(t.dtype())) return py::bool_(to_numpy(t).attr("item")()).cast<bool>();
    return t.item_double() != 0.0;
  });
  cls.def("__index__", [](const Tensor& t) {
    TL_CHECK_TYPE(t.numel() == 1 && is_integral(t.dtype(), true), "index",
                  "only integer scalar arrays can be converted to a scalar index");
    capture::note_python_read("__index__ (a tensor used as a Python int)");
    return int_object(t);
  });
  cls.def("__len__", [](const Tensor& t) {
    TL_CHECK_TYPE(t.ndim() > 0, "len", "len() of unsized object");
    return t.shape()[0];
  });

  m.def("asarray", [](py::object obj, py::object dtype) { return to_tensor(obj, parse_optional_dtype(dtype), false); },
        py::arg("obj"), py::arg("dtype") = py::none(),
        "Converts to a Tensor, sharing memory with a NumPy array when its dtype and layout allow.");
  m.def(
      "array",
      [](py::object obj, py::object dtype, bool copy, bool requires_grad) {
        Tensor t = to_tensor(obj, parse_optional_dtype(dtype), copy);
        if (requires_grad) {
          TL_CHECK_TYPE(is_floating(t.dtype()), "array", "only float tensors can require gradients, got ",
                        dtype_name(t.dtype()));
          if (!copy) t = t.detach();
          t.set_requires_grad(true);
        }
        return t;
      },
      py::arg("obj"), py::arg("dtype") = py::none(), py::arg("copy") = true, py::arg("requires_grad") = false);
}

}  // namespace tl::bind
