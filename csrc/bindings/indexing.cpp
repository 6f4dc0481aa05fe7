// Tensor.__getitem__ / __setitem__ / __iter__ (Python index objects -> tl::Index) and take.
#include <limits>
#include <pybind11/stl.h>
#include "autograd/grad_mode.h"
#include "bindings/convert.h"
#include "bindings/gil.h"
#include "ops/creation.h"
#include "ops/indexing.h"

namespace tl::bind {

namespace {

// Raised for index objects of the wrong type. NumPy raises IndexError for these; Python's own
// sequences raise TypeError; this derives from both so either `except` works.
PyObject* invalid_index_error = nullptr;

[[noreturn]] void invalid_index(py::handle obj) {
  std::string msg = str_cat("[index] only integers, slices (`:`), ellipsis (`...`), None (newaxis) and integer or "
                            "boolean arrays are valid indices, got ",
                            std::string(py::str(py::type::of(obj).attr("__name__"))));
  PyErr_SetString(invalid_index_error, msg.c_str());
  throw py::error_already_set();
}

[[noreturn]] void non_integer_array() {
  PyErr_SetString(invalid_index_error, "[index] arrays used as indices must be of integer (or boolean) type");
  throw py::error_already_set();
}

int64_t to_index_int(py::handle h) {
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow)
    throw std::out_of_range(str_cat("[index] cannot fit '", std::string(py::str(py::type::of(h).attr("__name__"))),
                                    "' into an index-sized integer"));
  return v;
}

// A slice bound: None, or an integer (via __index__) clamped to int64 as Python clamps to ssize_t.
// Anything else sets `bad` (reported when the index walk reaches this slice).
std::optional<int64_t> slice_field(PyObject* v, bool& bad) {
  if (v == Py_None) return std::nullopt;
  py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(v));
  if (!i) {
    PyErr_Clear();
    bad = true;
    return std::nullopt;
  }
  int overflow = 0;
  long long r = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (overflow) return overflow > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return r;
}

IndexItem array_item(const py::array& arr) {
  const char kind = arr.dtype().kind();
  if (kind == 'b') return IndexItem::tensor(to_tensor(arr, std::nullopt, false));
  if (kind != 'i' && kind != 'u') non_integer_array();
  const auto isz = arr.dtype().itemsize();
  const bool direct = (kind == 'i' && (isz == 4 || isz == 8)) || (kind == 'u' && isz == 1);
  if (direct) return IndexItem::tensor(to_tensor(arr, std::nullopt, false));
  return IndexItem::tensor(to_tensor(arr.attr("astype")("int64"), std::nullopt, false));
}

// NumPy objects the parser needs, looked up once and never released (a static py::object would
// be destroyed after the interpreter has finalised).
struct NumPy {
  py::handle bool_type, asarray;
  static const NumPy& get() {
    static const NumPy np = [] {
      py::module_ m = py::module_::import("numpy");
      return NumPy{py::object(m.attr("bool_")).release(), py::object(m.attr("asarray")).release()};
    }();
    return np;
  }
};

IndexItem parse_item(py::handle h, const NumPy& np) {
  PyObject* o = h.ptr();
  if (o == Py_None) return IndexItem::newaxis();
  if (o == Py_Ellipsis) return IndexItem::ellipsis();
  if (PySlice_Check(o)) {
    // Read the fields ourselves: PySlice_Unpack would raise for a zero step before the rest of
    // the index is validated (NumPy reports e.g. too many indices first).
    auto* s = reinterpret_cast<PySliceObject*>(o);
    IndexItem it = IndexItem::slice();
    it.start = slice_field(s->start, it.bad_bound);
    it.stop = slice_field(s->stop, it.bad_bound);
    it.step = slice_field(s->step, it.bad_bound);
    return it;
  }
  if (PyBool_Check(o)) return IndexItem::boolean(o == Py_True);
  if (PyLong_Check(o)) return IndexItem::integer(to_index_int(h));
  if (py::isinstance<Tensor>(h)) return IndexItem::tensor(h.cast<Tensor>());
  if (py::isinstance<py::array>(h)) return array_item(py::reinterpret_borrow<py::array>(h));
  if (PyObject_IsInstance(o, np.bool_type.ptr()) == 1) return IndexItem::boolean(PyObject_IsTrue(o) == 1);
  if (PyFloat_Check(o) || PyUnicode_Check(o) || PyBytes_Check(o)) invalid_index(h);
  if (py::isinstance<py::sequence>(h)) {
    if (py::len(h) == 0) return IndexItem::tensor(Tensor::empty({0}, DType::Int64));
    py::object arr;
    try {
      arr = np.asarray(h);
    } catch (py::error_already_set&) {
      non_integer_array();
    }
    return array_item(py::reinterpret_borrow<py::array>(arr));
  }
  if (PyIndex_Check(o)) {  // NumPy integer scalars and other __index__ objects
    py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(o));
    if (!i) throw py::error_already_set();
    return IndexItem::integer(to_index_int(i));
  }
  invalid_index(h);
}

bool has_array(const Index& idx) {
  for (const IndexItem& it : idx)
    if (it.kind == IndexItem::Kind::Array) return true;
  return false;
}

