#include "optim/step.h"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include "capture/recorder.h"
#include "core/error.h"
#include "kernels/optim.h"
#include "ops/inplace.h"

namespace tl::optim {
namespace {

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
    TL_CHECK(p.dtype() == DType::Float32 || p.dtype() == DType::Float64, op, "param ", i, " must be float32 or float64, got ", dtype_name(p.dtype()),
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


const Tensors* use_if(bool used, const char* op, const char* name, const Tensors& ts, const char* when) {
  TL_CHECK(used || ts.empty(), op, "no ", name, " tensors expected ", when, ", got ", ts.size());
  return used ? &ts : nullptr;
}

// The step this call makes (1-based) and its learning rate, checked.
int64_t next_step(const char* op, const std::shared_ptr<StepState>& state) {
  TL_CHECK(state != nullptr, op, "no optimizer state given");
  check_hyper(op, "learning_rate", state->learning_rate, 0.0, HUGE_VAL);
  return state->iterations + 1;
}

// While a step is captured: its replays run `kernel` on the recorded buffers (capture::lower),
// reading the learning rate and step count at replay time and bumping the written tensors'
// versions as prepare() does; no validation is repeated, since the buffers are the validated ones.
// A .grad that is no longer the recorded buffer (replaced from outside the plan) makes the
// replay mismatch, and the caller runs the step eagerly.
template <class Kernel>
void lower_step(const char* op, const Tensors& params, const OptGrads& grads,
                const std::vector<kernels::OptimTensor>& tensors, const std::vector<SlotList>& slots,
                const std::shared_ptr<StepState>& state, Kernel kernel) {
  if (!capture::recording()) return;
  std::vector<Tensor> active, written;
  size_t j = 0;
  for (size_t i = 0; i < params.size() && j < tensors.size(); ++i) {
    if (params[i].data_ptr() != tensors[j].param || tensors[j].n != params[i].numel()) continue;
    ++j;
    active.push_back(params[i]);
    written.push_back(params[i]);
    for (const SlotList& sl : slots)
      if (sl.tensors) written.push_back((*sl.tensors)[i]);
  }
  if (j != tensors.size()) return;  // not matched: the generic re-run stays
  const bool from_grad = !grads.has_value();
  std::vector<const void*> reads;  // the gradients (params and slots are not step buffers)
  for (const kernels::OptimTensor& t : tensors) reads.push_back(t.grad);
  capture::lower([op, tensors, active, written, state, kernel, from_grad] {
    const int64_t step = next_step(op, state);
    if (from_grad)
      for (size_t k = 0; k < active.size(); ++k) {
        const Tensor g = active[k].grad();
        if (!g.defined() || g.data_ptr() != tensors[k].grad)
          throw capture::ReplayMismatch(str_cat("[capture] replay of ", op, ": the .grad of param ", k,
                                                " is not the gradient the step recorded"));
      }
    kernel(tensors, state->learning_rate, step);
    for (const Tensor& w : written) w.bump_version();
    state->iterations = step;
  }, std::move(reads));
}

}  // namespace

int64_t total_elements(const Tensors& params) {
  int64_t n = 0;
  for (const Tensor& p : params)
    if (p.defined()) n += p.numel();
  return n;
}

void sgd_step(const Tensors& params, const OptGrads& grads, const Tensors& momentums, double momentum, bool nesterov,
              const std::shared_ptr<StepState>& state) {
  TL_CAPTURE_OP(sgd_step, params, grads, momentums, momentum, nesterov, state);
  const char* op = "optim.sgd_step";
  const int64_t step = next_step(op, state);
  check_hyper(op, "momentum", momentum, 0.0, 1.0);
  const std::vector<SlotList> slots{{"momentum", use_if(momentum != 0.0, op, "momentum", momentums, "when momentum == 0")}};
  const auto tensors = prepare(op, params, grads, slots);
  kernels::sgd_step(tensors, state->learning_rate, momentum, nesterov);
  state->iterations = step;
  lower_step(op, params, grads, tensors, slots, state, [momentum, nesterov](const auto& ts, double lr, int64_t) {
    kernels::sgd_step(ts, lr, momentum, nesterov);
  });
}

void rmsprop_step(const Tensors& params, const OptGrads& grads, const Tensors& velocities, const Tensors& momentums,
                  const Tensors& averages, double rho, double momentum, double epsilon, bool centered,
                  const std::shared_ptr<StepState>& state) {
  TL_CAPTURE_OP(rmsprop_step, params, grads, velocities, momentums, averages, rho, momentum, epsilon, centered, state);
  const char* op = "optim.rmsprop_step";
  const int64_t step = next_step(op, state);
  check_hyper(op, "rho", rho, 0.0, 1.0);
  check_hyper(op, "momentum", momentum, 0.0, 1.0);
  check_hyper(op, "epsilon", epsilon, 0.0, HUGE_VAL);
  const std::vector<SlotList> slots{
      {"velocity", &velocities},
      {"momentum", use_if(momentum > 0.0, op, "momentum", momentums, "when momentum == 0")},
      {"average_grad", use_if(centered, op, "average_grad", averages, "when not centered")}};
  const auto tensors = prepare(op, params, grads, slots);
  kernels::rmsprop_step(tensors, state->learning_rate, rho, momentum, epsilon, centered);
  state->iterations = step;
  lower_step(op, params, grads, tensors, slots, state,
             [rho, momentum, epsilon, centered](const auto& ts, double lr, int64_t) {
               kernels::rmsprop_step(ts, lr, rho, momentum, epsilon, centered);
             });
}

void adam_step(const Tensors& params, const OptGrads& grads, const Tensors& ms, const Tensors& vs, double beta_1,
               double beta_2, double epsilon, const std::shared_ptr<StepState>& state) {
  TL_CAPTURE_OP(adam_step, params, grads, ms, vs, beta_1, beta_2, epsilon, state);
  const char* op = "optim.adam_step";
  const int64_t step = next_step(op, state);
  check_hyper(op, "beta_1", beta_1, 0.0, 1.0);
  check_hyper(op, "beta_2", beta_2, 0.0, 1.0);
  check_hyper(op, "epsilon", epsilon, 0.0, HUGE_VAL);
  TL_CHECK(step >= 1, op, "step must be >= 1 (1-based), got ", step);
  const std::vector<SlotList> slots{{"m", &ms}, {"v", &vs}};
  const auto tensors = prepare(op, params, grads, slots);
  kernels::adam_step(tensors, state->learning_rate, beta_1, beta_2, epsilon, step);
  state->iterations = step;
  lower_step(op, params, grads, tensors, slots, state, [beta_1, beta_2, epsilon](const auto& ts, double lr, int64_t t) {
    kernels::adam_step(ts, lr, beta_1, beta_2, epsilon, t);
  });
}

namespace {

struct RuleInfo {
  const char* name;
  kernels::OptimRule rule;
  int slots;  // slot lists the rule uses (Adam: 3 with amsgrad)
};
constexpr RuleInfo kRules[] = {{"adam", kernels::OptimRule::Adam, 2},         {"adagrad", kernels::OptimRule::Adagrad, 1},
                               {"adadelta", kernels::OptimRule::Adadelta, 2}, {"adamax", kernels::OptimRule::Adamax, 2},
                               {"nadam", kernels::OptimRule::Nadam, 2},       {"lion", kernels::OptimRule::Lion, 1}};

const RuleInfo& rule_info(const char* op, const std::string& rule) {
  for (const RuleInfo& r : kRules)
    if (rule == r.name) return r;
  throw std::invalid_argument(
      str_cat("[", op, "] unknown rule '", rule, "': expected adam, adagrad, adadelta, adamax, nadam or lion"));
}

}  // namespace

void catalog_step(const std::string& rule, const Tensors& params, const OptGrads& grads, const Tensors& slot0,
                  const Tensors& slot1, const Tensors& slot2, double beta_1, double beta_2, double epsilon, double rho,
                  bool amsgrad, const std::vector<double>& weight_decay, const std::string& clip, double clip_value,
                  const std::shared_ptr<StepState>& state) {
  TL_CAPTURE_OP(catalog_step, rule, params, grads, slot0, slot1, slot2, beta_1, beta_2, epsilon, rho, amsgrad,
                weight_decay, clip, clip_value, state);
  const char* op = "optim.catalog_step";
  const RuleInfo& info = rule_info(op, rule);
  const int64_t step = next_step(op, state);
  check_hyper(op, "beta_1", beta_1, 0.0, 1.0);
  check_hyper(op, "beta_2", beta_2, 0.0, 1.0);
  check_hyper(op, "epsilon", epsilon, 0.0, HUGE_VAL);
  check_hyper(op, "rho", rho, 0.0, 1.0);
  TL_CHECK(!amsgrad || info.rule == kernels::OptimRule::Adam, op, "amsgrad applies to adam only, not ", rule);
  TL_CHECK(weight_decay.empty() || weight_decay.size() == params.size(), op, weight_decay.size(),
           " weight decay factors for ", params.size(), " params");
  for (size_t i = 0; i < weight_decay.size(); ++i) check_hyper(op, "weight_decay", weight_decay[i], 0.0, HUGE_VAL);
  kernels::ClipKind clip_kind = kernels::ClipKind::None;
  if (clip == "norm") clip_kind = kernels::ClipKind::Norm;
  else if (clip == "global_norm") clip_kind = kernels::ClipKind::GlobalNorm;
  else if (clip == "value") clip_kind = kernels::ClipKind::Value;
  else TL_CHECK(clip.empty(), op, "unknown clip '", clip, "': expected '', 'norm', 'global_norm' or 'value'");
  if (clip_kind != kernels::ClipKind::None) {
    TL_CHECK(std::isfinite(clip_value) && clip_value > 0.0, op, "clip_value must be a finite number > 0, got ",
             clip_value);
  }
  const int used = info.slots + (amsgrad ? 1 : 0);
  const char* when = "by this rule";
  const std::vector<SlotList> slots{{"slot0", use_if(used >= 1, op, "slot0", slot0, when)},
                                    {"slot1", use_if(used >= 2, op, "slot1", slot1, when)},
                                    {"slot2", use_if(used >= 3, op, "slot2", slot2, when)}};
  const auto tensors = prepare(op, params, grads, slots);
  std::vector<double> decay;  // the factors of the active params, in the kernel's order
  if (!weight_decay.empty()) {
    const Grads* g = grads ? &*grads : nullptr;
    for (size_t i = 0; i < params.size(); ++i)
      if (g ? (*g)[i].has_value() : params[i].grad().defined()) decay.push_back(weight_decay[i]);
  }
  kernels::CatalogHyper base;
  base.beta_1 = beta_1;
  base.beta_2 = beta_2;
  base.epsilon = epsilon;
  base.rho = rho;
  base.amsgrad = amsgrad;
  base.clip = clip_kind;
  base.clip_value = clip_value;
  const kernels::OptimRule rule_kind = info.rule;
  // One step at (lr, step): also what a captured step's replay runs (lower_step).
  auto run = [base, rule_kind, decay, state](const std::vector<kernels::OptimTensor>& ts, double lr, int64_t t) {
    kernels::CatalogHyper h = base;
    h.lr = lr;
    h.step = t;
    h.u_product = state->u_product;
    if (rule_kind == kernels::OptimRule::Nadam) h.u_product *= h.beta_1 * (1.0 - 0.5 * std::pow(0.96, double(t)));
    kernels::catalog_step(rule_kind, ts, h, decay);
    state->u_product = h.u_product;
  };
  run(tensors, state->learning_rate, step);
  state->iterations = step;
  lower_step(op, params, grads, tensors, slots, state, run);
}

}  // namespace tl::optim
