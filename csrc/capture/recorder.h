// Capture and replay of a step built from ops (tinygrad's TinyJit idea, in C++).
//
// While a Plan records on a thread, every OUTERMOST call of a public op (one made at depth 0, not
// from inside another op) appends an Entry: a closure re-calling the op with copies of its
// arguments (tensor handles, scalars, shapes...), plus the log of every Storage::allocate the
// call made. Replaying an entry re-runs the op while Storage::allocate hands back the logged
// buffers in the same order, so each re-run writes into the very buffers that the tensor handles
// held by later entries (and by the caller) already point to: the arena is the allocation log.
// The backward engine records each node's backward call and each leaf's .grad assignment the
// same way (autograd/engine.cpp); an optimizer step is an op too (optim/step.h).
//
// An op opts in with one line at its top:  TL_CAPTURE_OP(exp, x);
// (tests/test_capture_coverage.py fails for a public op without it).
//
// Lowering (what makes a replay cheap): while an entry records, each kernel call it makes
// (TL_CAPTURE_KERNEL at the top of gemm, unary, binary, reduce, copy, softmax / cross-entropy
// kernels) is also logged as a closure with the very same arguments. When the entry finishes, the
// recorder checks that those kernel calls alone rebuild everything the entry wrote: it fills the
// entry's own buffers with a poison pattern, re-runs the kernel closures and compares the bytes.
// Only then does the replay run the kernel closures instead of the op (no dispatch, no checks on
// shapes, no Tensor or autograd objects, no allocation). An entry stays on the generic re-run of
// the op when it wrote anything but its own buffers (an in-place write: begin_inplace_write),
// called a kernel that is not logged (random numbers, gathers, direct loops: the poison check
// catches them), or read tensor data to decide something outside a kernel (such ops call
// capture::opaque(), or log the check itself with capture::record_check). Ops whose replay needs
// fresh host state (the optimizer steps read the learning rate and step count) give their own
// lean closure with capture::lower().
//
// Reads are logged too: each logged kernel names the memory it reads (TL_CAPTURE_KERNEL's second
// list, lower()'s and record_check()'s `reads`). A lowered entry's read pointers must each lie in
// a Storage the plan holds (a buffer of its arena or of a recorded op's input tensors), and the
// entry keeps those Storages: a kernel that reads scratch freed at the end of its op (as conv's
// im2col patches would be) leaves its entry on the generic re-run instead of reading freed memory.
//
// Buffer sharing (Plan::share_buffers): from the logged reads, each arena buffer's live range
// (its allocating entry to its last reader) is known, and buffers whose ranges do not overlap
// share one slab. The move happens at the next replay, which re-runs every lowered entry's op
// once to log its kernels against the new addresses (the kernels hold raw pointers).
#pragma once
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>
#include "capture/kernel_log.h"
#include "core/tensor.h"

