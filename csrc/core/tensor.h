// Tensor: a cheap handle to a TensorImpl = shared Storage + shape + strides (elements) + offset
// + dtype, plus the autograd fields. Methods here are raw (no graph recording); the public,
// differentiable operations live in ops/.
#pragma once
#include <memory>
#include <string>
#include "core/dtype.h"
#include "core/error.h"
#include "core/scalar.h"
#include "core/shape.h"
#include "core/storage.h"

namespace tl {

struct Node;
struct GradHooks;
class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;     // in elements; may be 0 (broadcast) or negative (reversed slices)
  int64_t offset = 0;  // in elements from storage->data
  DType dtype = DType::Float64;

  // autograd
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated by backward on leaves
  std::shared_ptr<Node> grad_fn;     // the node that produced this tensor (null for leaves)
  std::shared_ptr<GradHooks> hooks;  // a leaf's register_hook list (autograd/hooks.h); null when none
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Fresh, contiguous, uninitialised / zero-filled / filled tensors.
  static Tensor empty(const Shape& shape, DType dtype);
  static Tensor zeros(const Shape& shape, DType dtype);
  static Tensor full(const Shape& shape, Scalar value, DType dtype);
  // A 0-d tensor holding `value` cast to `dtype`.
  static Tensor scalar(Scalar value, DType dtype);

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  const Shape& shape() const { return impl_->shape; }
  const Strides& strides() const { return impl_->strides; }
  int64_t offset() const { return impl_->offset; }
  DType dtype() const { return impl_->dtype; }
  int64_t ndim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t dim(int64_t i) const { return impl_->shape[i]; }
  int64_t numel() const;
  size_t itemsize() const { return tl::itemsize(impl_->dtype); }
  const std::shared_ptr<Storage>& storage() const { return impl_->storage; }
  bool is_contiguous() const { return tl::is_contiguous(impl_->shape, impl_->strides); }
  // Pointer to element [0,...,0].
  void* data_ptr() const {
    return static_cast<char*>(impl_->storage->data) + impl_->offset * static_cast<int64_t>(itemsize());
  }
  template <class T> T* data() const { return static_cast<T*>(data_ptr()); }

  // A new handle on the same storage with other geometry (no bounds checks: callers validate).
  Tensor view_with(Shape shape, Strides strides, int64_t offset) const;
  // Same data, same geometry, no autograd history (what `detach()` returns to Python).
  Tensor detach() const;
  // This tensor if contiguous, else a contiguous copy (raw, not recorded).
  Tensor contiguous() const;
  // Raw copy / cast into a fresh contiguous tensor.
  Tensor clone() const;
  Tensor to_dtype(DType dtype) const;  // returns *this if already that dtype
  // Raw in-place fill and copy (src broadcast to this tensor's shape, cast to its dtype).
  void fill_(Scalar value) const;
  void copy_from(const Tensor& src) const;
  // Raises ValueError if the storage is read-only (a borrowed read-only NumPy buffer).
  void check_writable(const char* op) const;

  // autograd fields
  bool requires_grad() const { return impl_->requires_grad; }
  void set_requires_grad(bool r) const { impl_->requires_grad = r; }
  Tensor grad() const { return Tensor(impl_->grad); }
  void set_grad(const Tensor& g) const { impl_->grad = g.impl_; }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  void set_grad_fn(std::shared_ptr<Node> fn) const { impl_->grad_fn = std::move(fn); }
  bool is_leaf() const { return impl_->grad_fn == nullptr; }

  // First element as a double / int64 (for item(), float(), tests).
  double item_double() const;
  int64_t item_int() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace tl
