// The elementwise_chain rewrite (capture/rewrite.h): a run of consecutive entries made only of
// elementwise kernels over one element count n (each kernel logged with its chunk form,
// capture/elementwise_log.h: unary, binary, comparisons, where, casts, fills, a random uniform
// fill) becomes one entry that walks the n elements in chunks of kChunk and runs every kernel of
// the run on a chunk before going on to the next, each with the kernel's own loop, so every
// value is bit for bit the separate kernels' one (an elementwise result depends on its element
// alone). One-element kernels of the run (the 0-d constants a where or a scale reads) run once
// first. A buffer the run writes that no later entry reads, not returned nor a .grad (the proof
// of the other rewrites, Readers), then lives in a per-thread chunk scratch: the arena no longer
// holds it. Large n splits the chunks over the thread pool, as the separate kernels split their
// elements, and the values do not depend on the split.
#include <algorithm>
#include <cstring>
#include "capture/rewrite_util.h"
#include "kernels/parallel.h"

namespace tl::capture::rewrite {
namespace {

// Elements per chunk: a multiple of every SIMD width and of a Philox block's values. A float32
// buffer's chunk is 16 KB, so a chain's chunks stay in L2 (512 KB here); 2048 kept them in L1
// but each chunk costs every kernel a call (views, dispatch, loop setup), which measured slower
// on Dropout's chain (2-core EPYC, 128 x 512 float32).
constexpr int64_t kChunk = 4096;

// Where one operand of a kernel of the chain is at replay.
struct Slot {
  std::shared_ptr<Storage> storage;  // null: the chunk scratch, at `offset`
  size_t offset = 0;                 // bytes into the storage (or into the scratch)
  size_t itemsize = 0;
  bool broadcast = false;
};
struct Step {
  ElementwisePtr call;
  std::vector<Slot> slots;
  bool once = false;  // a one-element kernel, run before the chunks
};

// The fused entry's replay.
struct Chain {
  int64_t n = 0;
  std::vector<Step> steps;
  size_t scratch_bytes = 0;
  size_t operands = 0;  // of all steps

  void operator()() const {
    for (const Step& s : steps)
      if (s.call->prepare) s.call->prepare();
    // Each operand's memory at this replay (buffers move when the arena is shared).
    constexpr size_t kInline = 64;
    char* inline_base[kInline];
    std::vector<char*> heap_base;
    char** base = inline_base;
    if (operands > kInline) {
      heap_base.resize(operands);
      base = heap_base.data();
    }
    size_t at = 0;
    for (const Step& s : steps) {
      void* p[16];
      for (size_t k = 0; k < s.slots.size(); ++k, ++at) {
        const Slot& o = s.slots[k];
        base[at] = o.storage ? static_cast<char*>(o.storage->data) + o.offset : nullptr;
        p[k] = base[at];
      }
      if (s.once) s.call->chunk(p, 0, 1);
    }
    const int64_t chunks = (n + kChunk - 1) / kChunk;
    auto run = [&](int64_t c0, int64_t c1) {
      thread_local std::vector<unsigned char> scratch_memory;
      if (scratch_memory.size() < scratch_bytes + 64) scratch_memory.resize(scratch_bytes + 64);
      auto* scratch = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(scratch_memory.data()) + 63) & ~uintptr_t(63));
      void* p[16];
      for (int64_t c = c0; c < c1; ++c) {
        const int64_t b = c * kChunk, m = std::min(kChunk, n - b);
        size_t i = 0;
        for (const Step& s : steps) {
          if (!s.once) {
            for (size_t k = 0; k < s.slots.size(); ++k) {
              const Slot& o = s.slots[k];
              p[k] = !o.storage ? scratch + o.offset : o.broadcast ? base[i + k] : base[i + k] + b * int64_t(o.itemsize);
            }
            s.call->chunk(p, b, m);
          }
          i += s.slots.size();
        }
      }
    };
    if (n >= kParallelElementThreshold) parallel_for(0, chunks, kParallelElementThreshold / 2 / kChunk, run);
    else run(0, chunks);
  }
};

// The element count of an entry's kernels when every one of them is elementwise and has n or one
// element(s); 0 otherwise.
int64_t chain_numel(const Entry& e) {
  if (!e.lowered || e.fused || e.kernels.empty() || e.elementwise.size() != e.kernels.size()) return 0;
  int64_t n = 0;
  for (const ElementwisePtr& c : e.elementwise) {
    if (!c || c->numel <= 0 || c->operands.size() > 16) return 0;
    n = std::max(n, c->numel);
  }
  for (const ElementwisePtr& c : e.elementwise)
    if (c->numel != n && c->numel != 1) return 0;
  return n;
}

