#include "bindings/convert.h"
#include "ops/assign.h"
#include "ops/binary.h"
#include "ops/shape_ops.h"

namespace tl::bind {

namespace {

// Read from the descriptor's fields (no Python attribute lookups or name strings): every
// NumPy array an op is given passes here.
bool supported_numpy_dtype(const py::dtype& dt, DType& out) {
  constexpr auto key = [](char kind, int64_t size) { return int64_t(kind) << 8 | size; };
  switch (key(dt.kind(), dt.itemsize())) {
    case key('b', 1): out = DType::Bool; return true;
    case key('i', 1): out = DType::Int8; return true;
    case key('i', 2): out = DType::Int16; return true;
    case key('i', 4): out = DType::Int32; return true;
    case key('i', 8): out = DType::Int64; return true;
    case key('u', 1): out = DType::UInt8; return true;
    case key('u', 2): out = DType::UInt16; return true;
    case key('u', 4): out = DType::UInt32; return true;
    case key('u', 8): out = DType::UInt64; return true;
    case key('f', 2): out = DType::Float16; return true;
    case key('f', 4): out = DType::Float32; return true;
    case key('f', 8): out = DType::Float64; return true;
    case key('c', 8): out = DType::Complex64; return true;
    case key('c', 16): out = DType::Complex128; return true;
  }
  return false;
}

// NumPy's byte-order character: '=' native, '|' not applicable, '<' / '>' explicit.
bool native_byte_order(const py::dtype& dt) {
  const char order = dt.byteorder();
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return order != '<';
#else
  return order != '>';
#endif
}

}  // namespace

DType parse_dtype(py::handle obj) {
  py::dtype dt;
  if (py::isinstance<py::dtype>(obj)) {
    dt = py::reinterpret_borrow<py::dtype>(obj);
  } else {
    try {
      dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(obj));  // as numpy.dtype(obj)
    } catch (py::error_already_set&) {
      throw TypeError(str_cat("data type '", std::string(py::str(obj)), "' not understood"));
    }
  }
  DType out;
  if (supported_numpy_dtype(dt, out) && (native_byte_order(dt) || dt.itemsize() == 1)) return out;
  const std::string name = py::str(dt.attr("name"));
  if (!native_byte_order(dt)) throw TypeError("non-native byte order dtype " + name + " is not supported");
  return dtype_from_name(name);  // raises, naming the dtype
}

std::optional<DType> parse_optional_dtype(py::handle obj) {
  if (obj.is_none()) return std::nullopt;
  return parse_dtype(obj);
}

py::dtype to_numpy_dtype(DType d) {
  // One per dtype, built on first use with the GIL held (parsing the name cost each export
  // microseconds); never freed, since Python may be gone when statics are destroyed.
  static py::dtype* made[kNumDTypes] = {};
  py::dtype*& slot = made[static_cast<int>(d)];
  if (!slot) slot = new py::dtype(dtype_name(d));
  return *slot;
}

namespace {

[[noreturn]] void unsupported(const py::dtype& dt) {
  std::string name = py::str(dt);
  throw TypeError("unsupported dtype " + name +
                  ": tensorlet supports bool, int8/16/32/64, uint8/16/32/64, float16/32/64 and complex64/128 (convert with "
                  ".astype())");
}

}  // namespace

Tensor from_numpy(const py::array& arr_in) {
  py::array arr = arr_in;
  DType dt;
  py::dtype npdt = arr.dtype();
  if (!supported_numpy_dtype(npdt, dt)) unsupported(npdt);
  const bool native = native_byte_order(npdt);
  const auto isz = static_cast<int64_t>(npdt.itemsize());
  bool ok = native;
  const auto nd = arr.ndim();
  Shape shape(nd);
  Strides strides(nd);
  for (py::ssize_t i = 0; i < nd; ++i) {
    shape[i] = arr.shape(i);
    if (arr.strides(i) % isz != 0) ok = false;
    strides[i] = arr.strides(i) / isz;
  }
  if (reinterpret_cast<uintptr_t>(arr.data()) % static_cast<uintptr_t>(isz) != 0) ok = false;
  if (!ok) {
    // Big-endian, misaligned or odd strides: copy into a fresh native contiguous array first
    // (a fresh copy: ascontiguousarray returns a misaligned contiguous array as it is, and the
    // recursion below then never ended).
    py::module_ np = py::module_::import("numpy");
    arr = np.attr("array")(arr, py::arg("dtype") = to_numpy_dtype(dt), py::arg("order") = "C", py::arg("copy") = true);
    return from_numpy(arr);
  }
  auto owner = std::shared_ptr<void>(new py::object(arr), [](void* p) {
    py::gil_scoped_acquire gil;
    delete static_cast<py::object*>(p);
  });
  const bool writable = arr.writeable();
  auto storage = Storage::borrow(const_cast<void*>(arr.data()), static_cast<size_t>(arr.nbytes()), owner, writable);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->dtype = dt;
  return Tensor(std::move(impl));
}

bool is_python_scalar(py::handle obj) {
  return PyBool_Check(obj.ptr()) || PyLong_Check(obj.ptr()) || PyFloat_Check(obj.ptr());
}

Scalar to_scalar(py::handle obj) {
  if (PyBool_Check(obj.ptr())) return Scalar::from_bool(obj.ptr() == Py_True);
  if (PyLong_Check(obj.ptr())) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    if (overflow > 0) {  // [2^63, 2^64) fits uint64
      const unsigned long long u = PyLong_AsUnsignedLongLong(obj.ptr());
      if (!(u == static_cast<unsigned long long>(-1) && PyErr_Occurred())) return Scalar::from_uint(u);
      PyErr_Clear();
    }
    if (overflow)
      throw std::overflow_error("Python integer " + std::string(py::str(obj)) + " out of bounds for " +
                                (overflow > 0 ? "uint64" : "int64"));
    return Scalar::from_int(v);
  }
  if (PyFloat_Check(obj.ptr())) return Scalar::from_double(PyFloat_AS_DOUBLE(obj.ptr()));
  if (PyComplex_Check(obj.ptr())) {
    const Py_complex c = PyComplex_AsCComplex(obj.ptr());
    return Scalar::from_complex(c.real, c.imag);
  }
  throw TypeError("expected a Python number, got " + std::string(py::str(py::type::of(obj).attr("__name__"))));
}

