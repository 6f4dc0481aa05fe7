// Autograd from Python: requires_grad(_), grad, backward, detach(_), retain_grad, register_hook,
// grad_fn (a graph Node object), grad mode, and the engine entry behind tl.autograd.grad.
#include <pybind11/stl.h>
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/hooks.h"
#include "autograd/node.h"
#include "bindings/convert.h"

namespace tl::bind {

namespace {

void set_requires_grad(const Tensor& t, bool r) {
  if (!t.is_leaf() && !r)
    throw RuntimeError("[requires_grad] you can only change requires_grad flags of leaf tensors; use detach()");
  if (r) TL_CHECK_TYPE(is_floating(t.dtype()), "requires_grad", "only float tensors can require gradients, got ",
                       dtype_name(t.dtype()));
  t.set_requires_grad(r);
}

// A Python callable owned from C++: the engine runs with the GIL released and may drop the last
// reference there, so the reference is released under the GIL.
struct PyCallable {
  py::object fn;
  explicit PyCallable(py::object f) : fn(std::move(f)) {}
  PyCallable(const PyCallable&) = delete;
  PyCallable& operator=(const PyCallable&) = delete;
  ~PyCallable() {
    if (!Py_IsInitialized()) {
      fn.release();  // the interpreter is gone: nothing left to release into
      return;
    }
    py::gil_scoped_acquire gil;
    fn = py::object();
  }
};

// fn(grad) -> Tensor or None, called from the engine thread (which holds no GIL). A Python
// exception propagates out of backward as itself (error_already_set).
GradHook python_hook(py::function fn) {
  auto callable = std::make_shared<PyCallable>(std::move(fn));
  return [callable](const Tensor& grad) -> Tensor {
    py::gil_scoped_acquire gil;
    py::object result = callable->fn(grad);
    if (result.is_none()) return Tensor();
    if (!py::isinstance<Tensor>(result))
      throw TypeError(str_cat("[register_hook] a hook must return a Tensor or None, got ",
                              py::str(py::type::of(result).attr("__name__")).cast<std::string>()));
    return result.cast<Tensor>();
  };
}

// What Tensor.register_hook returns: .remove() unregisters (idempotent).
struct HookHandle {
  std::weak_ptr<GradHooks> hooks;
  int64_t id;
  void remove() const {
    if (auto h = hooks.lock()) h->remove(id);
  }
};

// grad_fn.next_functions entry for a leaf that requires grad (PyTorch's AccumulateGrad node).
struct AccumulateGrad {
  std::shared_ptr<TensorImpl> leaf;
};

py::object edge_object(const Edge& e) {
  if (e.fn) return py::cast(e.fn);
  if (e.leaf) return py::cast(AccumulateGrad{e.leaf});
  return py::none();
}

std::string object_repr(const char* name, const void* self) {
  return str_cat("<", name, " object at ", self, ">");
}

// A tensor or a sequence of tensors (autograd.grad's outputs/inputs).
std::vector<Tensor> tensor_list(py::handle obj, const char* what) {
  if (py::isinstance<Tensor>(obj)) return {obj.cast<Tensor>()};
  TL_CHECK_TYPE(py::isinstance<py::sequence>(obj) && !py::isinstance<py::str>(obj), "grad", what,
                " must be a Tensor or a sequence of Tensors");
  std::vector<Tensor> out;
  for (py::handle item : obj) {
    TL_CHECK_TYPE(py::isinstance<Tensor>(item), "grad", what, " must be a Tensor or a sequence of Tensors, got an item of type ",
                  py::str(py::type::of(item).attr("__name__")).cast<std::string>());
    out.push_back(item.cast<Tensor>());
  }
  return out;
}

}  // namespace

void bind_autograd(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  cls.def_property("requires_grad", &Tensor::requires_grad, &set_requires_grad);
  cls.def(
      "requires_grad_",
      [](py::object self, bool r) {
        set_requires_grad(self.cast<Tensor>(), r);
        return self;
      },
      py::arg("requires_grad") = true, "Sets requires_grad in place and returns this tensor.");
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
  cls.def_property_readonly("grad_fn", [](const Tensor& t) -> py::object {
    return t.grad_fn() ? py::cast(t.grad_fn()) : py::object(py::none());
  });
  cls.def("detach", &Tensor::detach, "A tensor sharing this one's data, outside the graph.");
  // Views are not tracked as views of a base in the graph, so unlike PyTorch a view detaches
  // too: only this tensor leaves the graph, its base is untouched.
  cls.def(
      "detach_",
      [](py::object self) {
        Tensor t = self.cast<Tensor>();
        t.set_grad_fn(nullptr);
        t.set_requires_grad(false);
        return self;
      },
      "Makes this tensor a leaf that does not require grad, in place; returns it.");
  cls.def(
      "retain_grad",
      [](const Tensor& t) { retain_grad(t); },
      "A non-leaf keeps its gradient in .grad after backward (a leaf always does).");
  cls.def_property_readonly("retains_grad", [](const Tensor& t) { return retains_grad(t); });
  cls.def(
      "register_hook",
      [](const Tensor& t, py::function fn) {
        std::shared_ptr<GradHooks> hooks = hooks_for(t);
        return HookHandle{hooks, hooks->add(python_hook(std::move(fn)))};
      },
      py::arg("hook"),
      "hook(grad) -> Tensor or None runs when this tensor's gradient is computed; a Tensor replaces it.");
  cls.def(
      "backward",
      [](const Tensor& t, py::object gradient, py::object retain_graph, bool create_graph, py::object inputs,
         py::object grad) {
        if (!grad.is_none()) {
          TL_CHECK_TYPE(gradient.is_none(), "backward", "got both gradient= and grad= (the old name of gradient)");
          gradient = grad;
        }
        Tensor g = gradient.is_none() ? Tensor() : to_tensor(gradient, std::nullopt, false);
        const bool retain = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
        std::vector<Tensor> in;
        if (!inputs.is_none()) {
          in = tensor_list(inputs, "inputs");
          if (in.empty()) throw RuntimeError("[backward] 'inputs' argument to backward() cannot be empty");
        }
        py::gil_scoped_release release;
        run_backward({t}, {g}, in, true, retain, create_graph);
      },
      py::arg("gradient") = py::none(), py::arg("retain_graph") = py::none(), py::arg("create_graph") = false,
      py::arg("inputs") = py::none(), py::kw_only(), py::arg("grad") = py::none());

  // The engine behind tl.autograd.grad / tl.autograd.backward: gradients of `outputs` (seeded by
  // `grad_outputs`, None = ones) w.r.t. `inputs`, None where an input is unreached.
  m.def(
      "_run_backward",
      [](py::object outputs, py::object grad_outputs, py::object inputs, bool into_grad, bool retain_graph,
         bool create_graph) {
        std::vector<Tensor> roots = tensor_list(outputs, "outputs"), in;
        if (!inputs.is_none()) in = tensor_list(inputs, "inputs");
        std::vector<Tensor> seeds(roots.size());
        if (!grad_outputs.is_none()) {
          py::sequence gs = py::isinstance<Tensor>(grad_outputs) ? py::sequence(py::make_tuple(grad_outputs))
                                                                   : grad_outputs.cast<py::sequence>();
          TL_CHECK(gs.size() == roots.size(), "grad", "grad_outputs has ", gs.size(), " entries for ", roots.size(),
                   " outputs");
          for (size_t i = 0; i < roots.size(); ++i)
            if (!gs[i].is_none()) seeds[i] = to_tensor(gs[i], std::nullopt, false);
        }
        std::vector<Tensor> result;
        {
          py::gil_scoped_release release;
          result = run_backward(roots, seeds, in, into_grad, retain_graph, create_graph);
        }
        py::list out;
        for (const Tensor& r : result) out.append(r.defined() ? py::cast(r) : py::none());
        return out;
      },
      py::arg("outputs"), py::arg("grad_outputs"), py::arg("inputs"), py::arg("into_grad"), py::arg("retain_graph"),
      py::arg("create_graph"));

  py::class_<HookHandle>(m, "RemovableHandle", "Returned by register_hook; remove() unregisters the hook.")
      .def("remove", &HookHandle::remove)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](const HookHandle& h, py::args) { h.remove(); });

  py::class_<Node, std::shared_ptr<Node>>(m, "Node", "A recorded op of the autograd graph (Tensor.grad_fn).")
      .def("name", [](const Node& n) { return std::string(n.name()); })
      .def_property_readonly("next_functions",
                             [](const Node& n) {
                               py::tuple t(n.next.size());
                               for (size_t i = 0; i < n.next.size(); ++i) t[i] = py::make_tuple(edge_object(n.next[i]), 0);
                               return t;
                             })
      .def("__repr__", [](const Node& n) { return object_repr(n.name(), &n); });

  py::class_<AccumulateGrad>(m, "AccumulateGrad", "Where a leaf's gradient lands (grad_fn.next_functions).")
      .def("name", [](const AccumulateGrad&) { return std::string("AccumulateGrad"); })
      .def_property_readonly("variable", [](const AccumulateGrad& a) { return Tensor(a.leaf); })
      .def_property_readonly("next_functions", [](const AccumulateGrad&) { return py::tuple(); })
      .def("__repr__", [](const AccumulateGrad& a) { return object_repr("AccumulateGrad", a.leaf.get()); });

  m.def("is_grad_enabled", &GradMode::is_enabled);
  m.def("_set_grad_enabled", &GradMode::set_enabled, py::arg("enabled"));
}

}  // namespace tl::bind
