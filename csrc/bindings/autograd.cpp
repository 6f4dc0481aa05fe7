// Autograd from Python: requires_grad, grad, backward, detach, grad mode.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "bindings/convert.h"

namespace tl::bind {

void bind_autograd(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  cls.def_property(
      "requires_grad", &Tensor::requires_grad, [](const Tensor& t, bool r) {
        if (!t.is_leaf() && !r)
          throw RuntimeError("[requires_grad] you can only change requires_grad flags of leaf tensors; use detach()");
        if (r) TL_CHECK_TYPE(is_floating(t.dtype()), "requires_grad", "only float tensors can require gradients, got ",
                             dtype_name(t.dtype()));
        t.set_requires_grad(r);
      });
  cls.def_property(
      "grad", [](const Tensor& t) -> py::object { return t.grad().defined() ? py::cast(t.grad()) : py::none(); },
      [](const Tensor& t, py::object g) {
        if (g.is_none()) return t.set_grad(Tensor());
        Tensor gt = g.cast<Tensor>();
        TL_CHECK(gt.shape() == t.shape(), "grad", "assigned grad has shape ", shape_str(gt.shape()),
                 " but the tensor has shape ", shape_str(t.shape()));
        TL_CHECK_TYPE(gt.dtype() == t.dtype(), "grad", "assigned grad has dtype ", dtype_name(gt.dtype()),
                      " but the tensor has dtype ", dtype_name(t.dtype()));
        t.set_grad(gt);
      });
  cls.def_property_readonly("is_leaf", &Tensor::is_leaf);
  cls.def_property_readonly("_version", &Tensor::version,
                            "How many in-place writes this tensor's storage has had (PyTorch's _version).");
  cls.def_property_readonly("grad_fn", [](const Tensor& t) -> py::object {
    return t.grad_fn() ? py::str(t.grad_fn()->name()) : py::object(py::none());
  });
  cls.def("detach", &Tensor::detach, "A tensor sharing this one's data, outside the graph.");
  cls.def(
      "backward",
      [](const Tensor& t, py::object grad, bool retain_graph, bool create_graph) {
        Tensor g = grad.is_none() ? Tensor() : to_tensor(grad, std::nullopt, false);
        py::gil_scoped_release release;
        run_backward(t, g, retain_graph, create_graph);
      },
      py::arg("grad") = py::none(), py::arg("retain_graph") = false, py::arg("create_graph") = false);
  m.def("is_grad_enabled", &GradMode::is_enabled);
  m.def("_set_grad_enabled", &GradMode::set_enabled, py::arg("enabled"));
}

}  // namespace tl::bind
