// tensorlet._core._DenseStack: the compiled Dense-stack training step behind Sequential.fit
// (train/dense_stack.h). Steps run without the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <optional>
#include <string>
#include <tuple>
#include "core/tensor.h"
#include "train/dense_stack.h"

namespace py = pybind11;

namespace tl::bind {

void bind_train(py::module_& m) {
  using train::DenseStack;
  py::class_<DenseStack>(m, "_DenseStack")
      .def(py::init([](const std::vector<std::tuple<Tensor, std::optional<Tensor>, bool>>& layers,
                       const std::string& loss, int64_t max_batch, bool training, const std::string& output) {
             std::vector<train::DenseLayerSpec> specs;
             for (const auto& [kernel, bias, relu] : layers) specs.push_back({kernel, bias.value_or(Tensor()), relu});
             train::DenseLoss kind;
             if (loss == "categorical") kind = train::DenseLoss::SoftmaxCategorical;
             else if (loss == "sparse") kind = train::DenseLoss::SoftmaxSparse;
             else if (loss == "none") kind = train::DenseLoss::None;
             else throw std::invalid_argument("[DenseStack] loss must be 'categorical', 'sparse' or 'none', got '" +
                                              loss + "'");
             if (output != "softmax" && output != "linear")
               throw std::invalid_argument("[DenseStack] output must be 'softmax' or 'linear', got '" + output + "'");
             return new DenseStack(std::move(specs), kind, max_batch, training, output == "softmax");
           }),
           py::arg("layers"), py::arg("loss"), py::arg("max_batch"), py::arg("training") = true,
           py::arg("output") = "softmax",
           "layers: [(kernel, bias or None, relu)]; loss: softmax cross-entropy on the last layer's logits "
           "('categorical': one-hot/probability targets, 'sparse': int64 class ids) or 'none' (predict only); "
           "training: allocate the backward pass's buffers; output: what predict returns, softmax(logits) or the "
           "logits ('linear').")
      .def(
          "train_step",
          [](DenseStack& s, const Tensor& x, const Tensor& y, std::optional<Tensor> index, int64_t start,
             int64_t stop) {
            py::gil_scoped_release release;
            const train::StepResult r = s.train_step(x, y, index.value_or(Tensor()), start, stop);
            return std::make_tuple(r.loss, r.hits, r.rows);
          },
          py::arg("x"), py::arg("y"), py::arg("index"), py::arg("start"), py::arg("stop"),
          "One step on rows index[start:stop] (rows start:stop when index is None): (mean loss, hits, rows); "
          "the gradients land in .grads.")
      .def(
          "test_step",
          [](DenseStack& s, const Tensor& x, const Tensor& y, int64_t start, int64_t stop) {
            py::gil_scoped_release release;
            const train::StepResult r = s.test_step(x, y, start, stop);
            return std::make_tuple(r.loss, r.hits, r.rows);
          },
          py::arg("x"), py::arg("y"), py::arg("start"), py::arg("stop"))
      .def(
          "predict",
          [](DenseStack& s, const Tensor& x, int64_t start, int64_t stop, const Tensor& out) {
            py::gil_scoped_release release;
            s.predict(x, start, stop, out);
          },
          py::arg("x"), py::arg("start"), py::arg("stop"), py::arg("out"),
          "Writes the model's output for rows start:stop of x into the same rows of out.")
      .def_property_readonly("grads", [](const DenseStack& s) { return s.grads(); })
      .def_property_readonly("max_batch", &DenseStack::max_batch);
}

}  // namespace tl::bind
