// The kernels' side of capture (recorder.h has the rest): logging a kernel call as a closure
// (TL_CAPTURE_KERNEL) and marking an entry opaque. Free of Tensor, so kernels over StridedViews
// (kernels/view.h) do not see ownership or autograd types.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace tl::capture {

struct ThreadState;

// The entry being recorded may not be replayed from its kernel log (it decided something from
// tensor data outside a kernel, or wrote in place). No-op when nothing records.
void opaque();

// The memory a kernel writes, for KernelScope::record: a raw pointer, anything with written()
// (a kernels::StridedView: nothing when empty), or a type specialised elsewhere (Tensor:
// recorder.h).
template <class T, class = void>
struct Written {
  static const void* ptr(const void* p) { return p; }
};
template <class T>
struct Written<T, std::void_t<decltype(std::declval<const T&>().written())>> {
  static const void* ptr(const T& v) { return v.written(); }
};
template <class... W>
std::array<const void*, sizeof...(W)> written(const W&... w) {
  return {Written<W>::ptr(w)...};
}

// An elementwise kernel call as data, so that a rewrite (capture/elementwise_chain.cpp) can run it
// over chunks of its operands. `operands`: the output, then the inputs, each with its memory at
// the call; an operand either holds `numel` contiguous elements or is one element broadcast to
// all of them. `chunk(ptrs, begin, n)` runs the very same kernel on elements [begin, begin + n),
// operand k's first one at ptrs[k] (a broadcast operand's pointer is its one element).
// `prepare`, when set, runs once per replay before any chunk (a random fill's draw, which
// advances its generator as the whole fill does).
struct ElementwiseCall {
  struct Operand {
    const void* data;
    size_t itemsize;
    bool broadcast;
  };
  int64_t numel = 0;
  std::vector<Operand> operands;
  std::function<void(void* const* ptrs, int64_t begin, int64_t n)> chunk;
  std::function<void()> prepare;
};
using ElementwisePtr = std::shared_ptr<const ElementwiseCall>;

// RAII at the top of a kernel: the outermost kernel call of a recording entry logs its closure,
// provided it writes only buffers the entry allocated (`outs`: pointers into the written memory);
// otherwise the entry becomes opaque. `reads`: the memory it reads, which must lie in Storages the
// plan holds for the entry to be lowered.
class KernelScope {
 public:
  KernelScope();
  ~KernelScope();
  KernelScope(const KernelScope&) = delete;
  KernelScope& operator=(const KernelScope&) = delete;
  bool records() const { return records_; }
  template <size_t N, size_t M>
  void record(const std::array<const void*, N>& outs, const std::array<const void*, M>& reads,
              std::function<void()> k, ElementwisePtr ew = nullptr) {
    record(outs.data(), N, reads.data(), M, std::move(k), std::move(ew));
  }
  // `ew`: the call as data when it is elementwise (capture/elementwise_log.h), else null.
  void record(const void* const* outs, size_t n, const void* const* reads, size_t m, std::function<void()> k,
              ElementwisePtr ew = nullptr);

 private:
  ThreadState& st_;
  bool records_ = false;
};

}  // namespace tl::capture

// First statement of a logged kernel: TL_CAPTURE_KERNEL((outputs...), (inputs...), kernel(args...))
// with the views / tensors / pointers it writes, then those it reads, in parentheses; the closure
// copies the arguments (views, which own their dims, vectors, raw pointers into the step's
// buffers, which the plan keeps alive).
#define TL_CAPTURE_KERNEL(outs, ins, ...)        \
  ::tl::capture::KernelScope tl_capture_kscope_; \
  if (tl_capture_kscope_.records())              \
  tl_capture_kscope_.record(::tl::capture::written outs, ::tl::capture::written ins, [=] { __VA_ARGS__; })
