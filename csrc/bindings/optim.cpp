// Python binding of the fused optimizer updates: tensorlet._core._optim.{sgd_,rmsprop_,adam_}.
// Every tensor argument is validated before any memory is touched; the update itself runs
// without the GIL for large parameters.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/tensor.h"
#include "kernels/optim.h"
#include "bindings/gil.h"

namespace py = pybind11;

namespace tl::bind {
namespace {

using OptTensor = std::optional<Tensor>;

// Checks that `t` can be read (and written when `writable`) as a contiguous buffer matching
// `param`'s shape and dtype.
void check_like(const char* op, const char* name, const Tensor& t, const Tensor& param, bool writable) {
  TL_CHECK(t.defined(), op, name, " is an undefined tensor");
  TL_CHECK(t.shape() == param.shape(), op, name, " shape ", shape_str(t.shape()),
           " does not match param shape ", shape_str(param.shape()));
  TL_CHECK(t.dtype() == param.dtype(), op, name, " dtype ", dtype_name(t.dtype()),
           " does not match param dtype ", dtype_name(param.dtype()));
  TL_CHECK(t.is_contiguous(), op, name, " must be contiguous (shape ", shape_str(t.shape()), ")");
  if (writable) t.check_writable(op);
}

void check_param(const char* op, const Tensor& param) {
  TL_CHECK(param.defined(), op, "param is an undefined tensor");
  TL_CHECK(is_floating(param.dtype()), op, "param must be float32 or float64, got ",
           dtype_name(param.dtype()), " (shape ", shape_str(param.shape()), ")");
  TL_CHECK(param.is_contiguous(), op, "param must be contiguous (shape ", shape_str(param.shape()), ")");
  param.check_writable(op);
}

void check_hyper(const char* op, const char* name, double value, double lo, double hi) {
  TL_CHECK(std::isfinite(value) && value >= lo && value <= hi, op, name, " must be in [", lo, ", ", hi,
           "], got ", value);
}

// The slots must not alias each other or the param/grad: the kernels read and write them in
// one pass.
void check_distinct(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (auto a = tensors.begin(); a != tensors.end(); ++a) {
    for (auto b = a + 1; b != tensors.end(); ++b) {
      if (*a && *b) {
        TL_CHECK((*a)->data_ptr() != (*b)->data_ptr(), op, "param, grad and slot tensors must not share memory");
      }
    }
  }
}

template <class T>
T* ptr(const OptTensor& t) {
  return t ? t->data<T>() : nullptr;
}

void sgd(const Tensor& param, const Tensor& grad, const OptTensor& momentum_buf, double learning_rate,
         double momentum, bool nesterov) {
  const char* op = "optim.sgd";
  check_param(op, param);
  check_like(op, "grad", grad, param, false);
  check_hyper(op, "learning_rate", learning_rate, 0.0, HUGE_VAL);
  check_hyper(op, "momentum", momentum, 0.0, 1.0);
  TL_CHECK(momentum_buf.has_value() == (momentum != 0.0), op,
           "a momentum buffer is required exactly when momentum != 0 (momentum=", momentum, ")");
  if (momentum_buf) check_like(op, "momentum_buf", *momentum_buf, param, true);
  check_distinct(op, {&param, &grad, momentum_buf ? &*momentum_buf : nullptr});
  const int64_t n = param.numel();
  without_gil_if(is_large(n), [&] {
    TL_DISPATCH_FLOAT(param.dtype(), op, [&] {
      kernels::sgd_update<scalar_t>(param.data<scalar_t>(), grad.data<scalar_t>(), ptr<scalar_t>(momentum_buf), n,
                                    learning_rate, momentum, nesterov);
    });
  });
}

void rmsprop(const Tensor& param, const Tensor& grad, const Tensor& velocity, const OptTensor& momentum_buf,
             const OptTensor& average_grad, double learning_rate, double rho, double momentum, double epsilon) {
  const char* op = "optim.rmsprop";
  check_param(op, param);
  check_like(op, "grad", grad, param, false);
  check_like(op, "velocity", velocity, param, true);
  check_hyper(op, "learning_rate", learning_rate, 0.0, HUGE_VAL);
  check_hyper(op, "rho", rho, 0.0, 1.0);
  check_hyper(op, "momentum", momentum, 0.0, 1.0);
  check_hyper(op, "epsilon", epsilon, 0.0, HUGE_VAL);
  TL_CHECK(momentum_buf.has_value() == (momentum > 0.0), op,
           "a momentum buffer is required exactly when momentum > 0 (momentum=", momentum, ")");
  if (momentum_buf) check_like(op, "momentum_buf", *momentum_buf, param, true);
  if (average_grad) check_like(op, "average_grad", *average_grad, param, true);
  check_distinct(op, {&param, &grad, &velocity, momentum_buf ? &*momentum_buf : nullptr,
                      average_grad ? &*average_grad : nullptr});
  const int64_t n = param.numel();
  without_gil_if(is_large(n), [&] {
    TL_DISPATCH_FLOAT(param.dtype(), op, [&] {
      kernels::rmsprop_update<scalar_t>(param.data<scalar_t>(), grad.data<scalar_t>(), velocity.data<scalar_t>(),
                                        ptr<scalar_t>(momentum_buf), ptr<scalar_t>(average_grad), n, learning_rate,
                                        rho, momentum, epsilon);
    });
  });
}

void adam(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double learning_rate,
          double beta_1, double beta_2, double epsilon, int64_t step) {
  const char* op = "optim.adam";
  check_param(op, param);
  check_like(op, "grad", grad, param, false);
  check_like(op, "m", m, param, true);
  check_like(op, "v", v, param, true);
  check_hyper(op, "learning_rate", learning_rate, 0.0, HUGE_VAL);
  check_hyper(op, "beta_1", beta_1, 0.0, 1.0);
  check_hyper(op, "beta_2", beta_2, 0.0, 1.0);
  check_hyper(op, "epsilon", epsilon, 0.0, HUGE_VAL);
  TL_CHECK(step >= 1, op, "step must be >= 1 (1-based), got ", step);
  check_distinct(op, {&param, &grad, &m, &v});
  const int64_t n = param.numel();
  without_gil_if(is_large(n), [&] {
    TL_DISPATCH_FLOAT(param.dtype(), op, [&] {
      kernels::adam_update<scalar_t>(param.data<scalar_t>(), grad.data<scalar_t>(), m.data<scalar_t>(),
                                     v.data<scalar_t>(), n, learning_rate, beta_1, beta_2, epsilon, step);
    });
  });
}

}  // namespace

void bind_optim(py::module_& m) {
  auto o = m.def_submodule("_optim", "Fused in-place optimizer updates (Keras 3 update rules).");
  o.def("sgd_", &sgd, py::arg("param"), py::arg("grad"), py::arg("momentum_buf") = py::none(), py::kw_only(),
        py::arg("learning_rate"), py::arg("momentum") = 0.0, py::arg("nesterov") = false,
        "SGD step in place: p -= lr*g, or with momentum m = m*momentum - lr*g; p += m "
        "(nesterov: p += m*momentum - lr*g).");
  o.def("rmsprop_", &rmsprop, py::arg("param"), py::arg("grad"), py::arg("velocity"),
        py::arg("momentum_buf") = py::none(), py::arg("average_grad") = py::none(), py::kw_only(),
        py::arg("learning_rate"), py::arg("rho") = 0.9, py::arg("momentum") = 0.0, py::arg("epsilon") = 1e-7,
        "RMSprop step in place (centered when average_grad is given).");
  o.def("adam_", &adam, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::kw_only(),
        py::arg("learning_rate"), py::arg("beta_1") = 0.9, py::arg("beta_2") = 0.999, py::arg("epsilon") = 1e-7,
        py::arg("step"), "Adam step in place at 1-based step `step`.");
}

}  // namespace tl::bind