namespace tl::capture {

// Thrown by a replay whose allocations differ from the recorded ones (a data-dependent shape):
// the caller runs the step eagerly instead and may capture again.
struct ReplayMismatch : RuntimeError {
  using RuntimeError::RuntimeError;
};

struct Entry {
  std::string op;                                 // "linear", "LinearBackward", "leaf_grad", ...
  std::function<void()> run;                      // re-runs the call with its recorded arguments
  std::vector<Tensor> inputs;                     // its tensor arguments, for inspection / rewrites
  std::vector<std::shared_ptr<Storage>> allocs;   // the buffers the call allocated, in order
  // Grad mode when recorded; the replay restores it per entry, because an op may take another
  // path with it (max_pool keeps its argmax only when a gradient is needed).
  bool grad_mode = false;
  // The lean form of the call (see "Lowering" above); used by replay() when `lowered`.
  std::vector<std::function<void()>> kernels;
  // Beside each kernel: its chunk form when it is elementwise (capture/elementwise_log.h), else
  // null; capture/elementwise_chain.cpp fuses runs of entries made of such kernels.
  std::vector<ElementwisePtr> elementwise;
  bool lowered = false;
  bool opaque = false;    // may not be lowered from its kernel log
  bool explicit_ = false; // kernels set by capture::lower(): trusted, not poison-checked
  std::vector<const void*> reads;                     // what the kernels read (logged with them)
  std::vector<std::shared_ptr<Storage>> read_storages; // the Storages those reads lie in (kept alive)
  std::vector<std::shared_ptr<Storage>> visible;       // buffers seen outside the plan (a leaf's .grad)
  // Made by TL_CAPTURE_OP: re-running it reads the tensor arguments in `inputs` and nothing else
  // (a backward node's call also reads its saved tensors, which no list names unless described).
  bool op_call = false;
  // What the call computed, for the rewrite passes (capture/rewrite.h), set by capture::describe:
  // its result tensors, what else it reads (a backward node's saved tensors) and one
  // op-specific attribute (an activation, a unary op code...).
  bool described = false;
  std::vector<Tensor> outputs, saved;
  int64_t attr = 0;
  // Built by a rewrite (capture/rewrite.h): its kernels reach memory through tensor handles, so
  // they stay valid when shared buffers move (never re-logged); `read_storages` is what it reads.
  bool fused = false;
};

// A recorded step: the entries in call order. Inspectable (op, inputs, allocs) so that rewrite
// passes (fusions) can replace runs of entries.
class Plan {
 public:
  std::vector<Entry> entries;
  // Runs every entry under the grad mode it was recorded in; ReplayMismatch when an entry's
  // allocations differ from its log (count or sizes). The plan stays usable after a mismatch.
  void replay();
  // Replays `reps` times, timing each entry: the median seconds per entry (bench/, profiling).
  std::vector<double> profile(int reps);
  // Bytes held by the arena (every logged allocation).
  size_t arena_bytes() const;
  // How many entries replay as their kernel closures.
  size_t lowered_entries() const;
  // Lets arena buffers with disjoint live ranges share memory (see "Buffer sharing" above), except
  // the buffers of `visible` tensors (the step's outputs), .grad buffers and what explicit
  // lowerings read. Takes effect at the next replay. Returns the arena bytes it will hold.
  size_t share_buffers(const std::vector<Tensor>& visible);
  // The arena bytes before sharing (every logged allocation, as arena_bytes() was without it).
  size_t unshared_bytes() const;
  // The first read of tensor values by Python while recording (note_python_read), else empty.
  std::string python_read;

