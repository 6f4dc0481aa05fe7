// What the rewrite passes (capture/rewrite.cpp, capture/elementwise_chain.cpp) share: which
// entries read a buffer after a given one, and the shell of a fused entry.
#pragma once
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>
#include "capture/recorder.h"

namespace tl::capture::rewrite {

using Storages = std::vector<const Storage*>;

// What each entry reads, as Storages; `unknown` for an entry whose reads no list names (a
// backward call that re-runs as its op without describing what it saved).
struct Readers {
  std::vector<Storages> reads;
  std::vector<bool> unknown;
  std::unordered_set<const Storage*> pinned;  // the step's outputs and .grad buffers

  Readers(const Plan& p, const std::vector<Tensor>& visible);
  // The first entry from `from` on that reads s (or has unknown reads); reads.size() if none.
  size_t first_reader(const Storage* s, size_t from) const;
  // Whether, from entry `from` on, only entry `only` reads s, and s is not seen outside the plan.
  bool only_reader(const Storage* s, size_t only, size_t from) const;
};

// A fused entry: lowered, replaying `k`, reading `reads`, owning the buffers of `from`.
Entry fused_entry(std::string op, std::function<void()> k, const std::vector<Tensor>& reads,
                  const std::vector<const Entry*>& from);

// The rewrite of elementwise_chain.cpp (listed in rewrite.h); true when it fired.
bool elementwise_chain(Plan& p, const Readers& rd);

}  // namespace tl::capture::rewrite
