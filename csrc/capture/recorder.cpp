#include "capture/recorder.h"
#include "capture/segments.h"
#include "autograd/saved_tensor.h"
#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_map>
#include <exception>
#include <stdexcept>
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

void note_python_read(const char* what) {
  ThreadState& st = state();
  if (st.plan && st.depth == 0 && st.host_access == 0 && st.plan->python_read.empty()) st.plan->python_read = what;
}

void set_host_access(bool on) {
  ThreadState& st = state();
  TL_CHECK(on || st.host_access > 0, "capture", "host_access(False) without host_access(True)");
  st.host_access += on ? 1 : -1;
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

// The Storages a plan holds (its arena and its ops' input tensors), searched by address (at
// capture only: a linear scan is cheap next to running the step).
class StorageIndex {
 public:
  void add(const std::shared_ptr<Storage>& s) {
    if (s && s->data && s->nbytes) items_.push_back(s);
  }
  void add_plan(const Plan& p) {
    for (const Entry& e : p.entries) add_entry(e);
  }
  void add_entry(const Entry& e) {
    for (const auto& a : e.allocs) add(a);
    for (const Tensor& t : e.inputs) add(t.storage());
  }
  // The Storage whose bytes hold `p`, or null.
  std::shared_ptr<Storage> find(const void* p) const {
    const auto* q = static_cast<const unsigned char*>(p);
    for (const auto& s : items_) {
      const auto* b = static_cast<const unsigned char*>(s->data);
      if (q >= b && q < b + s->nbytes) return s;
    }
    return nullptr;
  }

 private:
  std::vector<std::shared_ptr<Storage>> items_;
};

// Resolves the entry's read pointers to Storages the plan holds; false when one lies elsewhere
// (scratch that dies with its op: the entry must not replay from its kernel log).
bool resolve_reads(const Plan& p, Entry& e) {
  if (e.reads.empty()) return true;
  StorageIndex idx;
  idx.add_plan(p);
  idx.add_entry(e);
  e.read_storages.clear();
  for (const void* r : e.reads) {
    if (!r) continue;
    std::shared_ptr<Storage> s = idx.find(r);
    if (!s) return false;
    if (std::find(e.read_storages.begin(), e.read_storages.end(), s) == e.read_storages.end())
      e.read_storages.push_back(std::move(s));
  }
  return true;
}

void finalize(const Plan& p, Entry& e) {
  if (e.explicit_) {
    e.lowered = true;
  } else if (!e.opaque && !e.kernels.empty()) {
    e.lowered = resolve_reads(p, e) && kernels_rebuild(e);
  }
  if (!e.lowered) {
    e.kernels.clear();
    e.elementwise.clear();
    e.reads.clear();
    e.read_storages.clear();
  }
}

}  // namespace

void opaque() {
  ThreadState& st = state();
  if (st.entry) st.entry->opaque = true;
}

void record_check(std::function<void()> check, std::vector<const void*> reads) {
  ThreadState& st = state();
  if (st.entry && st.kernel_depth == 0 && !st.entry->opaque) {
    st.entry->kernels.push_back(check);
    st.entry->elementwise.push_back(nullptr);
    st.entry->reads.insert(st.entry->reads.end(), reads.begin(), reads.end());
  }
  check();
}

void lower(std::function<void()> k, std::vector<const void*> reads, ElementwisePtr ew) {
  ThreadState& st = state();
  if (!st.entry) return;
  st.entry->kernels.assign(1, std::move(k));
  st.entry->elementwise.assign(1, std::move(ew));
  st.entry->reads = std::move(reads);
  st.entry->explicit_ = true;
}

KernelScope::KernelScope() : st_(state()) {
  records_ = st_.kernel_depth++ == 0 && st_.entry != nullptr && !st_.entry->opaque;
}
KernelScope::~KernelScope() { --st_.kernel_depth; }

void keep_visible(const Tensor& t) {
  ThreadState& st = state();
  if (st.entry && t.defined()) st.entry->visible.push_back(t.storage());
}

long described_refs(const Tensor& t) {
  const ThreadState& st = state();
  long n = 0;
  if (!st.plan || !t.defined()) return 0;
  auto count = [&](const Entry& e) {
    for (const Tensor& o : e.outputs) n += o.defined() && o.impl_ptr() == t.impl_ptr();
  };
  for (const Entry& e : st.plan->entries) count(e);
  if (st.entry) count(*st.entry);
  return n;
}