// The Storage of `e`'s (its buffers, what its kernels read, its tensor arguments) holding p.
std::shared_ptr<Storage> storage_of(const Entry& e, const void* p) {
  const auto* q = static_cast<const unsigned char*>(p);
  auto in = [q](const std::shared_ptr<Storage>& s) {
    const auto* b = static_cast<const unsigned char*>(s ? s->data : nullptr);
    return b && q >= b && q < b + s->nbytes;
  };
  for (const auto& s : e.allocs)
    if (in(s)) return s;
  for (const auto& s : e.read_storages)
    if (in(s)) return s;
  for (const Tensor& t : e.inputs)
    if (in(t.storage())) return t.storage();
  return nullptr;
}

// Runs `chain` on the recorded inputs and checks that it rewrites the bytes the separate kernels
// wrote (each output buffer is poisoned first); the buffers get their bytes back either way.
bool rebuilds(const Chain& chain, const std::vector<std::shared_ptr<Storage>>& written) {
  std::vector<std::vector<unsigned char>> saved;
  for (const auto& s : written) {
    const auto* b = static_cast<const unsigned char*>(s->data);
    saved.emplace_back(b, b + s->nbytes);
    std::memset(s->data, 0xA5, s->nbytes);
  }
  bool same = true;
  try {
    chain();
  } catch (...) {
    same = false;
  }
  for (size_t i = 0; i < written.size(); ++i) {
    same = same && std::memcmp(written[i]->data, saved[i].data(), saved[i].size()) == 0;
    std::memcpy(written[i]->data, saved[i].data(), saved[i].size());
  }
  return same;
}

