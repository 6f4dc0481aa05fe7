// Python binding of the fused optimizer steps (optim/step.h), tensorlet._core._optim. Bindings
// only convert; the checks live in the core.
//   StepState: the learning rate and step count an optimizer owns; a step with state= reads both
//     and advances the count (what a captured, replayed step needs).
//   sgd_step / rmsprop_step / adam_step: one multi-tensor step over lists (params, grads, slot
//     lists; grads=None reads each param's .grad; a None gradient skips its param), all
//     parameters updated in one parallel region without the GIL when large. Without state=, the
//     learning rate and 1-based step come from learning_rate= / step=, and with `counter` its
//     `iterations` attribute is set to `step` in the same call, after the update, so no Python
//     code (and so no KeyboardInterrupt) can run between the update and the count.
//   catalog_step: the same for the catalog's rules (Adam with amsgrad or weight decay, Adagrad,
//     Adadelta, Adamax, Nadam, Lion), with the optimizer's state (required).
//   sgd_ / rmsprop_ / adam_: the same on one parameter (what the built-in _update methods call).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings/gil.h"
#include "optim/step.h"

namespace py = pybind11;

namespace tl::bind {
namespace {

using optim::OptGrads;
using optim::StepState;
using optim::Tensors;
using OptTensor = std::optional<Tensor>;
using StatePtr = std::shared_ptr<StepState>;

// The state a call runs with: the optimizer's own, or one made from learning_rate= and step=.
StatePtr state_for(const char* op, const StatePtr& state, const std::optional<double>& learning_rate, int64_t step,
                   const py::object& counter) {
  if (state) {
    TL_CHECK(!learning_rate && counter.is_none(), op, "pass either state= or learning_rate= (and counter=), not both");
    return state;
  }
  TL_CHECK(learning_rate.has_value(), op, "learning_rate (or state) is required");
  TL_CHECK(counter.is_none() || step >= 1, op, "step must be >= 1 when a counter is given, got ", step);
  return std::make_shared<StepState>(StepState{*learning_rate, step - 1});
}

// Runs the step (without the GIL when large), then sets counter.iterations to the step made.
template <class F>
void run_step(const Tensors& params, const StatePtr& state, const py::object& counter, F&& f) {
  without_gil_if(is_large(optim::total_elements(params)), f);
  if (!counter.is_none()) counter.attr("iterations") = py::int_(state->iterations);
}

void sgd_step(const Tensors& params, const OptGrads& grads, const Tensors& momentums,
              std::optional<double> learning_rate, double momentum, bool nesterov, int64_t step,
              const py::object& counter, const StatePtr& state_arg) {
  StatePtr state = state_for("optim.sgd_step", state_arg, learning_rate, step, counter);
  run_step(params, state, counter, [&] { optim::sgd_step(params, grads, momentums, momentum, nesterov, state); });
}

void rmsprop_step(const Tensors& params, const OptGrads& grads, const Tensors& velocities, const Tensors& momentums,
                  const Tensors& averages, std::optional<double> learning_rate, double rho, double momentum,
                  double epsilon, bool centered, int64_t step, const py::object& counter, const StatePtr& state_arg) {
  StatePtr state = state_for("optim.rmsprop_step", state_arg, learning_rate, step, counter);
  run_step(params, state, counter, [&] {
    optim::rmsprop_step(params, grads, velocities, momentums, averages, rho, momentum, epsilon, centered, state);
  });
}

void adam_step(const Tensors& params, const OptGrads& grads, const Tensors& ms, const Tensors& vs,
               std::optional<double> learning_rate, double beta_1, double beta_2, double epsilon, int64_t step,
               const py::object& counter, const StatePtr& state_arg) {
  StatePtr state = state_for("optim.adam_step", state_arg, learning_rate, step, counter);
  run_step(params, state, counter, [&] { optim::adam_step(params, grads, ms, vs, beta_1, beta_2, epsilon, state); });
}

void catalog_step(const std::string& rule, const Tensors& params, const OptGrads& grads, const Tensors& slot0,
                  const Tensors& slot1, const Tensors& slot2, double beta_1, double beta_2, double epsilon, double rho,
                  bool amsgrad, const std::vector<double>& weight_decay, const std::string& clip, double clip_value,
                  const StatePtr& state) {
  TL_CHECK(state != nullptr, "optim.catalog_step", "state= is required");
  run_step(params, state, py::none(), [&] {
    optim::catalog_step(rule, params, grads, slot0, slot1, slot2, beta_1, beta_2, epsilon, rho, amsgrad, weight_decay,
                        clip, clip_value, state);
  });
}

// -- one parameter -------------------------------------------------------------------------------
Tensors one(const OptTensor& t) { return t ? Tensors{*t} : Tensors{}; }
OptGrads grad_of(const Tensor& g) { return optim::Grads{g}; }

void sgd(const Tensor& param, const Tensor& grad, const OptTensor& momentum_buf, double learning_rate,
         double momentum, bool nesterov) {
  TL_CHECK(momentum_buf.has_value() == (momentum != 0.0), "optim.sgd",
           "a momentum buffer is required exactly when momentum != 0 (momentum=", momentum, ")");
  sgd_step({param}, grad_of(grad), one(momentum_buf), learning_rate, momentum, nesterov, 0, py::none(), nullptr);
}

void rmsprop(const Tensor& param, const Tensor& grad, const Tensor& velocity, const OptTensor& momentum_buf,
             const OptTensor& average_grad, double learning_rate, double rho, double momentum, double epsilon) {
  TL_CHECK(momentum_buf.has_value() == (momentum > 0.0), "optim.rmsprop",
           "a momentum buffer is required exactly when momentum > 0 (momentum=", momentum, ")");
  rmsprop_step({param}, grad_of(grad), {velocity}, one(momentum_buf), one(average_grad), learning_rate, rho, momentum,
               epsilon, average_grad.has_value(), 0, py::none(), nullptr);
}

void adam(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, double learning_rate,
          double beta_1, double beta_2, double epsilon, int64_t step) {
  adam_step({param}, grad_of(grad), {m}, {v}, learning_rate, beta_1, beta_2, epsilon, step, py::none(), nullptr);
}

}  // namespace

void bind_optim(py::module_& m) {
  auto o = m.def_submodule("_optim", "Fused in-place optimizer updates (Keras 3 update rules).");
  py::class_<StepState, StatePtr>(o, "StepState",
                                  "An optimizer's learning rate and step count, read and advanced by its fused steps.")
      .def(py::init([](double learning_rate, int64_t iterations) {
             return std::make_shared<StepState>(StepState{learning_rate, iterations});
           }), py::arg("learning_rate") = 0.0, py::arg("iterations") = 0)
      .def_readwrite("learning_rate", &StepState::learning_rate)
      .def_readwrite("iterations", &StepState::iterations)
      .def_readwrite("u_product", &StepState::u_product)
      .def(py::pickle([](const StepState& s) { return py::make_tuple(s.learning_rate, s.iterations, s.u_product); },
                      [](const py::tuple& t) {  // 2-tuples: pickled before u_product existed
                        TL_CHECK(t.size() == 2 || t.size() == 3, "optim.StepState", "bad pickled state of size ",
                                 t.size());
                        return std::make_shared<StepState>(StepState{t[0].cast<double>(), t[1].cast<int64_t>(),
                                                                     t.size() == 3 ? t[2].cast<double>() : 1.0});
                      }));
  o.def("catalog_step", &catalog_step, py::arg("rule"), py::arg("params"), py::arg("grads"), py::arg("slot0"),
        py::arg("slot1"), py::arg("slot2"), py::kw_only(), py::arg("beta_1") = 0.9, py::arg("beta_2") = 0.999,
        py::arg("epsilon") = 1e-7, py::arg("rho") = 0.95, py::arg("amsgrad") = false,
        py::arg("weight_decay") = std::vector<double>{}, py::arg("clip") = "", py::arg("clip_value") = 0.0,
        py::arg("state") = py::none(),
        "One step of a catalog rule ('adam', 'adagrad', 'adadelta', 'adamax', 'nadam', 'lion') over every param, "
        "with its slot lists (unused ones empty), in one parallel region: reads the state's learning rate, "
        "advances its count (and Nadam's u_product). weight_decay: one factor per param (w -= w * wd * lr first); "
        "clip: '' or Keras's 'norm' / 'global_norm' / 'value' clipping of the gradients by clip_value (the "
        "gradient tensors are not written).");
  o.def("sgd_step", &sgd_step, py::arg("params"), py::arg("grads"), py::arg("momentums"), py::kw_only(),
        py::arg("learning_rate") = py::none(), py::arg("momentum") = 0.0, py::arg("nesterov") = false,
        py::arg("step") = 0, py::arg("counter") = py::none(), py::arg("state") = py::none(),
        "One SGD step over every param (lists; `momentums` empty when momentum == 0), in one parallel region. "
        "With `state`, its learning rate and count are used and the count advanced; with `counter`, sets "
        "counter.iterations = step after the update.");
  o.def("rmsprop_step", &rmsprop_step, py::arg("params"), py::arg("grads"), py::arg("velocities"),
        py::arg("momentums"), py::arg("averages"), py::kw_only(), py::arg("learning_rate") = py::none(),
        py::arg("rho") = 0.9, py::arg("momentum") = 0.0, py::arg("epsilon") = 1e-7, py::arg("centered") = false,
        py::arg("step") = 0, py::arg("counter") = py::none(), py::arg("state") = py::none(),
        "One RMSprop step over every param (`momentums` empty when momentum == 0, `averages` empty unless "
        "centered), in one parallel region; `state` / `counter` as in sgd_step.");
  o.def("adam_step", &adam_step, py::arg("params"), py::arg("grads"), py::arg("m"), py::arg("v"), py::kw_only(),
        py::arg("learning_rate") = py::none(), py::arg("beta_1") = 0.9, py::arg("beta_2") = 0.999,
        py::arg("epsilon") = 1e-7, py::arg("step") = 0, py::arg("counter") = py::none(),
        py::arg("state") = py::none(),
        "One Adam step (1-based `step`, or the state's count + 1) over every param, in one parallel region; "
        "`state` / `counter` as in sgd_step.");
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
