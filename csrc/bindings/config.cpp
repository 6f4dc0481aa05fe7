// tl.config(), thread-count control, and test hooks for the GEMM kernels (_gemm, _set_isa).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <cstdint>
#include <string>
#include "core/error.h"
#include "kernels/cpu.h"
#include "kernels/denormal.h"
#include "kernels/gemm.h"
#include "kernels/gemm_config.h"
#include "kernels/parallel.h"

namespace py = pybind11;

namespace tl::bind {
namespace {

using kernels::Isa;

py::dict blocking_dict(const kernels::GemmBlocking& b) {
  py::dict d;
  d["mr"] = b.mr;
  d["nr"] = b.nr;
  d["mc"] = b.mc;
  d["kc"] = b.kc;
  d["nc"] = b.nc;
  return d;
}

py::dict config() {
  py::dict d;
  const Isa isa = kernels::active_isa();
  d["isa"] = kernels::isa_name(isa);
  py::list avail;
  for (Isa i : kernels::available_isas()) avail.append(kernels::isa_name(i));
  d["available_isas"] = avail;
  d["num_threads"] = get_num_threads();
  const kernels::CacheInfo& c = kernels::cache_info();
  py::dict cache;
  cache["l1d"] = c.l1d;
  cache["l2"] = c.l2;
  cache["l3"] = c.l3;
  d["cache"] = cache;
  py::dict blocking;
  blocking["float32"] = blocking_dict(kernels::gemm_blocking<float>(isa));
  blocking["float64"] = blocking_dict(kernels::gemm_blocking<double>(isa));
  d["gemm_blocking"] = blocking;
  d["gemm_parallel_flops"] = kernels::kGemmParallelFlops;
  // Whether kernels flush subnormal inputs and results to zero (off unless
  // set_flush_denormal(True); kernels/denormal.h).
  d["flush_denormals"] = kernels::flush_denormal();
  return d;
}

std::string shape_of(const py::array& a) {
  std::vector<int64_t> s(a.shape(), a.shape() + a.ndim());
  return shape_str(s);
}

// A 2-D operand whose rows are contiguous: returns the row stride in elements.
int64_t leading_dim(const py::array& a, const char* name, const std::string& shapes) {
  const int64_t item = int64_t(a.itemsize());
  const int64_t rows = a.shape(0), cols = a.shape(1);
  if (rows == 0 || cols == 0) return std::max<int64_t>(cols, 1);
  TL_CHECK(cols == 1 || a.strides(1) == item, "_gemm", name, " must have contiguous rows (strides ",
           a.strides(0), ",", a.strides(1), "); ", shapes);
  if (rows == 1) return cols;
  TL_CHECK(a.strides(0) > 0 && a.strides(0) % item == 0 && a.strides(0) / item >= cols, "_gemm", name,
           " has an unsupported row stride ", a.strides(0), " bytes; ", shapes);
  return a.strides(0) / item;
}

// Byte range [lo, hi) spanned by a 2-D array with positive strides.
std::pair<uintptr_t, uintptr_t> extent(const py::array& a) {
  const auto lo = reinterpret_cast<uintptr_t>(a.data());
  if (a.size() == 0) return {lo, lo};
  uintptr_t hi = lo + uintptr_t(a.itemsize());
  for (py::ssize_t d = 0; d < a.ndim(); ++d) hi += uintptr_t((a.shape(d) - 1) * a.strides(d));
  return {lo, hi};
}

bool overlaps(const py::array& x, const py::array& y) {
  auto [a0, a1] = extent(x);
  auto [b0, b1] = extent(y);
  return a0 < b1 && b0 < a1;
}

template <class T>
void run_gemm(const py::array& a, const py::array& b, py::array& c, bool ta, bool tb, double alpha, double beta,
              const py::object& bias_obj, bool relu, bool reference, const std::string& shapes) {
  const int64_t M = c.shape(0), N = c.shape(1), K = ta ? a.shape(0) : a.shape(1);
  const int64_t lda = leading_dim(a, "a", shapes), ldb = leading_dim(b, "b", shapes);
  const int64_t ldc = leading_dim(c, "c", shapes);
  kernels::Epilogue<T> ep;
  py::array bias;
  if (!bias_obj.is_none()) {
    TL_CHECK_TYPE(py::isinstance<py::array>(bias_obj), "_gemm", "bias must be a NumPy array");
    bias = py::reinterpret_borrow<py::array>(bias_obj);
    TL_CHECK_TYPE(bias.dtype().is(py::dtype::of<T>()), "_gemm", "bias dtype ", std::string(py::str(bias.dtype())),
                  " does not match c's");
    TL_CHECK(bias.ndim() == 1 && bias.shape(0) == N, "_gemm", "bias must have shape (", N, ",), got ",
             shape_of(bias));
    TL_CHECK(N <= 1 || bias.strides(0) == py::ssize_t(sizeof(T)), "_gemm", "bias must be contiguous");
    ep.bias = static_cast<const T*>(bias.data());
  }
  ep.act = relu ? kernels::Activation::Relu : kernels::Activation::None;
  const T* A = static_cast<const T*>(a.data());
  const T* B = static_cast<const T*>(b.data());
  T* C = static_cast<T*>(c.mutable_data());
  py::gil_scoped_release release;
  if (reference)
    kernels::gemm_reference<T>(ta, tb, M, N, K, T(alpha), A, lda, B, ldb, T(beta), C, ldc, ep);
  else
    kernels::gemm<T>(ta, tb, M, N, K, T(alpha), A, lda, B, ldb, T(beta), C, ldc, ep);
}

// c = alpha * op(a) @ op(b) + beta * c (+ bias) (relu), in place; returns c.
py::array gemm_hook(const py::object& a_obj, const py::object& b_obj, py::object& c_obj, bool ta, bool tb,
                    double alpha, double beta, const py::object& bias, bool relu, bool reference) {
  for (const py::object* o : {&a_obj, &b_obj, static_cast<const py::object*>(&c_obj)})
    TL_CHECK_TYPE(py::isinstance<py::array>(*o), "_gemm", "a, b and c must be NumPy arrays, got ",
                  std::string(py::str(py::type::of(*o))));
  const auto a = py::reinterpret_borrow<py::array>(a_obj), b = py::reinterpret_borrow<py::array>(b_obj);
  auto c = py::reinterpret_borrow<py::array>(c_obj);
  TL_CHECK(a.ndim() == 2 && b.ndim() == 2 && c.ndim() == 2, "_gemm", "a, b and c must be 2-D, got ", shape_of(a),
           ", ", shape_of(b), ", ", shape_of(c));
  const std::string shapes = str_cat("a ", shape_of(a), (ta ? " (transposed)" : ""), ", b ", shape_of(b),
                                     (tb ? " (transposed)" : ""), ", c ", shape_of(c));
  const int64_t M = ta ? a.shape(1) : a.shape(0), K = ta ? a.shape(0) : a.shape(1);
  const int64_t Kb = tb ? b.shape(1) : b.shape(0), N = tb ? b.shape(0) : b.shape(1);
  TL_CHECK(K == Kb, "_gemm", "inner dimensions differ: ", K, " != ", Kb, "; ", shapes);
  TL_CHECK(c.shape(0) == M && c.shape(1) == N, "_gemm", "c must have shape (", M, ",", N, "); ", shapes);
  TL_CHECK(c.writeable(), "_gemm", "c is read-only");
  TL_CHECK(!overlaps(c, a) && !overlaps(c, b), "_gemm", "c must not overlap a or b");
  const py::dtype dt = c.dtype();
  TL_CHECK_TYPE(a.dtype().is(dt) && b.dtype().is(dt), "_gemm", "dtypes differ: ", std::string(py::str(a.dtype())),
                ", ", std::string(py::str(b.dtype())), ", ", std::string(py::str(dt)));
  if (dt.is(py::dtype::of<float>()))
    run_gemm<float>(a, b, c, ta, tb, alpha, beta, bias, relu, reference, shapes);
  else if (dt.is(py::dtype::of<double>()))
    run_gemm<double>(a, b, c, ta, tb, alpha, beta, bias, relu, reference, shapes);
  else
    throw TypeError(str_cat("[_gemm] only float32 and float64 are supported, got ", std::string(py::str(dt))));
  return c;
}

}  // namespace

void bind_config(py::module_& m) {
  m.def("config", &config,
        "Kernel configuration: chosen SIMD ISA, available ISAs, thread count, cache sizes, GEMM blocking.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Set the number of threads kernels use (the caller plus n - 1 pool workers).");
  m.def("get_num_threads", &get_num_threads, "Number of threads kernels use.");
  m.def("_set_flush_denormal", &kernels::set_flush_denormal, py::arg("mode"),
        "Flush subnormal floats to zero in every kernel (True) or keep them (False, the default); "
        "returns False, changing nothing, where the CPU cannot flush.");
  m.def("_get_flush_denormal", &kernels::flush_denormal, "Whether kernels flush subnormal floats to zero.");
  m.def(
      "_thread_flush_bits",
      []() -> unsigned {
#ifdef TL_HAVE_MXCSR
        return _mm_getcsr() & kernels::kFtzDaz;
#else
        return 0;
#endif
      },
      "Testing hook: the calling thread's MXCSR FTZ|DAZ bits (0x8040 when both are set; 0 off x86).");
  m.def(
      "_set_thread_flush_bits", [](bool on) { kernels::apply_flush_denormal(on); }, py::arg("on"),
      "Testing hook: set or clear FTZ/DAZ on the calling thread itself, as another library might.");
  m.def(
      "_set_isa", [](const std::string& name) { kernels::set_isa(kernels::parse_isa(name)); }, py::arg("name"),
      "Testing hook: force the kernels' ISA ('generic', 'avx2', 'avx512'); ValueError if unsupported.");
  m.def(
      "_fma_peak_gflops",
      [](const py::object& isa) {
        const Isa i = isa.is_none() ? kernels::active_isa() : kernels::parse_isa(isa.cast<std::string>());
        TL_CHECK(kernels::isa_supported(i), "_fma_peak_gflops", kernels::isa_name(i), " is not supported here");
        py::gil_scoped_release release;
        return kernels::measure_fma_peak_gflops(i);
      },
      py::arg("isa") = py::none(), "Benchmark helper: measured one-thread float32 FMA peak (GFLOP/s) of an ISA.");
  m.def("_gemm", &gemm_hook, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("alpha") = 1.0, py::arg("beta") = 0.0, py::arg("bias") = py::none(),
        py::arg("relu") = false, py::arg("reference") = false,
        "Testing hook: c = alpha * op(a) @ op(b) + beta * c (+ bias) (relu) in place on NumPy arrays.");
}

}  // namespace tl::bind
