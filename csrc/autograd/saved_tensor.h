// SavedTensor: a tensor a graph node keeps for its backward, with the storage version it had
// when it was saved. Unpacking it checks the version: an in-place write since then (a `w -= lr*g`
// under no_grad, `v *= 10`, an optimizer step) would make the backward silently use the new
// values, so it raises instead, naming the node and both versions (PyTorch's rule).
//
// Nodes hold SavedTensor members and read them only through unpack(), so no use can skip the
// check. Outputs are saved detached, like inputs but without history (an output holds its node:
// keeping its grad_fn would be a reference cycle).
#pragma once
#include <cstdint>
#include "core/tensor.h"

namespace tl {

// Thread-local switch for the version check. Only for the captured-step replay, which re-runs a
// recorded backward after the optimizer has (legitimately) bumped the weights' versions; every
// other caller wants the check.
struct VersionChecks {
  static bool skipped();
  static void set_skipped(bool skip);
};

// RAII: skips version checks on this thread for a scope, restoring the previous state.
class SkipVersionChecks {
 public:
  SkipVersionChecks() : prev_(VersionChecks::skipped()) { VersionChecks::set_skipped(true); }
  ~SkipVersionChecks() { VersionChecks::set_skipped(prev_); }
  SkipVersionChecks(const SkipVersionChecks&) = delete;
  SkipVersionChecks& operator=(const SkipVersionChecks&) = delete;

 private:
  bool prev_;
};

class SavedTensor {
 public:
  SavedTensor() = default;
  // Saves an input as it is (its grad_fn is needed for create_graph). A view is saved without its
  // link to the base: a node saving a view of the tensor it becomes the history of (`z *= z[0]`)
  // would otherwise own itself through view -> base -> grad_fn.
  SavedTensor& operator=(const Tensor& t) {
    tensor_ = t.defined() && t.is_view() ? strip_view(t) : t;
    version_ = t.defined() ? t.version() : 0;
    return *this;
  }
  // Saves an op's output: detached (no grad_fn), same storage, so its version is checked too.
  void save_output(const Tensor& out) {
    tensor_ = out.detach();
    version_ = out.version();
  }
  bool defined() const { return tensor_.defined(); }
  void reset() { tensor_ = Tensor(); }
  // The tensor, after checking that nothing wrote into it since it was saved. `node` names the
  // node in the error.
  const Tensor& unpack(const char* node) const {
    if (tensor_.defined() && tensor_.version() != version_ && !VersionChecks::skipped()) raise_modified(node);
    return tensor_;
  }

 private:
  static Tensor strip_view(const Tensor& t);
  [[noreturn]] void raise_modified(const char* node) const;

  Tensor tensor_;
  uint32_t version_ = 0;
};

}  // namespace tl