Index parse_index(py::handle key) {
  const NumPy& np = NumPy::get();
  Index idx;
  if (PyTuple_Check(key.ptr())) {
    idx.reserve(py::len(key));
    for (py::handle h : key) idx.push_back(parse_item(h, np));
  } else {
    idx.push_back(parse_item(key, np));
  }
  return idx;
}

// The value of x[...] = value, as a tensor; Python ints must fit an integer target (NumPy 2).
Tensor setitem_value(const Tensor& x, py::handle value) {
  if (py::isinstance<Tensor>(value)) return value.cast<Tensor>();
  if (is_assignable_scalar(value)) return Tensor::scalar(assign_scalar_py(value, x.dtype(), "setitem"), x.dtype());
  // Every real NumPy dtype is a tensorlet dtype: the value becomes a tensor as it is (zero-copy),
  // and the write checks and casts it like any tensor value.
  return to_tensor(value, std::nullopt, false);
}

// take's indices: a tensor, a Python int, or anything NumPy reads as an integer array.
Tensor take_indices(py::handle h) {
  if (py::isinstance<Tensor>(h)) return h.cast<Tensor>();
  if (PyLong_Check(h.ptr()) && !PyBool_Check(h.ptr())) return Tensor::scalar(Scalar::from_int(to_index_int(h)), DType::Int64);
  py::array arr = py::reinterpret_borrow<py::array>(NumPy::get().asarray(h));
  if (arr.size() == 0 && arr.dtype().kind() == 'f') arr = arr.attr("astype")("int64");  // [] means no indices
  const char kind = arr.dtype().kind();
  TL_CHECK_TYPE(kind == 'b' || kind == 'i' || kind == 'u', "take", "cannot cast array data from dtype('",
                std::string(py::str(arr.dtype())), "') to dtype('int64') according to the rule 'safe'");
  return array_item(arr).array;
}

py::object take_py(const Tensor& a, py::handle indices, py::handle axis, py::handle out, const std::string& mode) {
  TL_CHECK(mode == "raise", "take", "only mode='raise' is supported, got mode='", mode, "'");
  Tensor idx = take_indices(indices);
  std::optional<int64_t> ax;
  if (!axis.is_none()) ax = axis.cast<int64_t>();
  if (out.is_none()) return py::cast(without_gil_if(is_large(a.numel()), [&] { return take(a, idx, ax); }));
  TL_CHECK_TYPE(py::isinstance<Tensor>(out), "take", "out must be a tensorlet Tensor");
  Tensor o = out.cast<Tensor>();
  without_gil_if(is_large(o.numel()), [&] { take_into(a, idx, ax, o); });
  return py::reinterpret_borrow<py::object>(out);
}

struct TensorIterator {
  Tensor t;
  int64_t i = 0;
};

}  // namespace

void bind_indexing(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));

  py::tuple bases = py::make_tuple(py::handle(PyExc_IndexError), py::handle(PyExc_TypeError));
  invalid_index_error = PyErr_NewException("tensorlet._core.InvalidIndexError", bases.ptr(), nullptr);
  if (!invalid_index_error) throw py::error_already_set();
  m.attr("InvalidIndexError") = py::handle(invalid_index_error);
  NumPy::get();  // looked up now, while the module is imported, not by racing threads later

  cls.def("__getitem__", [](const Tensor& t, py::handle key) {
    Index idx = parse_index(key);
    return without_gil_if(has_array(idx) && is_large(t.numel()), [&] { return index(t, idx); });
  });
  cls.def("__setitem__", [](const Tensor& t, py::handle key, py::handle value) {
    Index idx = parse_index(key);
    Tensor v = setitem_value(t, value);
    without_gil_if(is_large(t.numel()), [&] { index_put_(t, idx, v); });
  });

  m.def("_nonzero", [](const Tensor& mask) {
          return without_gil_if(is_large(mask.numel()), [&] { return nonzero(mask); });
        }, py::arg("mask"), "Coordinates (one int64 array per dim, C order) of the true elements of a bool mask.");
  m.def("_count_true", [](const Tensor& mask) {
          return without_gil_if(is_large(mask.numel()), [&] { return count_true(mask); });
        }, py::arg("mask"), "The number of true elements of a bool mask (0-d int64).");
  m.def("take", [](py::handle a, py::handle indices, py::handle axis, py::handle out, const std::string& mode) {
          return take_py(to_tensor(a, std::nullopt, false), indices, axis, out, mode);
        }, py::arg("a"), py::arg("indices"), py::arg("axis") = py::none(), py::arg("out") = py::none(),
        py::arg("mode") = "raise",
        "NumPy take: elements of `a` at `indices` along `axis`; out= gathers into an existing tensor.");
  cls.def("take", &take_py, py::arg("indices"), py::arg("axis") = py::none(), py::arg("out") = py::none(),
          py::arg("mode") = "raise");

  py::class_<TensorIterator>(m, "_TensorIterator")
      .def("__iter__", [](TensorIterator& it) -> TensorIterator& { return it; }, py::return_value_policy::reference)
      .def("__next__", [](TensorIterator& it) {
        if (it.i >= it.t.shape()[0]) throw py::stop_iteration();
        return index(it.t, {IndexItem::integer(it.i++)});
      });
  cls.def("__iter__", [](const Tensor& t) {
    TL_CHECK_TYPE(t.ndim() > 0, "iter", "iteration over a 0-d array");
    return TensorIterator{t, 0};
  });
}

}  // namespace tl::bind
