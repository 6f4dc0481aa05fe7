// Sorting, searching and cumulative ops. The Array API signatures (keyword-only arguments,
// dtype=, include_initial=, sorter=) live in python/tensorlet/_sorting.py over these.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // unique_counts returns a pair
#include "bindings/convert.h"
#include "bindings/gil.h"
#include "ops/sorting.h"

namespace tl::bind {


void bind_sorting(py::module_& m) {
  m.def("_sort_values", [](py::handle x, int64_t axis, bool descending) {
          Tensor t = tensor_arg(x);
          return without_gil_if(is_large(t.numel()), [&] { return sort_values(t, axis, descending); });
        }, py::arg("x"), py::arg("axis") = -1, py::arg("descending") = false,
        "Sorted values along axis (a stable sort's result, NaN last); not differentiable (use tl.sort).");
  m.def("_argsort", [](py::handle x, int64_t axis, bool descending) {
          Tensor t = tensor_arg(x);
          return without_gil_if(is_large(t.numel()), [&] { return argsort(t, axis, descending); });
        }, py::arg("x"), py::arg("axis") = -1, py::arg("descending") = false,
        "int64 indices sorting x along axis (stable, NaN last).");
  m.def("_unique_values", [](py::handle x) {
          Tensor t = tensor_arg(x);
          return without_gil_if(is_large(t.numel()), [&] { return unique_values(t); });
        }, py::arg("x"), "The sorted distinct values of x, flattened (NaNs all distinct).");
  m.def("_unique_counts", [](py::handle x) {
          Tensor t = tensor_arg(x);
          return without_gil_if(is_large(t.numel()), [&] { return unique_counts(t); });
        }, py::arg("x"), "(unique_values(x), int64 count of each), from one sort and one pass.");
  m.def("_cumsum", [](py::handle x, int64_t axis, bool reverse) {
          Tensor t = tensor_arg(x);
          return without_gil_if(is_large(t.numel()), [&] { return cumsum(t, axis, reverse); });
        }, py::arg("x"), py::arg("axis"), py::arg("reverse") = false,
        "Inclusive cumulative sum along axis in x's dtype (differentiable).");
  m.def("_cumprod", [](py::handle x, int64_t axis) {
          Tensor t = tensor_arg(x);
          return without_gil_if(is_large(t.numel()), [&] { return cumprod(t, axis); });
        }, py::arg("x"), py::arg("axis"), "Inclusive cumulative product along axis in x's dtype (differentiable).");
  m.def("_searchsorted", [](py::handle sorted, py::handle v, bool right) {
          Tensor s = tensor_arg(sorted), t = tensor_arg(v);
          return without_gil_if(is_large(t.numel()), [&] { return searchsorted(s, t, right); });
        }, py::arg("x1"), py::arg("x2"), py::arg("right") = false,
        "Insertion points of x2 into the sorted 1-D x1 (one dtype).");
}

}  // namespace tl::bind
