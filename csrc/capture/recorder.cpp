#include "capture/recorder.h"
#include "capture/segments.h"
#include "autograd/saved_tensor.h"
#include <cstring>
#include <exception>
#include "autograd/grad_mode.h"

namespace tl::capture {

ThreadState& state() {
  static thread_local ThreadState s;
  return s;
}

void begin_recording(Plan* plan) {
  ThreadState& st = state();
  if (st.plan || st.replaying || st.depth != 0)
    throw RuntimeError("[capture] cannot start recording inside another recording, a replay or an op");
  st.plan = plan;
}

void end_recording() {
  ThreadState& st = state();
  st.plan = nullptr;
  st.entry = nullptr;
}

std::shared_ptr<Storage> allocate(size_t nbytes, std::shared_ptr<Storage> (*fresh)(size_t)) {
  ThreadState& st = state();
  if (st.replaying) {
    const Entry& e = *st.replaying;
    if (st.next_alloc >= e.allocs.size())
      throw ReplayMismatch(str_cat("[capture] replay of ", e.op, " made more allocations than its recorded ",
                                   e.allocs.size(), " (the step's shapes depend on the data?)"));
    const std::shared_ptr<Storage>& s = e.allocs[st.next_alloc];
    if (s->nbytes != nbytes)
      throw ReplayMismatch(str_cat("[capture] replay of ", e.op, ": allocation ", st.next_alloc, " is ", nbytes,
                                   " bytes, recorded ", s->nbytes, " (the step's shapes depend on the data?)"));
    ++st.next_alloc;
    return s;
  }
  std::shared_ptr<Storage> s = fresh(nbytes);
  if (st.entry) st.entry->allocs.push_back(s);
  return s;
}

bool allocated_in_recording(const Storage* s) {
  const ThreadState& st = state();
  if (!st.plan) return false;
  for (const Entry& e : st.plan->entries)
    for (const auto& a : e.allocs)
      if (a.get() == s) return true;
  return false;
}

namespace {

bool owned_by(const Entry& e, const void* p) {
  const auto* q = static_cast<const unsigned char*>(p);
  for (const auto& a : e.allocs) {
    const auto* b = static_cast<const unsigned char*>(a->data);
    if (q >= b && q < b + a->nbytes) return true;
  }
  return false;
}

// Whether the entry's kernel log alone rewrites every byte of the entry's buffers as the op did:
// each buffer is filled with a poison pattern, the kernels re-run, the bytes compared, twice with
// two patterns (so a byte the kernels never write cannot match by luck); the op's bytes are put
// back either way. The kernels write nothing else (KernelScope::record saw to it).
bool kernels_rebuild(const Entry& e) {
  std::vector<std::vector<unsigned char>> saved;
  saved.reserve(e.allocs.size());
  for (const auto& a : e.allocs) {
    const auto* b = static_cast<const unsigned char*>(a->data);
    saved.emplace_back(b, b + a->nbytes);
  }
  bool same = true;
  for (unsigned char poison : {0xA5, 0x5A}) {
    for (const auto& a : e.allocs) std::memset(a->data, poison, a->nbytes);
    try {
      for (const auto& k : e.kernels) k();
    } catch (...) {
      same = false;
    }
    for (size_t i = 0; same && i < saved.size(); ++i)
      same = std::memcmp(e.allocs[i]->data, saved[i].data(), saved[i].size()) == 0;
    if (!same) break;
  }
  for (size_t i = 0; i < saved.size(); ++i) std::memcpy(e.allocs[i]->data, saved[i].data(), saved[i].size());
  return same;
}

void finalize(Entry& e) {
  if (e.explicit_) {
    e.lowered = true;
  } else if (!e.opaque && !e.kernels.empty()) {
    e.lowered = kernels_rebuild(e);
  }
  if (!e.lowered) e.kernels.clear();
}

}  // namespace

void opaque() {
  ThreadState& st = state();
  if (st.entry) st.entry->opaque = true;
}

void record_check(std::function<void()> check) {
  ThreadState& st = state();
  if (st.entry && st.kernel_depth == 0 && !st.entry->opaque) st.entry->kernels.push_back(check);
  check();
}

void lower(std::function<void()> k) {
  ThreadState& st = state();
  if (!st.entry) return;
  st.entry->kernels.assign(1, std::move(k));
  st.entry->explicit_ = true;
}

void KernelScope::record(const void* const* outs, size_t n, std::function<void()> k) {
  Entry& e = *st_.entry;
  for (size_t i = 0; i < n; ++i)
    if (outs[i] && !owned_by(e, outs[i])) {  // writes a buffer from before the entry: an in-place write
      e.opaque = true;
      e.kernels.clear();
      return;
    }
  e.kernels.push_back(std::move(k));
}

OpScope::~OpScope() {
  --st_.depth;
  if (!entry_) return;
  st_.entry = nullptr;
  // An op that raised is not part of the step (the caller saw the exception).
  if (std::uncaught_exceptions() > uncaught_) return;
  finalize(*entry_);
  st_.plan->entries.push_back(std::move(*entry_));
}

void OpScope::begin(std::string op, std::function<void()> run, std::vector<Tensor> inputs) {
  entry_.reset(new Entry{std::move(op), std::move(run), std::move(inputs), {}, GradMode::is_enabled()});
  uncaught_ = std::uncaught_exceptions();
  st_.entry = entry_.get();
}

void Plan::replay() { replay_range(*this, 0, entries.size()); }

void replay_range(Plan& plan, size_t begin, size_t end) {
  if (begin > end || end > plan.entries.size())
    throw std::out_of_range(str_cat("[capture] replay_range: entries [", begin, ", ", end, ") of a plan of ",
                             plan.entries.size()));
  ThreadState& st = state();
  if (st.plan || st.replaying || st.depth != 0)
    throw RuntimeError("[capture] cannot replay a plan inside a recording, a replay or an op");
  // The recorded backward calls passed their saved-tensor checks at capture; between replays the
  // plan's own optimizer step bumps the weights' versions, which is the plan's order, not a bug.
  SkipVersionChecks skip_versions;
  struct Reset {
    ThreadState& st;
    ~Reset() { st.replaying = nullptr; }
  } reset{st};
  for (size_t i = begin; i < end; ++i) {
    const Entry& e = plan.entries[i];
    if (e.lowered) {  // the kernel calls alone, into the recorded buffers
      for (const auto& k : e.kernels) k();
      continue;
    }
    st.replaying = &e;
    st.next_alloc = 0;
    GradModeGuard mode(e.grad_mode);
    e.run();
    if (st.next_alloc != e.allocs.size())
      throw ReplayMismatch(str_cat("[capture] replay of ", e.op, " made ", st.next_alloc, " allocations, recorded ",
                                   e.allocs.size(), " (the step's shapes depend on the data?)"));
    st.replaying = nullptr;
  }
}

std::vector<LeafGrad> leaf_grad_entries(const Plan& plan) {
  // record_leaf_grad (autograd/engine.cpp) logs {g, leaf} for "leaf_grad" (g lands in .grad) and
  // {g, own, leaf} for "leaf_grad_copy" (its copy `own` does).
  std::vector<LeafGrad> found;
  for (size_t i = 0; i < plan.entries.size(); ++i) {
    const Entry& e = plan.entries[i];
    if ((e.op == "leaf_grad" && e.inputs.size() == 2) || (e.op == "leaf_grad_copy" && e.inputs.size() == 3))
      found.push_back({i, e.inputs.back(), e.inputs[e.inputs.size() - 2]});
  }
  return found;
}

size_t Plan::lowered_entries() const {
  size_t n = 0;
  for (const Entry& e : entries) n += e.lowered;
  return n;
}

size_t Plan::arena_bytes() const {
  size_t n = 0;
  for (const Entry& e : entries)
    for (const auto& a : e.allocs) n += a->nbytes;
  return n;
}

}  // namespace tl::capture
