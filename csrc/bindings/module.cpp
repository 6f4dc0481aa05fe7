// The extension module tensorlet._core: exception mapping, then one bind_* per topic file.
#include <pybind11/pybind11.h>
#include "core/error.h"

namespace py = pybind11;

namespace tl::bind {
void bind_tensor(py::module_& m);
void bind_ops(py::module_& m);
void bind_autograd(py::module_& m);
void bind_optim(py::module_& m);
void bind_config(py::module_& m);
void bind_linear(py::module_& m);
void bind_shape(py::module_& m);
void bind_indexing(py::module_& m);
void bind_creation(py::module_& m);
void bind_tensor_misc(py::module_& m);
void bind_elementwise(py::module_& m);
void bind_reduce(py::module_& m);
void bind_op_table(py::module_& m);
void bind_nn(py::module_& m);
void bind_random(py::module_& m);
void bind_capture(py::module_& m);
void bind_conv(py::module_& m);
void bind_normalization(py::module_& m);
void bind_tensor_pickle(py::module_& m);
void bind_sorting(py::module_& m);
void bind_dlpack(py::module_& m);
void bind_complex(py::module_& m);
}  // namespace tl::bind

PYBIND11_MODULE(_core, m) {
  m.doc() = "tensorlet's C++ core: strided tensors, kernels and autograd";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const tl::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const tl::MemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const std::overflow_error& e) {
      PyErr_SetString(PyExc_OverflowError, e.what());
    } catch (const py::cast_error& e) {
      // An argument of the wrong Python type (axis=1.0, a shape of strings, an int beyond int64)
      // is a TypeError, not pybind11's default RuntimeError.
      PyErr_SetString(PyExc_TypeError, e.what());
    }
  });
  tl::bind::bind_tensor(m);
  tl::bind::bind_ops(m);
  tl::bind::bind_autograd(m);
  tl::bind::bind_optim(m);
  tl::bind::bind_config(m);
  tl::bind::bind_linear(m);
  tl::bind::bind_shape(m);
  tl::bind::bind_indexing(m);
  tl::bind::bind_creation(m);
  tl::bind::bind_tensor_misc(m);
  tl::bind::bind_elementwise(m);
  tl::bind::bind_reduce(m);
  tl::bind::bind_op_table(m);
  tl::bind::bind_nn(m);
  tl::bind::bind_random(m);
  tl::bind::bind_capture(m);
  tl::bind::bind_conv(m);
  tl::bind::bind_normalization(m);
  tl::bind::bind_tensor_pickle(m);
  tl::bind::bind_sorting(m);
  tl::bind::bind_dlpack(m);
  tl::bind::bind_complex(m);
}
