// Softmax family and fused losses as module functions (tl.softmax, tl.softmax_cross_entropy ...).
#include "bindings/convert.h"
#include "bindings/gil.h"
#include "ops/nn.h"

namespace tl::bind {

void bind_nn(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  m.def("softmax", [](py::handle x, int64_t axis) {
          Tensor t = tensor_arg(x);
          return without_gil_for(t, [&] { return softmax(t, axis); });
        }, py::arg("x"), py::arg("axis") = -1, "exp(x - max) / sum(exp(x - max)) along axis (stable).");
  m.def("log_softmax", [](py::handle x, int64_t axis) {
          Tensor t = tensor_arg(x);
          return without_gil_for(t, [&] { return log_softmax(t, axis); });
        }, py::arg("x"), py::arg("axis") = -1, "x - max - log(sum(exp(x - max))) along axis (stable).");
  cls.def("softmax", [](const Tensor& t, int64_t axis) { return without_gil_for(t, [&] { return softmax(t, axis); }); },
          py::arg("axis") = -1);
  cls.def("log_softmax", [](const Tensor& t, int64_t axis) { return without_gil_for(t, [&] { return log_softmax(t, axis); }); },
          py::arg("axis") = -1);
  m.def("softmax_cross_entropy", [](py::handle logits, py::handle targets, int64_t axis) {
          Tensor z = tensor_arg(logits), t = tensor_arg(targets);
          return without_gil_for(z, [&] { return softmax_cross_entropy(z, t, axis); });
        }, py::arg("logits"), py::arg("targets"), py::arg("axis") = -1,
        "Per-sample -sum(targets * log_softmax(logits)) along axis, in one stable kernel. targets: one-hot or "
        "probabilities with the logits' shape. Gradient to logits: softmax * sum(targets) - targets.");
  m.def("sparse_softmax_cross_entropy", [](py::handle logits, py::handle labels) {
          Tensor z = tensor_arg(logits), y = tensor_arg(labels);
          return without_gil_for(z, [&] { return sparse_softmax_cross_entropy(z, y); });
        }, py::arg("logits"), py::arg("labels"),
        "Per-sample logsumexp(logits) - logits[label] over the last axis; integer labels of shape "
        "logits.shape[:-1]. A label outside [0, classes) raises IndexError.");
  m.attr("log_softmax_nll") = m.attr("sparse_softmax_cross_entropy");
  m.def("binary_cross_entropy", [](py::handle probs, py::handle targets, bool from_logits) {
          Tensor p = tensor_arg(probs), t = tensor_arg(targets);
          return without_gil_for(p, [&] { return binary_cross_entropy(p, t, from_logits); });
        }, py::arg("probs"), py::arg("targets"), py::arg("from_logits") = false,
        "Keras' binary_crossentropy: mean over the last axis of -(t log p + (1-t) log(1-p)), p clipped to "
        "[1e-7, 1-1e-7]. from_logits=True takes logits and uses the exact, unclipped log-sigmoid form.");
  m.def("mean_squared_error", [](py::handle pred, py::handle target) {
          Tensor p = tensor_arg(pred), t = tensor_arg(target);
          return without_gil_for(p, [&] { return mean_squared_error(p, t); });
        }, py::arg("pred"), py::arg("target"), "Keras' mean_squared_error: mean over the last axis of (pred - target)^2.");
}

}  // namespace tl::bind