void describe(std::vector<Tensor> outputs, std::vector<Tensor> saved, int64_t attr) {
  ThreadState& st = state();
  if (!st.entry || st.depth != 1) return;  // only the outermost call's own body describes it
  st.entry->described = true;
  st.entry->outputs = std::move(outputs);
  st.entry->saved = std::move(saved);
  st.entry->attr = attr;
}

void KernelScope::record(const void* const* outs, size_t n, const void* const* reads, size_t m,
                         std::function<void()> k, ElementwisePtr ew) {
  Entry& e = *st_.entry;
  for (size_t i = 0; i < n; ++i)
    if (outs[i] && !owned_by(e, outs[i])) {  // writes a buffer from before the entry: an in-place write
      e.opaque = true;
      e.kernels.clear();
      e.elementwise.clear();
      return;
    }
  e.kernels.push_back(std::move(k));
  e.elementwise.push_back(std::move(ew));
  e.reads.insert(e.reads.end(), reads, reads + m);
}

OpScope::~OpScope() {
  --st_.depth;
  if (!entry_) return;
  st_.entry = nullptr;
  // An op that raised is not part of the step (the caller saw the exception).
  if (std::uncaught_exceptions() > uncaught_) return;
  finalize(*st_.plan, *entry_);
  st_.plan->entries.push_back(std::move(*entry_));
}

void OpScope::begin(std::string op, std::function<void()> run, std::vector<Tensor> inputs) {
  entry_ = std::make_unique<Entry>();
  entry_->op = std::move(op);
  entry_->run = std::move(run);
  entry_->inputs = std::move(inputs);
  entry_->grad_mode = GradMode::is_enabled();
  uncaught_ = std::uncaught_exceptions();
  st_.entry = entry_.get();
}

namespace {

// Re-runs an entry's op into its recorded buffers (the thread state says a replay is on).
void run_as_op(ThreadState& st, const Entry& e) {
  st.replaying = &e;
  st.next_alloc = 0;
  GradModeGuard mode(e.grad_mode);
  e.run();
  if (st.next_alloc != e.allocs.size())
    throw ReplayMismatch(str_cat("[capture] replay of ", e.op, " made ", st.next_alloc, " allocations, recorded ",
                                 e.allocs.size(), " (the step's shapes depend on the data?)"));
  st.replaying = nullptr;
}

// Runs one entry of a replay.
void replay_entry(ThreadState& st, const Entry& e) {
  if (e.lowered) {  // the kernel calls alone, into the recorded buffers
    for (const auto& k : e.kernels) k();
    return;
  }
  run_as_op(st, e);
}

// Calls f(thread state, entry index, entry) for entries [begin, end) inside the replay's guards.
template <class F>
void replay_each(const Plan& p, size_t begin, size_t end, F&& f) {
  if (begin > end || end > p.entries.size())
    throw std::out_of_range(str_cat("[capture] replay_range: entries [", begin, ", ", end, ") of a plan of ",
                             p.entries.size()));
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
  for (size_t i = begin; i < end; ++i) f(st, i, p.entries[i]);
}
template <class F>
void replay_each(const Plan& p, F&& f) {
  replay_each(p, 0, p.entries.size(), std::forward<F>(f));
}

}  // namespace

// A replay in segments (a data-parallel step) never moves shared buffers: they move at the
// first whole replay, and until then the plan runs on its unshared buffers.
void replay_range(Plan& plan, size_t begin, size_t end) {
  replay_each(plan, begin, end, [](ThreadState& st, size_t, const Entry& e) { replay_entry(st, e); });
}

void Plan::replay() {
  if (relayout_pending_) {
    relayout();
    return;
  }
  replay_range(*this, 0, entries.size());
}

