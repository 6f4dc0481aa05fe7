// real / imag / conj (NumPy's np.real, np.imag, np.conj; the standard's real, imag, conj).
#include <pybind11/pybind11.h>
#include "bindings/convert.h"
#include "ops/complex.h"

namespace tl::bind {


void bind_complex(py::module_& m) {
  m.def("real", [](py::handle x) { return real_part(tensor_arg(x)); }, py::arg("x"),
        "The real part: for a complex tensor a float view of its storage (as ndarray.real), else x.");
  m.def("imag", [](py::handle x) { return imag_part(tensor_arg(x)); }, py::arg("x"),
        "The imaginary part: for a complex tensor a float view of its storage, else zeros of x's dtype.");
  m.def("conj", [](py::handle x) { return conj(tensor_arg(x)); }, py::arg("x"),
        "The complex conjugate (a new tensor); real tensors are returned as they are.");
}

}  // namespace tl::bind
