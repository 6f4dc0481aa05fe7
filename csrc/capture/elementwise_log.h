// Logging an elementwise kernel together with its chunk form (ElementwiseCall, kernel_log.h), so
// that capture/elementwise_chain.cpp can run a chain of them over L1-sized chunks with the
// kernels' own loops. The kernel's first statement is
//   TL_CAPTURE_ELEMENTWISE(k, out, in...);
// where k(out, in...) calls the kernel with views; a chunk is the same call on 1-D views of n
// elements (contiguous, or stride 0 for an operand that is one element broadcast).
#pragma once
#include <array>
#include <utility>
#include "capture/kernel_log.h"
#include "kernels/view.h"

namespace tl::capture {

namespace detail {
template <class K, size_t N, size_t... I>
void call_on_chunk(const K& k, const std::array<DType, N>& dtypes, const std::array<bool, N>& broadcast,
                   void* const* p, int64_t m, std::index_sequence<I...>) {
  k(kernels::StridedView(p[I], dtypes[I], kernels::Dims{m}, kernels::Dims{broadcast[I] ? 0 : 1})...);
}
}  // namespace detail

// The chunk form of k(out, ins...), or null when an operand is neither contiguous with out's
// numel elements nor one element broadcast (a row or column broadcast, a transposed view...).
template <class K, class... V>
ElementwisePtr elementwise_call(K k, const kernels::StridedView& out, const V&... ins) {
  constexpr size_t N = 1 + sizeof...(V);
  const std::array<const kernels::StridedView*, N> views{&out, &ins...};
  const int64_t n = out.numel();
  auto call = std::make_shared<ElementwiseCall>();
  call->numel = n;
  std::array<DType, N> dtypes;
  std::array<bool, N> broadcast;
  for (size_t i = 0; i < N; ++i) {
    const kernels::StridedView& v = *views[i];
    if (v.numel() != n) return nullptr;
    bool zero = true;
    for (size_t d = 0; d < v.shape.size(); ++d) zero = zero && (v.strides[d] == 0 || v.shape[d] == 1);
    broadcast[i] = zero && n > 1;
    if (!broadcast[i] && !v.is_contiguous()) return nullptr;
    dtypes[i] = v.dtype;
    call->operands.push_back({v.data, v.itemsize(), broadcast[i]});
  }
  if (broadcast[0]) return nullptr;  // one element written n times
  call->chunk = [k, dtypes, broadcast](void* const* p, int64_t, int64_t m) {
    detail::call_on_chunk(k, dtypes, broadcast, p, m, std::make_index_sequence<N>());
  };
  return call;
}

template <class K, class... V>
void record_elementwise(KernelScope& scope, K k, const kernels::StridedView& out, const V&... ins) {
  scope.record(written(out), written(ins...), [k, out, ins...] { k(out, ins...); }, elementwise_call(k, out, ins...));
}

}  // namespace tl::capture

#define TL_CAPTURE_ELEMENTWISE(k, ...)           \
  ::tl::capture::KernelScope tl_capture_kscope_; \
  if (tl_capture_kscope_.records()) ::tl::capture::record_elementwise(tl_capture_kscope_, k, __VA_ARGS__)