std::vector<double> Plan::profile(int reps) {
  std::vector<std::vector<double>> t(entries.size());
  for (int r = 0; r < reps; ++r)
    replay_each(*this, [&t](ThreadState& st, size_t i, const Entry& e) {
      const auto t0 = std::chrono::steady_clock::now();
      replay_entry(st, e);
      t[i].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    });
  std::vector<double> med;
  for (auto& v : t) {
    std::sort(v.begin(), v.end());
    med.push_back(v.empty() ? 0.0 : v[v.size() / 2]);
  }
  return med;
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

namespace {

// Each arena buffer's live range in entry order: from the entry that allocates it to the last
// entry that reads it. An op replayed as its op (not lowered) reads its tensor arguments; a
// backward node's call replayed so has unknown reads: every buffer allocated before one lives at
// least until it. `pinned` buffers never share memory: the
// caller's `visible` ones, leaves' .grad buffers, and what explicit lowerings read (their closures
// may hold raw pointers that a move would leave behind).
struct Liveness {
  std::vector<std::shared_ptr<Storage>> bufs;
  std::vector<size_t> first, last;
  std::vector<bool> pinned;

  Liveness(const std::vector<Entry>& entries, const std::vector<Tensor>& visible) {
    std::unordered_map<const Storage*, size_t> id;
    size_t last_opaque = 0;
    bool any_opaque = false;
    for (size_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      for (const auto& a : e.allocs) {
        if (id.count(a.get())) continue;
        id.emplace(a.get(), bufs.size());
        bufs.push_back(a);
        first.push_back(i);
        last.push_back(i);
        pinned.push_back(false);
      }
      if (!e.lowered && !e.op_call) {
        any_opaque = true;
        last_opaque = i;
      }
    }
    auto pin = [&](const Storage* s) {
      auto it = id.find(s);
      if (it != id.end()) pinned[it->second] = true;
    };
    for (const Tensor& t : visible)
      if (t.defined()) pin(t.storage().get());
    StorageIndex arena;
    for (const auto& b : bufs) arena.add(b);
    for (size_t i = 0; i < entries.size(); ++i) {
      const Entry& e = entries[i];
      for (const auto& v : e.visible) pin(v.get());
      if (!e.lowered) {
        for (const Tensor& t : e.inputs) {  // an op_call (others took the rule below)
          auto it = id.find(t.storage().get());
          if (it != id.end()) last[it->second] = std::max(last[it->second], i);
        }
        continue;
      }
      if (e.explicit_) {
        for (const void* r : e.reads)
          if (std::shared_ptr<Storage> s = r ? arena.find(r) : nullptr) pin(s.get());
        continue;
      }
      for (const auto& s : e.read_storages) {  // resolved when the entry was recorded
        auto it = id.find(s.get());
        if (it != id.end()) last[it->second] = std::max(last[it->second], i);  // else an input, a weight
      }
    }
    if (any_opaque)
      for (size_t k = 0; k < bufs.size(); ++k)
        if (first[k] < last_opaque) last[k] = std::max(last[k], last_opaque);
  }
};

size_t round_up(size_t n) { return (n + 63) / 64 * 64; }

}  // namespace

size_t Plan::share_buffers(const std::vector<Tensor>& visible) {
  if (relayout_pending_ || slab_) return arena_bytes();  // shared once
  Liveness live(entries, visible);
  // Greedy by size (largest first), each at the lowest offset free of every placed buffer whose
  // live range meets its own (TFLite's arena planner does the same).
  std::vector<size_t> order;
  for (size_t k = 0; k < live.bufs.size(); ++k)
    if (!live.pinned[k] && live.bufs[k]->nbytes > 0) order.push_back(k);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return live.bufs[a]->nbytes > live.bufs[b]->nbytes; });
  std::vector<size_t> offset(live.bufs.size(), 0);
  std::vector<size_t> placed;
  size_t slab = 0;
  for (size_t k : order) {
    std::vector<std::pair<size_t, size_t>> busy;  // byte ranges of placed buffers alive with k
    for (size_t j : placed)
      if (live.first[j] <= live.last[k] && live.first[k] <= live.last[j])
        busy.emplace_back(offset[j], offset[j] + round_up(live.bufs[j]->nbytes));
    std::sort(busy.begin(), busy.end());
    size_t off = 0, need = round_up(live.bufs[k]->nbytes);
    for (const auto& [b, e] : busy) {
      if (off + need <= b) break;
      off = std::max(off, e);
    }
    offset[k] = off;
    placed.push_back(k);
    slab = std::max(slab, off + need);
  }
  size_t moved = 0;
  for (size_t k : order) moved += live.bufs[k]->nbytes;
  if (slab >= moved) return arena_bytes();  // nothing to gain
  moves_.clear();
  for (size_t k : order) moves_.push_back({live.bufs[k], offset[k], live.last[k]});
  slab_bytes_ = slab;
  relayout_pending_ = true;
  return arena_bytes();
}

