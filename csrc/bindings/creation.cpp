// Creation functions: zeros/ones/full/empty and their *_like forms, arange, linspace, eye.
// Everything is filled by the core; NumPy is only consulted to read array-like arguments.
#include <limits>
#include "bindings/convert.h"
#include "capture/recorder.h"
#include "bindings/gil.h"
#include "ops/assign.h"
#include "ops/creation.h"
#include "ops/shape_ops.h"

namespace tl::bind {

namespace {

Tensor with_grad(Tensor t, bool requires_grad, const char* op) {
  if (requires_grad) {
    TL_CHECK_TYPE(is_floating(t.dtype()), op, "only float tensors can require gradients, got ", dtype_name(t.dtype()));
    t.set_requires_grad(true);
  }
  return t;
}

DType scalar_dtype(const Scalar& s) {
  switch (s.kind) {
    case ScalarKind::Bool: return DType::Bool;
    case ScalarKind::Float: return DType::Float64;
    case ScalarKind::Complex: return DType::Complex128;
    default: return DType::Int64;
  }
}

// A tensor of `shape` filled with `value`: a Python scalar (NumPy 2 bounds checks, dtype from
// its kind when not given) or anything array-like, broadcast to `shape` and cast.
Tensor fill_with(const Shape& shape, py::handle value, std::optional<DType> dtype, const char* op) {
  checked_numel(shape, op);
  if (is_python_scalar(value) || PyComplex_Check(value.ptr())) {
    const DType dt = dtype ? *dtype : scalar_dtype(to_scalar(value));
    // As fill: NaN / inf into an integer dtype raise (NumPy's full stores a filler with a warning).
    const Scalar s = assign_scalar_py(value, dt, op);
    return without_gil_if(is_large(checked_numel(shape, op)), [&] { return full(shape, s, dt, op); });
  }
  // The copy below is no recorded op: a captured step would replay the captured value.
  if (py::isinstance<Tensor>(value)) capture::note_python_read("a tensor as a full() fill value");
  Tensor src = to_tensor(value, std::nullopt, false);
  Tensor out = Tensor::empty(shape, dtype ? *dtype : src.dtype());
  Tensor view = broadcast_view(src, shape);
  check_int_assign(src, out.dtype(), op);
  without_gil_if(is_large(out.numel()), [&] { out.copy_from(view); });
  return out;
}

Tensor zeros_of(const Shape& shape, DType dtype, const char* op) {
  return without_gil_if(is_large(checked_numel(shape, op)), [&] { return full(shape, Scalar::from_int(0), dtype, op); });
}

Tensor ones_of(const Shape& shape, DType dtype, const char* op) {
  return without_gil_if(is_large(checked_numel(shape, op)), [&] { return full(shape, Scalar::from_int(1), dtype, op); });
}

Tensor empty_of(const Shape& shape, DType dtype, const char* op) {
  checked_numel(shape, op);
  return Tensor::empty(shape, dtype);
}

// Shape and (default) dtype of the prototype of a *_like function.
Tensor prototype(py::handle a) { return to_tensor(a, std::nullopt, false); }

Scalar arange_arg(py::handle obj, const char* name) {
  if (is_python_scalar(obj)) return to_scalar(obj);
  // NumPy scalars and 0-d tensors/arrays: read them as Python numbers.
  py::object item;
  try {
    item = py::module_::import("numpy").attr("asarray")(obj).attr("item")();
  } catch (py::error_already_set&) {
    throw TypeError(str_cat("[arange] ", name, " must be a real number, got ",
                            std::string(py::str(py::type::of(obj).attr("__name__")))));
  }
  TL_CHECK_TYPE(is_python_scalar(item), "arange", name, " must be a real number, got ",
                std::string(py::str(py::type::of(obj).attr("__name__"))));
  return to_scalar(item);
}

double real_arg(py::handle obj, const char* op, const char* name) {
  if (PyBool_Check(obj.ptr()) || PyLong_Check(obj.ptr()) || PyFloat_Check(obj.ptr())) return obj.cast<double>();
  try {
    return py::float_(py::module_::import("numpy").attr("asarray")(obj).attr("item")()).cast<double>();
  } catch (py::error_already_set&) {
    throw TypeError(str_cat("[", op, "] ", name, " must be a real number, got ",
                            std::string(py::str(py::type::of(obj).attr("__name__")))));
  }
}

int64_t index_arg(py::handle obj, const char* op, const char* name) {
  if (PyBool_Check(obj.ptr()) || PyFloat_Check(obj.ptr()) || !(PyLong_Check(obj.ptr()) || py::hasattr(obj, "__index__")))
    throw TypeError(str_cat("[", op, "] '", std::string(py::str(py::type::of(obj).attr("__name__"))),
                            "' object cannot be interpreted as an integer (", name, ")"));
  return py::reinterpret_borrow<py::object>(obj).attr("__index__")().cast<int64_t>();
}

}  // namespace

void bind_creation(py::module_& m) {
  const auto grad_arg = py::arg("requires_grad") = false;

  m.def("zeros", [](py::handle shape, py::handle dtype, bool rg) {
          return with_grad(zeros_of(to_shape(shape, "zeros"), parse_dtype(dtype), "zeros"), rg, "zeros");
        }, py::arg("shape"), py::arg("dtype") = py::none(), grad_arg,
        "A new tensor of the given shape filled with zeros (float64 unless dtype is given).");
  m.def("ones", [](py::handle shape, py::handle dtype, bool rg) {
          return with_grad(ones_of(to_shape(shape, "ones"), parse_dtype(dtype), "ones"), rg, "ones");
        }, py::arg("shape"), py::arg("dtype") = py::none(), grad_arg,
        "A new tensor of the given shape filled with ones (float64 unless dtype is given).");
  m.def("empty", [](py::handle shape, py::handle dtype, bool rg) {
          return with_grad(empty_of(to_shape(shape, "empty"), parse_dtype(dtype), "empty"), rg, "empty");
        }, py::arg("shape"), py::arg("dtype") = py::none(), grad_arg,
        "A new tensor of the given shape with uninitialised contents.");
  m.def("full", [](py::handle shape, py::handle fill_value, py::handle dtype, bool rg) {
          return with_grad(fill_with(to_shape(shape, "full"), fill_value, parse_optional_dtype(dtype), "full"), rg, "full");
        }, py::arg("shape"), py::arg("fill_value"), py::arg("dtype") = py::none(), grad_arg,
        "A new tensor filled with fill_value; the dtype follows the value like NumPy (int -> int64, "
        "float -> float64, bool -> bool) unless given.");

  m.def("zeros_like", [](py::handle a, py::handle dtype, bool rg) {
          Tensor p = prototype(a);
          return with_grad(zeros_of(p.shape(), parse_optional_dtype(dtype).value_or(p.dtype()), "zeros_like"), rg, "zeros_like");
        }, py::arg("a"), py::arg("dtype") = py::none(), grad_arg, "Zeros with the shape (and dtype) of a.");
  m.def("ones_like", [](py::handle a, py::handle dtype, bool rg) {
          Tensor p = prototype(a);
          return with_grad(ones_of(p.shape(), parse_optional_dtype(dtype).value_or(p.dtype()), "ones_like"), rg, "ones_like");
        }, py::arg("a"), py::arg("dtype") = py::none(), grad_arg, "Ones with the shape (and dtype) of a.");
  m.def("empty_like", [](py::handle a, py::handle dtype, bool rg) {
          Tensor p = prototype(a);
          return with_grad(empty_of(p.shape(), parse_optional_dtype(dtype).value_or(p.dtype()), "empty_like"), rg, "empty_like");
        }, py::arg("a"), py::arg("dtype") = py::none(), grad_arg,
        "An uninitialised tensor with the shape (and dtype) of a.");
  m.def("full_like", [](py::handle a, py::handle fill_value, py::handle dtype, bool rg) {
          Tensor p = prototype(a);
          return with_grad(fill_with(p.shape(), fill_value, parse_optional_dtype(dtype).value_or(p.dtype()), "full_like"),
                           rg, "full_like");
        }, py::arg("a"), py::arg("fill_value"), py::arg("dtype") = py::none(), grad_arg,
        "A tensor with the shape (and dtype) of a filled with fill_value.");

  m.def("arange", [](py::handle start, py::handle stop, py::handle step, py::handle dtype, bool rg) {
          Scalar a = arange_arg(start, "start");
          Scalar b;
          if (stop.is_none()) {
            b = a;
            a = Scalar::from_int(0);
          } else {
            b = arange_arg(stop, "stop");
          }
          Scalar s = arange_arg(step, "step");
          return with_grad(arange(a, b, s, parse_optional_dtype(dtype)), rg, "arange");
        }, py::arg("start"), py::arg("stop") = py::none(), py::arg("step") = 1, py::arg("dtype") = py::none(), grad_arg,
        "Evenly spaced values in [start, stop) like numpy.arange: int arguments give int64, any float "
        "gives float64; arange(n) counts from 0.");
  m.def("linspace", [](py::handle start, py::handle stop, py::handle num, bool endpoint, bool retstep, py::handle dtype,
                       bool rg) -> py::object {
          const double a = real_arg(start, "linspace", "start"), b = real_arg(stop, "linspace", "stop");
          const int64_t n = index_arg(num, "linspace", "num");
          Tensor out = with_grad(linspace(a, b, n, endpoint, parse_optional_dtype(dtype).value_or(DType::Float64)), rg,
                                 "linspace");
          if (!retstep) return py::cast(out);
          // NumPy's step: (stop - start) / div in float64, nan when there is no interval.
          const int64_t div = endpoint ? n - 1 : n;
          const double step = div > 0 ? (b - a) / static_cast<double>(div) : std::numeric_limits<double>::quiet_NaN();
          return py::make_tuple(out, step);
        }, py::arg("start"), py::arg("stop"), py::arg("num") = 50, py::arg("endpoint") = true, py::arg("retstep") = false,
        py::arg("dtype") = py::none(), grad_arg,
        "num evenly spaced samples over [start, stop], like numpy.linspace (retstep=True also returns the step).");
  m.def("eye", [](py::handle n, py::handle m_, py::handle k, py::handle dtype, bool rg) {
          const int64_t rows = index_arg(n, "eye", "N");
          const int64_t cols = m_.is_none() ? rows : index_arg(m_, "eye", "M");
          TL_CHECK(rows >= 0 && cols >= 0, "eye", "negative dimensions are not allowed");
          return with_grad(eye(rows, cols, index_arg(k, "eye", "k"), parse_dtype(dtype)), rg, "eye");
        }, py::arg("N"), py::arg("M") = py::none(), py::arg("k") = 0, py::arg("dtype") = py::none(), grad_arg,
        "An N x M matrix with ones on the k-th diagonal and zeros elsewhere.");
}

}  // namespace tl::bind
