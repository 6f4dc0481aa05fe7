#include "capture/recorder.h"
#include "autograd/saved_tensor.h"
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

OpScope::~OpScope() {
  --st_.depth;
  if (!entry_) return;
  st_.entry = nullptr;
  // An op that raised is not part of the step (the caller saw the exception).
  if (std::uncaught_exceptions() > uncaught_) return;
  st_.plan->entries.push_back(std::move(*entry_));
}

void OpScope::begin(std::string op, std::function<void()> run, std::vector<Tensor> inputs) {
  entry_.reset(new Entry{std::move(op), std::move(run), std::move(inputs), {}, GradMode::is_enabled()});
  uncaught_ = std::uncaught_exceptions();
  st_.entry = entry_.get();
}

void Plan::replay() {
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
  for (const Entry& e : entries) {
    st.replaying = &e;
    st.next_alloc = 0;
    GradModeGuard mode(e.grad_mode);
    e.run();
    if (st.next_alloc != e.allocs.size())
      throw ReplayMismatch(str_cat("[capture] replay of ", e.op, " made ", st.next_alloc, " allocations, recorded ",
                                   e.allocs.size(), " (the step's shapes depend on the data?)"));
  }
}

size_t Plan::arena_bytes() const {
  size_t n = 0;
  for (const Entry& e : entries)
    for (const auto& a : e.allocs) n += a->nbytes;
  return n;
}

}  // namespace tl::capture
