// NumPy indexing: x[...] and x[...] = v.
//
// Basic indices (integers, slices, `...`, `None`) give views sharing storage; any integer-array
// or boolean-mask index makes the result a copy (a gather). NumPy's rules throughout: integers
// become 0-d advanced indices as soon as one array index is present; advanced indices broadcast
// together; their result dims replace the indexed dims in place when the advanced indices are
// adjacent, and go first otherwise; a boolean mask of k dims stands for its k nonzero() arrays.
#pragma once
#include <optional>
#include <vector>
#include "core/tensor.h"

namespace tl {

struct IndexItem {
  enum class Kind : uint8_t { Int, Slice, Ellipsis, NewAxis, Array, Bool };
  Kind kind = Kind::Int;
  int64_t value = 0;                      // Int: the index; Bool: 0 or 1
  std::optional<int64_t> start, stop, step;  // Slice, Python semantics (None = default)
  Tensor array;                           // Array: an integer or bool tensor
  bool bad_bound = false;                 // Slice: a bound that is not an integer (TypeError when
                                          // reached, so earlier items are checked first, as NumPy)

  static IndexItem integer(int64_t i) { IndexItem it; it.kind = Kind::Int; it.value = i; return it; }
  static IndexItem slice(std::optional<int64_t> start = {}, std::optional<int64_t> stop = {},
                         std::optional<int64_t> step = {}) {
    IndexItem it; it.kind = Kind::Slice; it.start = start; it.stop = stop; it.step = step; return it;
  }
  static IndexItem ellipsis() { IndexItem it; it.kind = Kind::Ellipsis; return it; }
  static IndexItem newaxis() { IndexItem it; it.kind = Kind::NewAxis; return it; }
  static IndexItem boolean(bool b) { IndexItem it; it.kind = Kind::Bool; it.value = b; return it; }
  static IndexItem tensor(Tensor t) { IndexItem it; it.kind = Kind::Array; it.array = std::move(t); return it; }
};
using Index = std::vector<IndexItem>;

// NumPy's nonzero of a bool mask of at least one dim: one int64 coordinate array per dim.
std::vector<Tensor> nonzero(const Tensor& mask);
// The number of true elements of a bool mask, as a 0-d int64 tensor (count_nonzero over all axes).
Tensor count_true(const Tensor& mask);
// x[index]; differentiable (views scatter their gradient back, gathers scatter-add it).
Tensor index(const Tensor& x, const Index& index);
// x[index] = value: value is broadcast to x[index]'s shape and cast to x's dtype (unsafe, as
// NumPy). Refuses read-only storage, and tensors that require grad while grad mode is on.
void index_put_(const Tensor& x, const Index& index, const Tensor& value);
// The adjoint of index(): zeros of `shape` with `g` added at `index` (repeated entries add up).
// Differentiable: its backward is index() again.
Tensor index_scatter(const Tensor& g, const Shape& shape, const Index& index);

// NumPy take(a, indices, axis): a gather along one axis (axis = nullopt: of the flattened a).
// Differentiable like indexing. Integer (or bool) indices; IndexError when out of range.
Tensor take(const Tensor& a, const Tensor& indices, std::optional<int64_t> axis);
// The same written into `out` (the result's shape and a's dtype, any strides), e.g. a batch
// buffer reused across steps. Not differentiable (RuntimeError when grad is needed).
void take_into(const Tensor& a, const Tensor& indices, std::optional<int64_t> axis, const Tensor& out);

// Python slice semantics (PySlice_AdjustIndices): clamps start/stop to `size` and returns the
// number of elements; `start`/`step` receive the resolved values. ValueError for step 0.
int64_t resolve_slice(const IndexItem& s, int64_t size, int64_t& start, int64_t& step);

}  // namespace tl