// The replay that moves the shared buffers into the slab. Every lowered entry's kernels hold raw
// pointers, so each such entry first drops its log (replaying as its op from here on if anything
// below throws), then re-runs its op once against the new addresses with its kernels logged again,
// and the poison and read checks run again before it is lowered.
void Plan::relayout() {
  relayout_pending_ = false;
  std::vector<bool> relog(entries.size(), false);
  std::vector<std::vector<std::shared_ptr<Storage>>> was_read(entries.size());
  for (size_t i = 0; i < entries.size(); ++i)
    if (Entry& e = entries[i]; e.lowered && !e.explicit_ && !e.fused) {  // fused: reach memory by handles
      relog[i] = true;
      e.lowered = false;
      e.kernels.clear();
      e.elementwise.clear();
      e.reads.clear();
      was_read[i] = std::move(e.read_storages);
      e.read_storages.clear();
    }
  std::vector<const Storage*> moved;
  for (const Move& m : moves_) moved.push_back(m.storage.get());
  StorageIndex still;  // what did not move: addresses there are unambiguous
  for (const Entry& e : entries) {
    for (const auto& a : e.allocs)
      if (std::find(moved.begin(), moved.end(), a.get()) == moved.end()) still.add(a);
    for (const Tensor& t : e.inputs) still.add(t.storage());
  }
  // The moved buffers' own memory goes first (this replay rewrites each before any read), so the
  // slab never coexists with them: the step's peak memory does not grow by the slab.
  for (const Move& m : moves_) {
    m.storage->owner.reset();
    m.storage->data = nullptr;
  }
  try {
    slab_ = Storage::allocate(std::max<size_t>(slab_bytes_, 1));
  } catch (...) {  // out of memory: each buffer gets memory of its own again, unshared
    for (const Move& m : moves_) {
      auto own = Storage::allocate(m.storage->nbytes);
      m.storage->data = own->data;
      m.storage->owner = own;
    }
    moves_.clear();
    throw;
  }
  std::shared_ptr<void> owner = slab_;
  for (const Move& m : moves_) {
    m.storage->data = static_cast<unsigned char*>(slab_->data) + m.offset;
    m.storage->owner = owner;
  }
  // Moved buffers overlap in memory, so a read address no longer names one buffer. The re-logged
  // reads of an entry must lie in what it read when recorded (those buffers are alive together,
  // so they do not overlap), its own buffers, or buffers that did not move.
  auto reads_as_recorded = [&still](const Entry& e, const std::vector<std::shared_ptr<Storage>>& before) {
    auto in = [](const std::shared_ptr<Storage>& s, const void* r) {
      const auto* b = static_cast<const unsigned char*>(s->data);
      const auto* q = static_cast<const unsigned char*>(r);
      return q >= b && q < b + s->nbytes;
    };
    for (const void* r : e.reads) {
      if (!r || still.find(r)) continue;
      bool ok = false;
      for (const auto& s : before) ok = ok || in(s, r);
      for (const auto& s : e.allocs) ok = ok || in(s, r);
      if (!ok) return false;
    }
    return true;
  };
  replay_each(*this, [this, &relog, &was_read, &reads_as_recorded](ThreadState& st, size_t i, const Entry&) {
    Entry& e = entries[i];
    if (!relog[i]) {  // explicit lowerings (their closures read nothing that moved), fusions, generic re-runs
      replay_entry(st, e);
      return;
    }
    st.entry = &e;  // its kernels log again (KernelScope), as while recording
    struct Clear {
      ThreadState& st;
      ~Clear() { st.entry = nullptr; }
    } clear{st};
    run_as_op(st, e);
    st.entry = nullptr;
    // The same op re-ran, so its kernels read what they read when recorded; anything else would
    // be a buffer placed by a live range that did not count this read.
    if (!e.opaque && !e.kernels.empty() && !reads_as_recorded(e, was_read[i]))
      throw RuntimeError(str_cat("[capture] internal error: ", e.op, " read a buffer outside its recorded reads "
                                 "after the arena's buffers were shared"));
    e.lowered = !e.opaque && !e.kernels.empty() && kernels_rebuild(e);
    if (e.lowered) {
      e.read_storages = std::move(was_read[i]);
    } else {
      e.kernels.clear();
      e.elementwise.clear();
      e.reads.clear();
    }
  });
  moves_.clear();
}

size_t Plan::unshared_bytes() const {
  size_t n = 0;
  for (const Entry& e : entries)
    for (const auto& a : e.allocs) n += a->nbytes;
  return n;
}

size_t Plan::arena_bytes() const {
  size_t n = slab_bytes_;
  for (const Entry& e : entries)
    for (const auto& a : e.allocs) {
      bool moved = false;
      for (const Move& m : moves_) moved = moved || m.storage == a;
      if (!moved && !(slab_ && a->owner == std::static_pointer_cast<void>(slab_))) n += a->nbytes;
    }
  return n;
}

}  // namespace tl::capture