 private:
  struct Move {
    std::shared_ptr<Storage> storage;
    size_t offset;
    size_t last;  // the last entry planned to read it
  };
  std::vector<Move> moves_;          // pending until the next replay moves them into the slab
  std::shared_ptr<Storage> slab_;
  size_t slab_bytes_ = 0;
  bool relayout_pending_ = false;
  void relayout();
};

// The thread's recording / replaying state (one per thread; ops on other threads are not seen).
struct ThreadState {
  int depth = 0;                  // nesting of op calls on this thread
  Plan* plan = nullptr;           // being recorded
  Entry* entry = nullptr;         // the outermost call being recorded (its allocations are logged)
  const Entry* replaying = nullptr;  // the entry being replayed
  size_t next_alloc = 0;          // position in replaying->allocs
  int kernel_depth = 0;           // nesting of logged kernel calls (only the outermost is logged)
  int host_access = 0;            // > 0: Python touches host state, not the step's values
};
ThreadState& state();

// Starts / stops recording into `plan` on this thread (nesting is an error).
void begin_recording(Plan* plan);
void end_recording();
inline bool recording() { return state().plan != nullptr; }

// Storage::allocate's hook: the logged buffer while replaying, else a fresh one (logged while an
// entry records).
std::shared_ptr<Storage> allocate(size_t nbytes, std::shared_ptr<Storage> (*fresh)(size_t));
// Whether `s` was allocated by an entry of the plan recording on this thread.
bool allocated_in_recording(const Storage* s);
// A read of tensor values by Python code (float(t), t.item(), t.tolist(), np.asarray(t), ...)
// outside any op while this thread records: the step's Python may branch on the value, which a
// replay (no Python) cannot follow, so the plan notes it and the step runs eagerly.
void note_python_read(const char* what);
// Brackets Python's writes of host state a replay reads (the learning rate, written through NumPy
// so that no op records it): not reads of the step's values.
void set_host_access(bool on);

// Logs `check` (a validation reading tensor data, which must also run at each replay, before the
// kernels that follow it) into the recording entry's kernel log, then runs it.
void record_check(std::function<void()> check, std::vector<const void*> reads);
// The recording entry replays as `k` (instead of re-running the op): for ops whose replay must
// read host state at replay time. `k` must redo everything the op did to memory.
// `reads`: the memory `k` reads (buffers it reads are never shared with others); `ew`: `k` as an
// elementwise call (a random fill), or null.
void lower(std::function<void()> k, std::vector<const void*> reads, ElementwisePtr ew = nullptr);
// The recording entry hands `t`'s buffer to the outside (a leaf's .grad): never shared.
void keep_visible(const Tensor& t);
// How many handles on `t`'s impl the recording plan's described outputs hold (capture::describe),
// for the engine's check that a gradient is seen by nobody else.
long described_refs(const Tensor& t);
// Called from the body of an outermost op or backward call being recorded (ignored elsewhere):
// says what it computed (`outputs`), what else it reads (`saved`) and an op-specific `attr`, for
// the rewrite passes (capture/rewrite.h) that fuse entries.
void describe(std::vector<Tensor> outputs, std::vector<Tensor> saved = {}, int64_t attr = 0);

// A tensor as the memory a kernel writes (undefined or empty: nothing).
template <>
struct Written<Tensor, void> {
  static const void* ptr(const Tensor& t) { return t.defined() && t.numel() > 0 ? t.data_ptr() : nullptr; }
};
// The memory behind `t` (undefined or empty: nothing), for lower()'s and record_check()'s reads.
inline const void* written_ptr(const Tensor& t) { return Written<Tensor>::ptr(t); }

// How an argument is kept in an entry (Keep<T>::store) and handed back to the op on replay
// (Use<Kept>::use): by value, except types specialised next to their declaration (a generator is
// kept by reference: ops/random.h).
template <class T>
struct Keep {
  static T store(const T& v) { return v; }
};
template <class K>
struct Use {
  static const K& use(const K& v) { return v; }
};

namespace detail {
inline void collect(std::vector<Tensor>& out, const Tensor& t) {
  if (t.defined()) out.push_back(t);
}
inline void collect(std::vector<Tensor>& out, const std::vector<Tensor>& ts) {
  for (const Tensor& t : ts) collect(out, t);
}
template <class T>
void collect(std::vector<Tensor>&, const T&) {}
template <class T>
void collect(std::vector<Tensor>& out, const std::optional<T>& o) {
  if (o) collect(out, *o);
}
}  // namespace detail

// RAII for one op call: counts the depth; the outermost call during a recording opens an entry
// that the destructor appends to the plan (only when the call returns normally).
class OpScope {
 public:
  OpScope() : st_(state()) { outermost_ = st_.depth++ == 0 && st_.plan != nullptr; }
  ~OpScope();
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;

  bool records() const { return outermost_; }
  // Opens the entry with a ready closure.
  void begin(std::string op, std::function<void()> run, std::vector<Tensor> inputs);
  // Opens the entry for `call(args...)`, keeping copies of the arguments.
  template <class F, class... A>
  void begin_call(const char* op, F call, const A&... args) {
    std::vector<Tensor> inputs;
    (detail::collect(inputs, args), ...);
    auto kept = std::make_tuple(Keep<A>::store(args)...);
    begin(op, [call, kept] { std::apply([&call](const auto&... a) { call(a...); }, kept); }, std::move(inputs));
    entry_->op_call = true;
  }

 private:
  ThreadState& st_;
  bool outermost_ = false;
  int uncaught_ = 0;
  std::unique_ptr<Entry> entry_;
};

}  // namespace tl::capture

// First statement of a public op:  TL_CAPTURE_OP(op_name, arg1, arg2, ...)  with the op's own
// parameters in order. Recorded calls re-run `op_name(args...)` (overloads resolve by type).
#define TL_CAPTURE_OP(fn, ...)                                                                              \
  ::tl::capture::OpScope tl_capture_scope_;                                                                 \
  if (tl_capture_scope_.records())                                                                          \
  tl_capture_scope_.begin_call(                                                                             \
      #fn, [](const auto&... tl_a) { (void)fn(::tl::capture::Use<std::decay_t<decltype(tl_a)>>::use(tl_a)...); }, \
      __VA_ARGS__)
