// tensorlet._core._random: the generator's functions; python/tensorlet/random.py is the
// documented public face (tl.random).
#include <pybind11/stl.h>
#include "autograd/grad_mode.h"
#include "bindings/convert.h"
#include "bindings/gil.h"
#include "ops/random.h"

namespace tl::bind {

namespace {

Shape size_arg(py::handle size, const char* op) { return size.is_none() ? Shape{} : to_shape(size, op); }

double real(py::handle obj, const char* op, const char* name) {
  if (py::isinstance<py::str>(obj) || py::isinstance<py::bytes>(obj))
    throw TypeError(str_cat("[", op, "] ", name, " must be a real number"));
  if (py::isinstance<py::tuple>(obj) || py::isinstance<py::list>(obj))
    throw TypeError(str_cat("[", op, "] ", name, " must be a real number, got a ",
                            std::string(py::str(py::type::of(obj).attr("__name__"))),
                            " (NumPy's signature: pass the shape as size=...)"));
  try {
    return py::float_(py::reinterpret_borrow<py::object>(obj)).cast<double>();
  } catch (py::error_already_set&) {
    throw TypeError(str_cat("[", op, "] ", name, " must be a real number, got ",
                            std::string(py::str(py::type::of(obj).attr("__name__")))));
  }
}

py::int_ integer(py::handle obj, const char* op, const char* name) {
  if (PyBool_Check(obj.ptr()) || PyFloat_Check(obj.ptr()) || !py::hasattr(obj, "__index__"))
    throw TypeError(str_cat("[", op, "] ", name, " must be an integer, got ",
                            std::string(py::str(py::type::of(obj).attr("__name__")))));
  return py::int_(py::reinterpret_borrow<py::object>(obj).attr("__index__")());
}

// Inclusive bounds of an integer dtype as Python ints.
std::pair<py::int_, py::int_> dtype_bounds(DType d) {
  switch (d) {
    case DType::Bool: return {py::int_(0), py::int_(1)};
    case DType::UInt8: return {py::int_(0), py::int_(255)};
    case DType::UInt16: return {py::int_(0), py::int_(65535)};
    case DType::UInt32: return {py::int_(0), py::int_(4294967295LL)};
    // uint64 draws go through int64: the upper half of its range is not reachable.
    case DType::UInt64: return {py::int_(0), py::int_(std::numeric_limits<int64_t>::max())};
    case DType::Int8: return {py::int_(-128), py::int_(127)};
    case DType::Int16: return {py::int_(-32768), py::int_(32767)};
    case DType::Int32: return {py::int_(-2147483648LL), py::int_(2147483647LL)};
    default: return {py::int_(std::numeric_limits<int64_t>::min()), py::int_(std::numeric_limits<int64_t>::max())};
  }
}

// The seed's two 64-bit words (NumPy's Philox key), or entropy for None.
std::pair<uint64_t, uint64_t> seed_words(py::handle seed) {
  if (seed.is_none()) return {tl::random::entropy64(), tl::random::entropy64()};
  py::int_ s = integer(seed, "seed", "seed");
  TL_CHECK(py::bool_(s >= py::int_(0)) && py::bool_(s < (py::int_(1) << py::int_(128))), "seed",
           "seed must be between 0 and 2**128 - 1");
  const py::int_ mask((py::int_(1) << py::int_(64)) - py::int_(1));
  return {py::int_(s & mask).cast<uint64_t>(), py::int_(s >> py::int_(64)).cast<uint64_t>()};
}

using tl::random::LockedGenerator;

Tensor py_uniform(LockedGenerator& g, py::handle low, py::handle high, py::handle size, py::handle dtype) {
  const double lo = real(low, "uniform", "low"), hi = real(high, "uniform", "high");
  const Shape shape = size_arg(size, "uniform");
  const DType dt = parse_dtype(dtype);
  return without_gil_if(is_large(checked_numel(shape, "uniform")), [&] { return tl::random::uniform(g, lo, hi, shape, dt); });
}

Tensor py_normal(LockedGenerator& g, py::handle loc, py::handle scale, py::handle size, py::handle dtype) {
  const double l = real(loc, "normal", "loc"), s = real(scale, "normal", "scale");
  const Shape shape = size_arg(size, "normal");
  const DType dt = parse_dtype(dtype);
  return without_gil_if(is_large(checked_numel(shape, "normal")), [&] { return tl::random::normal(g, l, s, shape, dt); });
}

Tensor py_randint(LockedGenerator& g, py::handle low, py::handle high, py::handle size, py::handle dtype) {
  py::int_ lo = integer(low, "randint", "low"), hi;
  if (high.is_none()) {
    hi = lo;
    lo = py::int_(0);
  } else {
    hi = integer(high, "randint", "high");
  }
  const DType dt = dtype.is_none() ? DType::Int64 : parse_dtype(dtype);
  TL_CHECK_TYPE(is_integral(dt, true), "randint", "dtype must be an integer or bool dtype, got ", dtype_name(dt));
  auto [mn, mx] = dtype_bounds(dt);
  const py::int_ hi_incl(hi - py::int_(1));
  TL_CHECK(py::bool_(lo >= mn) && py::bool_(lo <= mx), "randint", "low is out of bounds for ", dtype_name(dt));
  TL_CHECK(py::bool_(hi_incl >= mn) && py::bool_(hi_incl <= mx), "randint", "high is out of bounds for ", dtype_name(dt));
  TL_CHECK(py::bool_(lo <= hi_incl), "randint", "low >= high");
  const int64_t l = lo.cast<int64_t>(), h = hi_incl.cast<int64_t>();
  const Shape shape = size_arg(size, "randint");
  return without_gil_if(is_large(checked_numel(shape, "randint")), [&] { return tl::random::randint(g, l, h, shape, dt); });
}

Tensor py_permutation(LockedGenerator& g, py::handle x) {
  if (PyLong_Check(x.ptr()) || (!py::isinstance<Tensor>(x) && py::isinstance(x, py::module_::import("numpy").attr("integer")))) {
    const int64_t n = integer(x, "permutation", "n").cast<int64_t>();
    return without_gil_if(is_large(n), [&] { return tl::random::permutation(g, n); });
  }
  Tensor t = to_tensor(x, std::nullopt, false);
  return without_gil_if(is_large(t.numel()), [&] { return tl::random::permutation(g, t); });
}

void py_shuffle(LockedGenerator& g, const Tensor& t) {
  without_gil_if(is_large(t.numel()), [&] { tl::random::shuffle(g, t); });
}

py::dict py_get_state(LockedGenerator& g) {
  auto s = tl::random::get_state(g);
  py::dict d;
  d["bit_generator"] = "Philox4x64-10";
  d["key"] = py::make_tuple(s.key[0], s.key[1]);
  d["counter"] = py::make_tuple(s.counter[0], s.counter[1], s.counter[2], s.counter[3]);
  d["buffer"] = py::make_tuple(s.buffer[0], s.buffer[1], s.buffer[2], s.buffer[3]);
  d["buffer_pos"] = s.buffer_pos;
  d["has_uint32"] = s.has_uint32;
  d["uinteger"] = s.uinteger;
  d["has_gauss"] = s.has_gauss;
  d["gauss"] = s.gauss;
  return d;
}

void py_set_state(LockedGenerator& g, py::dict d) {
  TL_CHECK(d.contains("bit_generator") && py::str(d["bit_generator"]).cast<std::string>() == "Philox4x64-10",
           "random.set_state", "expected a state from tensorlet.random.get_state()");
  tl::random::GeneratorState s;
  try {
    auto key = d["key"].cast<std::vector<uint64_t>>();
    auto counter = d["counter"].cast<std::vector<uint64_t>>();
    auto buffer = d["buffer"].cast<std::vector<uint64_t>>();
    TL_CHECK(key.size() == 2 && counter.size() == 4 && buffer.size() == 4, "random.set_state",
             "key, counter and buffer must have 2, 4 and 4 words");
    std::copy(key.begin(), key.end(), s.key);
    std::copy(counter.begin(), counter.end(), s.counter);
    std::copy(buffer.begin(), buffer.end(), s.buffer);
    s.buffer_pos = d["buffer_pos"].cast<int>();
    s.has_uint32 = d["has_uint32"].cast<bool>();
    s.uinteger = d["uinteger"].cast<uint32_t>();
    s.has_gauss = d["has_gauss"].cast<bool>();
    s.gauss = d["gauss"].cast<double>();
  } catch (py::cast_error& e) {
    throw TypeError(std::string("[random.set_state] malformed state: ") + e.what());
  } catch (py::error_already_set& e) {
    throw std::invalid_argument(std::string("[random.set_state] malformed state: ") + e.what());
  }
  tl::random::set_state(g, s);
}

}  // namespace

void bind_random(py::module_& m) {
  auto r = m.def_submodule("_random", "Philox4x64-10 generators (see tensorlet.random).");
  auto dflt = [] () -> LockedGenerator& { return tl::random::default_generator(); };

  // Module functions: the process-wide generator.
  r.def("seed", [dflt](py::handle seed) {
    auto [lo, hi] = seed_words(seed);
    tl::random::seed(dflt(), lo, hi);
  }, py::arg("seed") = py::none());
  r.def("uniform", [dflt](py::handle a, py::handle b, py::handle size, py::handle dt) { return py_uniform(dflt(), a, b, size, dt); },
        py::arg("low") = 0.0, py::arg("high") = 1.0, py::arg("size") = py::none(), py::arg("dtype") = py::none());
  r.def("normal", [dflt](py::handle a, py::handle b, py::handle size, py::handle dt) { return py_normal(dflt(), a, b, size, dt); },
        py::arg("loc") = 0.0, py::arg("scale") = 1.0, py::arg("size") = py::none(), py::arg("dtype") = py::none());
  r.def("randint", [dflt](py::handle a, py::handle b, py::handle size, py::handle dt) { return py_randint(dflt(), a, b, size, dt); },
        py::arg("low"), py::arg("high") = py::none(), py::arg("size") = py::none(), py::arg("dtype") = py::none());
  r.def("permutation", [dflt](py::handle x) { return py_permutation(dflt(), x); }, py::arg("x"));
  r.def("shuffle", [dflt](const Tensor& x) { py_shuffle(dflt(), x); }, py::arg("x"));
  r.def("get_state", [dflt] { return py_get_state(dflt()); });
  r.def("set_state", [dflt](py::dict d) { py_set_state(dflt(), d); }, py::arg("state"));

  // Independent generators: the same functions as methods.
  py::class_<LockedGenerator, std::shared_ptr<LockedGenerator>> gen(r, "Generator");
  gen.doc() = "An independent Philox4x64-10 generator: Generator(seed) draws the same streams as tl.random after "
              "tl.random.seed(seed); Generator() is seeded from OS entropy.";
  gen.def(py::init([](py::handle seed) {
            auto [lo, hi] = seed_words(seed);
            return std::make_shared<LockedGenerator>(lo, hi);
          }), py::arg("seed") = py::none());
  gen.def("seed", [](LockedGenerator& g, py::handle seed) {
    auto [lo, hi] = seed_words(seed);
    tl::random::seed(g, lo, hi);
  }, py::arg("seed") = py::none());
  gen.def("uniform", &py_uniform, py::arg("low") = 0.0, py::arg("high") = 1.0, py::arg("size") = py::none(),
          py::arg("dtype") = py::none());
  gen.def("normal", &py_normal, py::arg("loc") = 0.0, py::arg("scale") = 1.0, py::arg("size") = py::none(),
          py::arg("dtype") = py::none());
  gen.def("randint", &py_randint, py::arg("low"), py::arg("high") = py::none(), py::arg("size") = py::none(),
          py::arg("dtype") = py::none());
  gen.def("permutation", &py_permutation, py::arg("x"));
  gen.def("shuffle", &py_shuffle, py::arg("x"));
  gen.def("get_state", &py_get_state);
  gen.def("set_state", &py_set_state, py::arg("state"));
}

}  // namespace tl::bind
