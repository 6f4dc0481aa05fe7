// Batch normalisation as module functions: tl.batch_normalization (keras.ops's) and
// tl.batch_norm_train (the BatchNormalization layer's training mode, updating its moving stats).
#include "bindings/convert.h"
#include "bindings/gil.h"
#include "ops/batch_norm.h"

namespace tl::bind {

namespace {
Tensor optional_input(py::handle x) { return x.is_none() ? Tensor() : tensor_arg(x); }
}  // namespace

void bind_normalization(py::module_& m) {
  m.def("batch_normalization", [](py::handle x, py::handle mean, py::handle variance, int64_t axis, py::handle offset,
                                  py::handle scale, double epsilon) {
          Tensor t = tensor_arg(x), mu = tensor_arg(mean), var = tensor_arg(variance), b = optional_input(offset),
                 g = optional_input(scale);
          return without_gil_if(is_large(t.numel()), [&] { return batch_normalization(t, mu, var, axis, b, g, epsilon); });
        }, py::arg("x"), py::arg("mean"), py::arg("variance"), py::arg("axis"), py::arg("offset") = py::none(),
        py::arg("scale") = py::none(), py::arg("epsilon") = 1e-3,
        "keras.ops.batch_normalization: (x - mean) / sqrt(variance + epsilon) * scale + offset, with 1-D mean, "
        "variance, offset and scale along `axis`. Differentiable in all of them.");
  m.def("batch_norm_train", [](const Tensor& x, const Tensor& moving_mean, const Tensor& moving_variance, int64_t axis,
                               py::handle offset, py::handle scale, double momentum, double epsilon) {
          Tensor b = optional_input(offset), g = optional_input(scale);
          return without_gil_if(is_large(x.numel()), [&] {
            return batch_norm_train(x, moving_mean, moving_variance, axis, b, g, momentum, epsilon);
          });
        }, py::arg("x"), py::arg("moving_mean"), py::arg("moving_variance"), py::kw_only(), py::arg("axis") = -1,
        py::arg("offset") = py::none(), py::arg("scale") = py::none(), py::arg("momentum") = 0.99,
        py::arg("epsilon") = 1e-3,
        "keras.layers.BatchNormalization's training mode: x normalised with the batch's mean and biased variance "
        "over all axes but `axis`, and moving_mean / moving_variance updated in place to moving * momentum + "
        "batch * (1 - momentum). Differentiable in x, offset and scale.");
}

}  // namespace tl::bind