// Builds the fused entry for entries [i, j) with n elements; false when an operand cannot be
// placed (the plan is then left as it was).
bool fuse_run(Plan& p, const Readers& rd, size_t i, size_t j, int64_t n) {
  Chain chain;
  chain.n = n;
  std::vector<std::shared_ptr<Storage>> allocs;  // of the run's entries
  for (size_t k = i; k < j; ++k) {
    const Entry& e = p.entries[k];
    allocs.insert(allocs.end(), e.allocs.begin(), e.allocs.end());
    for (const ElementwisePtr& c : e.elementwise) {
      Step s{c, {}, c->numel != n};
      for (const ElementwiseCall::Operand& o : c->operands) {
        std::shared_ptr<Storage> st = storage_of(e, o.data);
        if (!st) return false;
        s.slots.push_back({st, size_t(static_cast<const unsigned char*>(o.data) - static_cast<unsigned char*>(st->data)),
                           o.itemsize, o.broadcast});
      }
      chain.operands += s.slots.size();
      chain.steps.push_back(std::move(s));
    }
  }
  auto is_alloc = [&allocs](const Storage* s) {
    return std::any_of(allocs.begin(), allocs.end(), [s](const auto& a) { return a.get() == s; });
  };
  // A one-element kernel runs first: it may not read what a chunked kernel before it writes, nor
  // write what one reads.
  for (size_t a = 0; a < chain.steps.size(); ++a) {
    if (!chain.steps[a].once) continue;
    for (size_t b = 0; b < a; ++b) {
      if (chain.steps[b].once) continue;
      for (const Slot& o : chain.steps[a].slots)
        if (o.storage == chain.steps[b].slots[0].storage) return false;
      for (const Slot& o : chain.steps[b].slots)
        if (o.storage == chain.steps[a].slots[0].storage) return false;
    }
  }
  // Chunk c of a later kernel runs before chunk c+1 of an earlier one, so a buffer one kernel
  // writes must be reached by every chunked kernel at the same element: a written buffer seen
  // at another offset or element size (shifted views of one storage) is not fused. (The capture
  // check below would also refuse most such runs, but not those that draw random numbers.)
  // (One-element kernels run before every chunk; the loop above keeps them apart.)
  for (const Step& w : chain.steps) {
    if (w.once) continue;
    const Slot& out = w.slots[0];
    for (const Step& s : chain.steps)
      for (const Slot& o : s.slots)
        if (!s.once && o.storage == out.storage &&
            (o.offset != out.offset || o.itemsize != out.itemsize || o.broadcast != out.broadcast))
          return false;
  }
  // The buffers that move to the chunk scratch: made by the run, read by no later entry, seen by
  // no one outside, reached only by chunked kernels at one offset, written before being read.
  std::vector<const Storage*> candidates;
  for (const Step& s : chain.steps)
    for (const Slot& o : s.slots)
      if (std::find(candidates.begin(), candidates.end(), o.storage.get()) == candidates.end())
        candidates.push_back(o.storage.get());
  std::vector<std::shared_ptr<Storage>> scratch;
  for (const Storage* c : candidates) {
    if (!is_alloc(c) || rd.pinned.count(c) || rd.first_reader(c, j) < p.entries.size()) continue;
    bool ok = true, first = true;
    const Slot* seen = nullptr;
    for (const Step& s : chain.steps)
      for (size_t k = 0; k < s.slots.size() && ok; ++k) {
        const Slot& o = s.slots[k];
        if (o.storage.get() != c) continue;
        ok = !s.once && !o.broadcast && (first ? k == 0 : o.offset == seen->offset && o.itemsize == seen->itemsize);
        first = false;
        seen = &o;
      }
    for (size_t k = i; k < j && ok; ++k)
      for (const auto& v : p.entries[k].visible) ok = ok && v.get() != c;
    if (ok) scratch.push_back(std::find_if(allocs.begin(), allocs.end(), [c](const auto& a) { return a.get() == c; })[0]);
  }
  size_t off = 0;
  for (const auto& s : scratch) {
    size_t itemsize = 0;
    for (Step& st : chain.steps)
      for (Slot& o : st.slots)
        if (o.storage == s) {
          itemsize = o.itemsize;
          o.storage = nullptr;
          o.offset = off;
        }
    off += (size_t(kChunk) * itemsize + 63) / 64 * 64;
  }
  chain.scratch_bytes = off;
  auto in_scratch = [&scratch](const Storage* s) {
    return std::any_of(scratch.begin(), scratch.end(), [s](const auto& a) { return a.get() == s; });
  };
  // What the fused entry writes and reads (for liveness), the buffers it keeps.
  std::vector<std::shared_ptr<Storage>> written, reads;
  for (const Step& s : chain.steps)
    for (size_t k = 0; k < s.slots.size(); ++k) {
      const auto& st = s.slots[k].storage;
      auto& list = k == 0 ? written : reads;
      if (st && std::find(list.begin(), list.end(), st) == list.end()) list.push_back(st);
    }
  const bool draws = std::any_of(chain.steps.begin(), chain.steps.end(), [](const Step& s) { return bool(s.call->prepare); });
  // A chain that draws random numbers cannot run here without advancing its generator; the
  // others are checked against the bytes the separate kernels wrote.
  if (!draws && !rebuilds(chain, written)) return false;

  std::string name;
  std::vector<const Entry*> from;
  for (size_t k = i; k < j; ++k) {
    name += (k > i ? "+" : "") + p.entries[k].op;
    from.push_back(&p.entries[k]);
  }
  Entry f = fused_entry(name, chain, {}, from);
  f.allocs.erase(std::remove_if(f.allocs.begin(), f.allocs.end(), [&](const auto& a) { return in_scratch(a.get()); }),
                 f.allocs.end());
  f.inputs.erase(std::remove_if(f.inputs.begin(), f.inputs.end(),
                                [&](const Tensor& t) { return !t.defined() || in_scratch(t.storage().get()); }),
                 f.inputs.end());
  f.read_storages = reads;
  for (const Entry* e : from)
    for (const Tensor& t : e->outputs)
      if (t.defined() && !in_scratch(t.storage().get())) f.outputs.push_back(t);
  p.entries[i] = std::move(f);
  p.entries.erase(p.entries.begin() + static_cast<std::ptrdiff_t>(i) + 1, p.entries.begin() + static_cast<std::ptrdiff_t>(j));
  return true;
}

}  // namespace

bool elementwise_chain(Plan& p, const Readers& rd) {
  for (size_t i = 0; i < p.entries.size();) {
    int64_t n = chain_numel(p.entries[i]);
    if (n == 0) {
      ++i;
      continue;
    }
    // The maximal run from i: entries of n elements, or of one-element kernels only.
    size_t j = i + 1;
    for (; j < p.entries.size(); ++j) {
      const int64_t m = chain_numel(p.entries[j]);
      if (m == 0 || (m != n && m != 1 && n != 1)) break;
      n = std::max(n, m);
    }
    size_t chunked = 0;
    for (size_t k = i; k < j; ++k)
      for (const ElementwisePtr& c : p.entries[k].elementwise) chunked += c->numel == n;
    if (chunked >= 2 && fuse_run(p, rd, i, j, n)) return true;
    i = j;
  }
  return false;
}

}  // namespace tl::capture::rewrite
