#include "core/tensor.h"
#include "capture/recorder.h"
#include "kernels/copy.h"
#include <cstring>

namespace tl {

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : impl_->shape) n *= d;
  return n;
}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  int64_t n = checked_numel(shape, "empty");
  size_t isz = tl::itemsize(dtype);
  if (n > static_cast<int64_t>(INT64_MAX / isz)) throw MemoryError("array is too large: " + shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(static_cast<size_t>(n) * isz);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.data_ptr(), 0, static_cast<size_t>(t.numel()) * t.itemsize());
  return t;
}

Tensor Tensor::full(const Shape& shape, Scalar value, DType dtype) {
  Tensor t = empty(shape, dtype);
  kernels::fill(t, value);
  return t;
}

Tensor Tensor::scalar(Scalar value, DType dtype) { return full({}, value, dtype); }

Tensor Tensor::view_with(Shape shape, Strides strides, int64_t offset) const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::detach() const { return view_with(shape(), strides(), offset()); }

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype());
  kernels::copy_cast(out, *this);
  return out;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::to_dtype(DType d) const {
  if (d == dtype()) return *this;
  Tensor out = empty(shape(), d);
  kernels::copy_cast(out, *this);
  return out;
}

void Tensor::check_writable(const char* op) const {
  TL_CHECK(impl_->storage->writable, op, "assignment destination is read-only");
}

void Tensor::fill_(Scalar value) const {
  check_writable("fill");
  kernels::fill(*this, value);
}

void Tensor::copy_from(const Tensor& src) const {
  check_writable("copy");
  kernels::copy_cast(*this, src);
}

double Tensor::item_double() const {
  capture::opaque();  // a value read on the host, maybe to decide something: replays re-run the op
  TL_CHECK(numel() >= 1, "item", "can only convert an array of size 1 to a Python scalar");
  Tensor t = Tensor::empty({}, DType::Float64);
  kernels::copy_cast(t, view_with({}, {}, offset()));
  return *t.data<double>();
}

int64_t Tensor::item_int() const {
  capture::opaque();  // a value read on the host, maybe to decide something: replays re-run the op
  TL_CHECK(numel() >= 1, "item", "can only convert an array of size 1 to a Python scalar");
  Tensor t = Tensor::empty({}, DType::Int64);
  kernels::copy_cast(t, view_with({}, {}, offset()));
  return *t.data<int64_t>();
}

}  // namespace tl
