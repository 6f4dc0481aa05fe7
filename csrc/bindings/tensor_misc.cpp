// Tensor conveniences: repr/str (formatted in the core like NumPy's), tolist, fill/fill_.
#include "autograd/grad_mode.h"
#include "bindings/convert.h"
#include "capture/recorder.h"
#include "bindings/gil.h"
#include "core/format.h"
#include "ops/creation.h"
#include "ops/inplace.h"
#include <cmath>
#include <limits>

namespace tl::bind {

namespace {

template <class T>
py::object to_py(T v) {
  if constexpr (std::is_same_v<T, bool>) return py::bool_(v);
  else if constexpr (is_float_v<T>) return py::float_(static_cast<double>(v));
  else if constexpr (std::is_unsigned_v<T>) return py::int_(static_cast<uint64_t>(v));
  else return py::int_(static_cast<int64_t>(v));
}

template <class T>
py::object tolist_rec(const Tensor& t, size_t axis, const T* p) {
  if (axis == t.shape().size()) return to_py<T>(*p);
  const int64_t n = t.shape()[axis], st = t.strides()[axis];
  py::list out(n);
  for (int64_t i = 0; i < n; ++i) {
    py::object item = tolist_rec<T>(t, axis + 1, p + i * st);
    PyList_SET_ITEM(out.ptr(), i, item.release().ptr());
  }
  return std::move(out);
}

// A fill value as a Scalar: Python numbers directly (NumPy's assignment rules: NaN into an
// integer tensor is a ValueError, ...), NumPy scalars and size-1 tensors/arrays through their
// Python value.
Scalar fill_scalar(py::handle value, DType dtype) {
  py::object v = py::reinterpret_borrow<py::object>(value);
  if (!is_assignable_scalar(v)) {
    try {
      py::object arr = py::module_::import("numpy").attr("asarray")(value);
      // NumPy integers into an integer tensor wrap, as NumPy casts arrays (np.int64(300) -> 44).
      const std::string kind = py::str(arr.attr("dtype").attr("kind"));
      if (is_integral(dtype) && (kind == "i" || kind == "u" || kind == "b")) arr = arr.attr("astype")(to_numpy_dtype(dtype));
      v = arr.attr("item")();
    } catch (py::error_already_set&) {
      throw TypeError(str_cat("[fill] expected a number, got ", std::string(py::str(py::type::of(value).attr("__name__")))));
    }
    TL_CHECK_TYPE(is_assignable_scalar(v), "fill", "expected a number, got ",
                  std::string(py::str(py::type::of(value).attr("__name__"))));
  }
  return assign_scalar_py(v, dtype, "fill");
}

void fill(const Tensor& t, py::handle value) {
  check_inplace_target(t, "fill");
  Scalar s = fill_scalar(value, t.dtype());
  without_gil_if(is_large(t.numel()), [&] { fill_inplace(t, s); });
}

int64_t option_int(py::handle v, const char* name, int64_t min_value) {
  if (PyFloat_Check(v.ptr())) {
    const double d = v.cast<double>();
    TL_CHECK(!std::isnan(d), "set_printoptions", name, " must be a number, not NaN (use sys.maxsize for no limit)");
    if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
    TL_CHECK_TYPE(d == std::floor(d), "set_printoptions", name, " must be an integer");
    return static_cast<int64_t>(d);
  }
  TL_CHECK_TYPE(!PyBool_Check(v.ptr()) && py::hasattr(v, "__index__"), "set_printoptions", name, " must be an integer");
  py::int_ i = py::reinterpret_borrow<py::object>(v).attr("__index__")();
  if (py::bool_(i > py::int_(std::numeric_limits<int64_t>::max()))) return std::numeric_limits<int64_t>::max();
  const int64_t x = i.cast<int64_t>();
  TL_CHECK(x >= min_value, "set_printoptions", name, " must be >= ", min_value, ", got ", x);
  return x;
}

}  // namespace

void bind_tensor_misc(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  m.def("set_printoptions", [](py::handle precision, py::handle threshold, py::handle edgeitems, py::handle linewidth,
                               py::handle suppress) {
          PrintOptions o = print_options();  // validate everything before changing anything
          if (!precision.is_none()) o.precision = static_cast<int>(std::min<int64_t>(option_int(precision, "precision", 0), 1000));
          if (!threshold.is_none()) o.threshold = option_int(threshold, "threshold", 0);
          if (!edgeitems.is_none()) o.edgeitems = option_int(edgeitems, "edgeitems", 0);
          if (!linewidth.is_none()) o.linewidth = option_int(linewidth, "linewidth", 1);
          if (!suppress.is_none()) o.suppress = PyObject_IsTrue(suppress.ptr()) == 1;
          print_options() = o;
        }, py::arg("precision") = py::none(), py::arg("threshold") = py::none(), py::arg("edgeitems") = py::none(),
        py::arg("linewidth") = py::none(), py::arg("suppress") = py::none(),
        "Sets how tensors print, like numpy.set_printoptions (None leaves an option as it is).");
  m.def("get_printoptions", [] {
          const PrintOptions& o = print_options();
          py::dict d;
          d["precision"] = o.precision;
          d["threshold"] = o.threshold;
          d["edgeitems"] = o.edgeitems;
          d["linewidth"] = o.linewidth;
          d["suppress"] = o.suppress;
          return d;
        }, "The current print options as a dict (the keys set_printoptions takes).");
  cls.def("__repr__", [](const Tensor& t) { return tensor_repr(t); });
  cls.def("__str__", [](const Tensor& t) { return tensor_str(t); });
  cls.def("__format__", [](py::object self, const std::string& spec) -> py::str {
        // Like ndarray.__format__: a 0-d tensor formats as its Python scalar (f"{loss:.4f}").
        const Tensor& t = self.cast<const Tensor&>();
        if (t.ndim() == 0) return py::str(py::module_::import("builtins").attr("format")(self.attr("item")(), spec));
        TL_CHECK_TYPE(spec.empty(), "format", "unsupported format string passed to Tensor.__format__");
        return py::str(self);
      }, py::arg("format_spec"));
  cls.def("tolist", [](const Tensor& t) {
        capture::note_python_read(".tolist()");
        if (is_complex(t.dtype())) return py::object(to_numpy(t).attr("tolist")());  // Python complex values
        return TL_DISPATCH_ALL(t.dtype(), "tolist", [&] { return tolist_rec<scalar_t>(t, 0, t.data<scalar_t>()); });
      }, "The data as nested Python lists of Python scalars (a scalar for a 0-d tensor), like NumPy.");
  cls.def("fill", [](const Tensor& t, py::handle value) { fill(t, value); }, py::arg("value"),
          "Fills the tensor with a scalar in place (cast to its dtype, like ndarray.fill); returns None.");
  cls.def("fill_", [](py::object self, py::handle value) { fill(self.cast<Tensor>(), value); return self; },
          py::arg("value"),
          "Fills the tensor with a scalar in place and returns it.");
}

}  // namespace tl::bind
