// StridedView: what a kernel sees of an operand (data pointer, dtype, shape, strides in
// elements), NumPy's PyArrayObject without the object. Kernels take views, never Tensor, which
// carries ownership and autograd fields: a kernel is pure compute over memory it is handed.
//
// A view is cheap to build from a Tensor (the implicit constructor below, used at the op layer:
// kernels::binary(op, out, a, b) with Tensors converts them) and owns its dims, so a kernel's
// capture closure (TL_CAPTURE_KERNEL) can keep a copy after the tensors it came from are gone;
// the data stays alive in the captured plan's arena.
#pragma once
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>
#include "core/dtype.h"

namespace tl::kernels {

// A small list of dims, inline up to kInline (no allocation for ordinary tensors).
class Dims {
 public:
  static constexpr size_t kInline = 6;
  Dims() = default;
  explicit Dims(const std::vector<int64_t>& v) { assign(v.data(), v.size()); }
  Dims(std::initializer_list<int64_t> v) { assign(v.begin(), v.size()); }  // no allocation
  Dims(const Dims& o) { assign(o.data(), o.size()); }
  Dims& operator=(const Dims& o) {
    if (this != &o) assign(o.data(), o.size());
    return *this;
  }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  const int64_t* data() const { return heap_ ? heap_.get() : inline_; }
  int64_t operator[](size_t i) const { return data()[i]; }
  const int64_t* begin() const { return data(); }
  const int64_t* end() const { return data() + n_; }
  bool operator==(const Dims& o) const { return std::equal(begin(), end(), o.begin(), o.end()); }
  std::vector<int64_t> vec() const { return {begin(), end()}; }

 private:
  void assign(const int64_t* v, size_t n) {
    if (n > kInline) heap_.reset(new int64_t[n]);
    else heap_.reset();
    std::copy(v, v + n, heap_ ? heap_.get() : inline_);
    n_ = n;
  }
  int64_t inline_[kInline];  // not zeroed: assign() writes the n dims it holds (on every kernel call)
  std::unique_ptr<int64_t[]> heap_;
  size_t n_ = 0;
};

struct StridedView {
  void* data = nullptr;  // element [0, ..., 0]
  DType dtype = DType::Float64;
  Dims shape;
  Dims strides;  // in elements; 0 for broadcast dims, negative for reversed ones

  StridedView() = default;
  StridedView(void* d, DType dt, Dims sh, Dims st) : data(d), dtype(dt), shape(std::move(sh)), strides(std::move(st)) {}
  // From anything shaped like a Tensor (data_ptr, dtype, shape, strides): the op layer's tensors.
  template <class T, class = decltype(std::declval<const T&>().data_ptr()),
            class = std::enable_if_t<!std::is_same_v<std::decay_t<T>, StridedView>>>
  StridedView(const T& t) : data(t.data_ptr()), dtype(t.dtype()), shape(t.shape()), strides(t.strides()) {}

  int64_t ndim() const { return static_cast<int64_t>(shape.size()); }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  size_t itemsize() const { return tl::itemsize(dtype); }
  template <class T> T* ptr() const { return static_cast<T*>(data); }
  char* bytes() const { return static_cast<char*>(data); }
  bool is_contiguous() const {
    int64_t expect = 1;
    for (size_t d = shape.size(); d-- > 0;) {
      if (shape[d] == 0) return true;
      if (shape[d] == 1) continue;
      if (strides[d] != expect) return false;
      expect *= shape[d];
    }
    return true;
  }
  // The memory a kernel writes, for TL_CAPTURE_KERNEL (nothing when empty).
  const void* written() const { return numel() > 0 ? data : nullptr; }
};

}  // namespace tl::kernels
