// The built-in optimizers' fused steps as ops: every parameter, gradient and slot validated
// (shapes, dtypes, contiguity, writability, no written buffer overlapping another) before any
// write, then one multi-tensor kernel call (kernels/optim.h) for the whole step.
//
// The learning rate and the step count live in a StepState that the Python optimizer owns and
// the step reads and advances (iterations += 1 after the update), so a captured step replayed N
// times runs steps t, t+1, ..., and a learning rate changed between steps is honoured.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "core/tensor.h"

namespace tl::optim {

struct StepState {
  double learning_rate = 0.0;
  int64_t iterations = 0;  // steps applied so far; a step uses t = iterations + 1
  double u_product = 1.0;  // Nadam: the product of its momentum schedule over the steps applied
};

using Tensors = std::vector<Tensor>;
using Grads = std::vector<std::optional<Tensor>>;  // nullopt: that parameter has no gradient this step
using OptGrads = std::optional<Grads>;              // nullopt: each parameter's .grad, read at call time

// p -= lr*g, or with momentum m = m*momentum - lr*g; p += m (nesterov: p += m*momentum - lr*g).
// `momentums` is empty when momentum == 0.
void sgd_step(const Tensors& params, const OptGrads& grads, const Tensors& momentums, double momentum, bool nesterov,
              const std::shared_ptr<StepState>& state);
// `momentums` empty when momentum == 0, `averages` empty unless centered.
void rmsprop_step(const Tensors& params, const OptGrads& grads, const Tensors& velocities, const Tensors& momentums,
                  const Tensors& averages, double rho, double momentum, double epsilon, bool centered,
                  const std::shared_ptr<StepState>& state);
void adam_step(const Tensors& params, const OptGrads& grads, const Tensors& ms, const Tensors& vs, double beta_1,
               double beta_2, double epsilon, const std::shared_ptr<StepState>& state);

// One step of a catalog rule (kernels/optim.h: OptimRule) named by `rule`: "adam", "adagrad",
// "adadelta", "adamax", "nadam" or "lion", with that rule's slot lists (1 to 3; the rest empty)
// and hyperparameters (those a rule does not use are ignored). `weight_decay`: one factor per
// param (0: none), or empty. `clip`: "" (none), "norm", "global_norm" or "value", Keras's clipping
// of the gradients by `clip_value` as the update reads them. Nadam reads and advances
// state->u_product.
void catalog_step(const std::string& rule, const Tensors& params, const OptGrads& grads, const Tensors& slot0,
                  const Tensors& slot1, const Tensors& slot2, double beta_1, double beta_2, double epsilon, double rho,
                  bool amsgrad, const std::vector<double>& weight_decay, const std::string& clip, double clip_value,
                  const std::shared_ptr<StepState>& state);

// Total elements of the parameters (callers decide whether to release the GIL).
int64_t total_elements(const Tensors& params);

}  // namespace tl::optim
