// Python binding of the fused optimizer steps, tensorlet._core._optim:
//   sgd_step / rmsprop_step / adam_step: one multi-tensor step over lists (params, grads, slot
//     lists; grads=None reads each param's .grad; a None gradient skips its param), every
//     argument validated before any memory is touched, then all parameters
//     updated in one parallel region without the GIL. With `counter`, its `iterations`
//     attribute is set to `step` in the same call, after the update, so no Python code (and so
//     no KeyboardInterrupt) can run between the update and the count.
//   sgd_ / rmsprop_ / adam_: the same on one parameter (what the built-in _update methods call).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "kernels/optim.h"
#include "ops/inplace.h"
#include "bindings/gil.h"

namespace py = pybind11;

namespace tl::bind {
namespace {

using Tensors = std::vector<Tensor>;
using OptTensor = std::optional<Tensor>;
using Grads = std::vector<OptTensor>;  // None: that parameter has no gradient this step
using OptGrads = std::optional<Grads>;  // None: each param's .grad

// A slot list of a step: its name ("velocity") and the tensors, or nullptr when the optimizer's
// configuration does not use it (then the caller passes an empty list).
struct SlotList {
  const char* name;
  const Tensors* tensors;
};

void check_hyper(const char* op, const char* name, double value, double lo, double hi) {
  TL_CHECK(std::isfinite(value) && value >= lo && value <= hi, op, name, " must be in [", lo, ", ", hi,
           "], got ", value);
}

void check_like(const char* op, const char* name, size_t i, const Tensor& t, const Tensor& param, bool writable) {
  TL_CHECK(t.defined(), op, name, " ", i, " is an undefined tensor");
  TL_CHECK(t.shape() == param.shape(), op, name, " ", i, " has shape ", shape_str(t.shape()), " but param ", i,
           " has shape ", shape_str(param.shape()));
  TL_CHECK(t.dtype() == param.dtype(), op, name, " ", i, " has dtype ", dtype_name(t.dtype()), " but param ", i,
           " has dtype ", dtype_name(param.dtype()), " (shape ", shape_str(param.shape()), ")");
  TL_CHECK(t.is_contiguous(), op, name, " ", i, " must be contiguous (shape ", shape_str(t.shape()), ")");
  if (writable) t.check_writable(op);
}

// A tensor's byte range, with its role and index for error messages.
struct Span {
  uintptr_t begin, end;
  const char* name;
  size_t index;
};

Span span_of(const Tensor& t, const char* name, size_t i) {
  const auto b = reinterpret_cast<uintptr_t>(t.data_ptr());
  return {b, b + uintptr_t(t.numel()) * t.itemsize(), name, i};
}

// Written buffers (params and slots) must be pairwise disjoint, and no gradient may overlap a
// written buffer: the loops take __restrict pointers and chunks of the step run concurrently.
// Gradients may share memory with each other (they are only read). Only the parameters of
// `active` (those with a gradient) take part.
void check_disjoint(const char* op, const std::vector<size_t>& active, const Tensors& params, const Grads& grads,
                    const std::vector<SlotList>& slots) {
  std::vector<Span> written;
  auto add = [&](const Tensors& ts, const char* name) {
    for (size_t i : active)
      if (ts[i].numel() > 0) written.push_back(span_of(ts[i], name, i));
  };
  add(params, "param");
  for (const SlotList& s : slots)
    if (s.tensors) add(*s.tensors, s.name);
  std::sort(written.begin(), written.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t j = 1; j < written.size(); ++j) {
    const Span& a = written[j - 1];
    const Span& b = written[j];
    TL_CHECK(b.begin >= a.end, op, a.name, " ", a.index, " and ", b.name, " ", b.index,
             " share memory (a variable listed twice, or a slot aliasing a variable?)");
  }
  // Disjoint and sorted by begin, so sorted by end too: the only candidate for a gradient is the
  // last written span that begins before the gradient ends.
  for (size_t i : active) {
    if (grads[i]->numel() == 0) continue;
    const Span g = span_of(*grads[i], "grad", i);
    auto it = std::lower_bound(written.begin(), written.end(), g.end,
                               [](const Span& s, uintptr_t end) { return s.begin < end; });
    if (it == written.begin()) continue;
    --it;
    TL_CHECK(it->end <= g.begin, op, "grad ", i, " shares memory with ", it->name, " ", it->index);
  }
}

// Validates a whole step and lays it out for the kernels: every check comes before any write.
// A parameter whose gradient is None is skipped (neither checked nor updated).
std::vector<kernels::OptimTensor> prepare(const char* op, const Tensors& params, const OptGrads& grads_arg,
                                          const std::vector<SlotList>& slots) {
  const size_t k = params.size();
  Grads own;
  if (!grads_arg) {
    own.resize(k);
    for (size_t i = 0; i < k; ++i) {
      TL_CHECK(params[i].defined(), op, "param ", i, " is an undefined tensor");
      if (params[i].grad().defined()) own[i] = params[i].grad();
    }
  }
  const Grads& grads = grads_arg ? *grads_arg : own;
  TL_CHECK(grads.size() == k, op, grads.size(), " gradients for ", k, " params");
  for (const SlotList& s : slots) {
    if (s.tensors) TL_CHECK(s.tensors->size() == k, op, s.tensors->size(), " ", s.name, " tensors for ", k, " params");
  }
  std::vector<size_t> active;
  active.reserve(k);
  for (size_t i = 0; i < k; ++i)
    if (grads[i]) active.push_back(i);
  std::vector<kernels::OptimTensor> out(active.size());
  for (size_t j = 0; j < active.size(); ++j) {
    const size_t i = active[j];
    const Tensor& p = params[i];
    TL_CHECK(p.defined(), op, "param ", i, " is an undefined tensor");
    TL_CHECK(is_floating(p.dtype()), op, "param ", i, " must be float32 or float64, got ", dtype_name(p.dtype()),
             " (shape ", shape_str(p.shape()), ")");
    TL_CHECK(p.is_contiguous(), op, "param ", i, " must be contiguous (shape ", shape_str(p.shape()), ")");
    p.check_writable(op);
    check_like(op, "grad", i, *grads[i], p, false);
    kernels::OptimTensor& t = out[j];
    t.dtype = p.dtype();
    t.n = p.numel();
    t.param = p.data_ptr();
    t.grad = grads[i]->data_ptr();
    for (size_t s = 0; s < slots.size(); ++s) {
      if (!slots[s].tensors) continue;
      const Tensor& st = (*slots[s].tensors)[i];
      check_like(op, slots[s].name, i, st, p, true);
      t.slot[s] = st.data_ptr();
    }
  }
  check_disjoint(op, active, params, grads, slots);
  // Everything is checked: the step will write every active param and its slots.
  for (size_t i : active) {
    begin_inplace_write(params[i], op);
    for (const SlotList& s : slots)
      if (s.tensors) begin_inplace_write((*s.tensors)[i], op);
  }
  return out;
}

int64_t total_elements(const std::vector<kernels::OptimTensor>& ts) {
  int64_t n = 0;
  for (const auto& t : ts) n += t.n;
  return n;
}

// Runs the step (without the GIL when large), then sets counter.iterations = step.
template <class F>
void run_step(const std::vector<kernels::OptimTensor>& tensors, const py::object& counter, int64_t step, F&& f) {
  without_gil_if(is_large(total_elements(tensors)), f);
  if (!counter.is_none()) counter.attr("iterations") = py::int_(step);
}

void check_counter(const char* op, const py::object& counter, int64_t step) {
  TL_CHECK(counter.is_none() || step >= 1, op, "step must be >= 1 when a counter is given, got ", step);
}

const Tensors* use_if(bool used, const char* op, const char* name, const Tensors& ts, const char* when) {
  TL_CHECK(used || ts.empty(), op, "no ", name, " tensors expected ", when, ", got ", ts.size());
  return used ? &ts : nullptr;
}

void sgd_step(const Tensors& params, const OptGrads& grads, const Tensors& momentums, double learning_rate,
              double momentum, bool nesterov, int64_t step, const py::object& counter) {
  const char* op = "optim.sgd_step";
  check_hyper(op, "learning_rate", learning_rate, 0.0, HUGE_VAL);
  check_hyper(op, "momentum", momentum, 0.0, 1.0);
  check_counter(op, counter, step);
  const auto tensors = prepare(
      op, params, grads, {{"momentum", use_if(momentum != 0.0, op, "momentum", momentums, "when momentum == 0")}});
  run_step(tensors, counter, step, [&] { kernels::sgd_step(tensors, learning_rate, momentum, nesterov); });
}

void rmsprop_step(const Tensors& params, const OptGrads& grads, const Tensors& velocities, const Tensors& momentums,
                  const Tensors& averages, double learning_rate, double rho, double momentum, double epsilon,
                  bool centered, int64_t step, const py::object& counter) {
  const char* op = "optim.rmsprop_step";
  check_hyper(op, "learning_rate", learning_rate, 0.0, HUGE_VAL);
  check_hyper(op, "rho", rho, 0.0, 1.0);
  check_hyper(op, "momentum", momentum, 0.0, 1.0);
  check_hyper(op, "epsilon", epsilon, 0.0, HUGE_VAL);
  check_counter(op, counter, step);
  const auto tensors =
      prepare(op, params, grads,
              {{"velocity", &velocities},
               {"momentum", use_if(momentum > 0.0, op, "momentum", momentums, "when momentum == 0")},
               {"average_grad", use_if(centered, op, "average_grad", averages, "when not centered")}});
  run_step(tensors, counter, step,
           [&] { kernels::rmsprop_step(tensors, learning_rate, rho, momentum, epsilon, centered); });
}

void adam_step(const Tensors& params, const OptGrads& grads, const Tensors& ms, const Tensors& vs,
               double learning_rate, double beta_1, double beta_2, double epsilon, int64_t step,
               const py::object& counter) {
  const char* op = "optim.adam_step";
  check_hyper(op, "learning_rate", learning_rate, 0.0, HUGE_VAL);
  check_hyper(op, "beta_1", beta_1, 0.0, 1.0);
  check_hyper(op, "beta_2", beta_2, 0.0, 1.0);
  check_hyper(op, "epsilon", epsilon, 0.0, HUGE_VAL);
  TL_CHECK(step >= 1, op, "step must be >= 1 (1-based), got ", step);
  const auto tensors = prepare(op, params, grads, {{"m", &ms}, {"v", &vs}});
  run_step(tensors, counter, step,
           [&] { kernels::adam_step(tensors, learning_rate, beta_1, beta_2, epsilon, step); });
}

// -- one parameter -------------------------------------------------------------------------------
Tensors one(const OptTensor& t) { return t ? Tensors{*t} : Tensors{}; }

void sgd(const Tensor& param, const Tensor& grad, const OptTensor& momentum_buf, double learning_rate,
         double momentum, bool nesterov) {
  TL_CHECK(momentum_buf.has_value() == (momentum != 0.0), "optim.sgd",
           "a momentum buffer is required exactly when momentum != 0 (momentum=", momentum, ")");
  sgd_step({param}, Grads{grad}, one(momentum_buf), learning_rate, momentum, nesterov, 0, py::none());
}

void rmsprop(const Tensor& param, const Tensor& grad, const Tensor& velocity, const OptTensor& momentum_buf,
             const OptTensor& average_grad, double learning_rate, double rho, double momentum, double epsilon) {
  TL_CHECK(momentum_buf.has_value() == (momentum > 0.0), "optim.rmsprop",
           "a momentum buffer is required exactly when momentum > 0 (momentum=", momentum, ")");
  rmsprop_step({param}, Grads{grad}, {velocity}, one(momentum_buf), one(average_grad), learning_rate, rho, momentum,
               epsilon, average_grad.has_value(), 0, py::none());
}

void adam(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double learning_rate,
          double beta_1, double beta_2, double epsilon, int64_t step) {
  adam_step({param}, Grads{grad}, {m}, {v}, learning_rate, beta_1, beta_2, epsilon, step, py::none());
}

}  // namespace

void bind_optim(py::module_& m) {
  auto o = m.def_submodule("_optim", "Fused in-place optimizer updates (Keras 3 update rules).");
  o.def("sgd_step", &sgd_step, py::arg("params"), py::arg("grads"), py::arg("momentums"), py::kw_only(),
        py::arg("learning_rate"), py::arg("momentum") = 0.0, py::arg("nesterov") = false, py::arg("step") = 0,
        py::arg("counter") = py::none(),
        "One SGD step over every param (lists; `momentums` empty when momentum == 0), in one parallel region. "
        "With `counter`, sets counter.iterations = step after the update.");
  o.def("rmsprop_step", &rmsprop_step, py::arg("params"), py::arg("grads"), py::arg("velocities"),
        py::arg("momentums"), py::arg("averages"), py::kw_only(), py::arg("learning_rate"), py::arg("rho") = 0.9,
        py::arg("momentum") = 0.0, py::arg("epsilon") = 1e-7, py::arg("centered") = false, py::arg("step") = 0,
        py::arg("counter") = py::none(),
        "One RMSprop step over every param (`momentums` empty when momentum == 0, `averages` empty unless "
        "centered), in one parallel region. With `counter`, sets counter.iterations = step after the update.");
  o.def("adam_step", &adam_step, py::arg("params"), py::arg("grads"), py::arg("m"), py::arg("v"), py::kw_only(),
        py::arg("learning_rate"), py::arg("beta_1") = 0.9, py::arg("beta_2") = 0.999, py::arg("epsilon") = 1e-7,
        py::arg("step"), py::arg("counter") = py::none(),
        "One Adam step (1-based `step`) over every param, in one parallel region. With `counter`, sets "
        "counter.iterations = step after the update.");
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