bool is_assignable_scalar(py::handle obj) { return is_python_scalar(obj) || PyComplex_Check(obj.ptr()); }

Scalar assign_scalar_py(py::handle obj, DType dtype, const char* op) {
  if (PyComplex_Check(obj.ptr())) {
    const Py_complex c = PyComplex_AsCComplex(obj.ptr());
    if (dtype == DType::Bool) return Scalar::from_bool(c.real != 0.0 || c.imag != 0.0);
    if (is_complex(dtype)) return Scalar::from_complex(c.real, c.imag);
    throw TypeError(str_cat("[", op, "] ", is_floating(dtype) ? "float" : "int", "() argument must be a string",
                            is_floating(dtype) ? "" : ", a bytes-like object", " or a real number, not 'complex'"));
  }
  if (PyLong_Check(obj.ptr()) && !PyBool_Check(obj.ptr())) {
    int overflow = 0;
    PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
    if (overflow > 0 && dtype == DType::UInt64) return assign_scalar(to_scalar(obj), dtype, op);  // to 2^64
    if (overflow) {  // beyond int64: NumPy stores it in float and bool arrays
      if (dtype == DType::Bool) return Scalar::from_bool(true);
      if (is_inexact(dtype)) {
        const double d = PyLong_AsDouble(obj.ptr());  // OverflowError beyond float64's range
        if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
        return Scalar::from_double(d);
      }
      throw std::overflow_error(str_cat("[", op, "] Python int too large to convert to C long"));
    }
  }
  return assign_scalar(to_scalar(obj), dtype, op);
}

bool exports_read_only(const Tensor& t) {
  if (!t.storage()->writable) return true;
  for (int64_t d = 0; d < t.ndim(); ++d)
    if (t.strides()[d] == 0 && t.shape()[d] > 1) return true;
  return false;
}

Tensor to_tensor(py::handle obj, std::optional<DType> dtype, bool copy) {
  if (py::isinstance<Tensor>(obj)) {
    Tensor t = obj.cast<Tensor>();
    // Ops on a detached handle (no graph), so that a captured step records them.
    if (dtype && *dtype != t.dtype()) return astype(t.detach(), *dtype);
    return copy ? tl::copy(t.detach()) : t;
  }
  py::object arr_obj;
  if (py::isinstance<py::array>(obj)) {
    arr_obj = py::reinterpret_borrow<py::object>(obj);
  } else {
    py::module_ np = py::module_::import("numpy");
    try {
      // With a dtype, NumPy converts the Python values itself, with its rules: a NaN into an
      // integer dtype is a ValueError, an int out of range an OverflowError (np.array does).
      arr_obj = dtype ? np.attr("asarray")(obj, to_numpy_dtype(*dtype)) : np.attr("asarray")(obj);
    } catch (py::error_already_set& e) {
      // NumPy's ValueError (a ragged nested sequence) stays a ValueError, as in np.array.
      const std::string msg = str_cat("cannot convert ", std::string(py::str(py::type::of(obj).attr("__name__"))),
                                      " to a tensor: ", e.what());
      if (e.matches(PyExc_ValueError)) throw std::invalid_argument(msg);
      if (e.matches(PyExc_OverflowError)) throw std::overflow_error(msg);
      throw TypeError(msg);
    }
  }
  Tensor t = from_numpy(py::reinterpret_borrow<py::array>(arr_obj));  // checks the dtype
  if (dtype && *dtype != t.dtype()) return t.to_dtype(*dtype);
  // Data that NumPy made for us (from a list) is owned already; an existing array is copied.
  if (copy && arr_obj.ptr() == obj.ptr()) return t.clone();
  return t;
}

py::array to_numpy(const Tensor& t) {
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  std::vector<py::ssize_t> strides(t.ndim());
  const auto isz = static_cast<py::ssize_t>(t.itemsize());
  for (int64_t i = 0; i < t.ndim(); ++i) strides[i] = t.strides()[i] * isz;
  auto* keep = new std::shared_ptr<Storage>(t.storage());
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  py::array arr(to_numpy_dtype(t.dtype()), shape, strides, t.data_ptr(), base);
  if (exports_read_only(t)) py::detail::array_proxy(arr.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return arr;
}

Shape to_shape(py::handle obj, const char* op) {
  Shape s;
  if (PyLong_Check(obj.ptr()) || py::hasattr(obj, "__index__")) {
    if (!py::isinstance<py::sequence>(obj)) {
      s.push_back(obj.cast<int64_t>());
      return s;
    }
  }
  if (!py::isinstance<py::sequence>(obj))
    throw TypeError(str_cat("[", op, "] expected an int or a sequence of ints for the shape"));
  for (py::handle h : obj) {
    if (!(PyLong_Check(h.ptr()) || py::hasattr(h, "__index__")) || PyBool_Check(h.ptr()) || PyFloat_Check(h.ptr()))
      throw TypeError(str_cat("[", op, "] '", std::string(py::str(py::type::of(h).attr("__name__"))),
                              "' object cannot be interpreted as an integer"));
    s.push_back(py::reinterpret_borrow<py::object>(h).attr("__index__")().cast<int64_t>());
  }
  return s;
}

}  // namespace tl::bind
