// DLPack, both ways (the Array API's __dlpack__ / __dlpack_device__ / from_dlpack).
//
// Export: a DLManagedTensorVersioned (DLPack 1.x, when the consumer passes max_version >= (1, 0))
// or a legacy DLManagedTensor in a PyCapsule. Its manager holds a Tensor handle, so the storage
// stays alive while the consumer holds the capsule or what it made from it. Read-only storage
// and broadcast views set DLPACK_FLAG_BITMASK_READ_ONLY; the legacy format cannot say so and
// refuses them (BufferError, as NumPy). Import: any CPU capsule of a supported dtype, zero-copy;
// the producer's deleter runs when the last tensor viewing the memory dies.
// The structs are DLPack's ABI (dlpack.h v1.0, Apache-2.0), declared here to add no dependency.
#include <pybind11/pybind11.h>
#include <cstring>
#include "bindings/convert.h"
#include "capture/recorder.h"
#include "core/error.h"
#include "core/shape.h"
#include "ops/shape_ops.h"

namespace tl::bind {

namespace {

struct DLPackVersion { uint32_t major, minor; };
struct DLDevice { int32_t device_type, device_id; };
struct DLDataType { uint8_t code, bits; uint16_t lanes; };
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned*);
  uint64_t flags;
  DLTensor dl_tensor;
};
constexpr int32_t kDLCPU = 1;
constexpr uint8_t kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLComplex = 5, kDLBool = 6;
constexpr uint64_t kReadOnly = 1, kIsCopied = 2;
constexpr const char* kVersioned = "dltensor_versioned";
constexpr const char* kLegacy = "dltensor";

[[noreturn]] void buffer_error(const std::string& msg) {
  PyErr_SetString(PyExc_BufferError, msg.c_str());
  throw py::error_already_set();
}

DLDataType dl_dtype(DType d) {
  const uint8_t bits = static_cast<uint8_t>(8 * itemsize(d));
  switch (dtype_kind(d)) {
    case DKind::Bool: return {kDLBool, 8, 1};
    case DKind::UInt: return {kDLUInt, bits, 1};
    case DKind::Int: return {kDLInt, bits, 1};
    case DKind::Float: return {kDLFloat, bits, 1};
    case DKind::Complex: return {kDLComplex, bits, 1};  // complex64 is 64 bits: two float32
  }
  buffer_error(str_cat("__dlpack__: dtype ", dtype_name(d), " has no DLPack export"));
}

DType from_dl_dtype(DLDataType t) {
  if (t.lanes == 1) {
    if (t.code == kDLBool && t.bits == 8) return DType::Bool;
    for (int i = 0; i < kNumDTypes; ++i) {
      const DType d = static_cast<DType>(i);
      const DLDataType e = dl_dtype(d);
      if (d != DType::Bool && e.code == t.code && e.bits == t.bits) return d;
    }
  }
  buffer_error(str_cat("from_dlpack: unsupported DLPack dtype (code ", int(t.code), ", bits ", int(t.bits),
                       ", lanes ", t.lanes, ")"));
}

// Owns what an exported DLTensor points into: the tensor handle and its shape/strides arrays.
template <class Managed>
struct Exported {
  Managed managed{};
  Tensor tensor;
  std::vector<int64_t> shape, strides;
};

template <class Managed>
Managed* make_export(const Tensor& t) {
  auto* ctx = new Exported<Managed>();
  ctx->tensor = t;
  ctx->shape.assign(t.shape().begin(), t.shape().end());
  ctx->strides.assign(t.strides().begin(), t.strides().end());
  DLTensor& dl = ctx->managed.dl_tensor;
  dl.data = t.storage()->data;  // base pointer + byte_offset, as DLPack recommends
  dl.byte_offset = uint64_t(t.offset()) * t.itemsize();
  dl.device = {kDLCPU, 0};
  dl.ndim = int32_t(t.ndim());
  dl.dtype = dl_dtype(t.dtype());
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  ctx->managed.manager_ctx = ctx;
  // The tensor's storage may be a borrowed NumPy buffer, whose release takes the GIL itself.
  ctx->managed.deleter = [](Managed* self) { delete static_cast<Exported<Managed>*>(self->manager_ctx); };
  return &ctx->managed;
}

// An unconsumed capsule frees its tensor; a consumed one was renamed "used_..." by its consumer.
template <class Managed>
void capsule_destructor(PyObject* cap) {
  const char* name = std::is_same_v<Managed, DLManagedTensorVersioned> ? kVersioned : kLegacy;
  if (!PyCapsule_IsValid(cap, name)) return;
  auto* m = static_cast<Managed*>(PyCapsule_GetPointer(cap, name));
  if (m && m->deleter) m->deleter(m);
}

void check_device(py::handle dl_device, const char* op) {
  if (dl_device.is_none()) return;
  auto dev = dl_device.cast<py::tuple>();
  if (dev.size() != 2 || dev[0].cast<int64_t>() != kDLCPU || dev[1].cast<int64_t>() != 0)
    buffer_error(str_cat(op, ": tensorlet tensors live on the CPU (device (1, 0)); cannot export to device ",
                         std::string(py::str(dl_device))));
}

py::object dlpack_export(const Tensor& t, py::handle stream, py::handle max_version, py::handle dl_device,
                         py::handle copy) {
  capture::note_python_read("__dlpack__");
  TL_CHECK(stream.is_none(), "__dlpack__", "stream must be None for CPU tensors, got ", std::string(py::str(stream)));
  check_device(dl_device, "__dlpack__");
  bool versioned = false;
  if (!max_version.is_none()) {
    auto mv = max_version.cast<py::tuple>();
    TL_CHECK(mv.size() == 2, "__dlpack__", "max_version must be a (major, minor) tuple");
    versioned = mv[0].cast<int64_t>() >= 1;
  }
  const bool do_copy = !copy.is_none() && copy.cast<bool>();
  Tensor src = do_copy ? tl::copy(t.detach()) : t.detach();
  const bool read_only = !do_copy && exports_read_only(src);
  PyObject* cap;
  if (versioned) {
    DLManagedTensorVersioned* m = make_export<DLManagedTensorVersioned>(src);
    m->version = {1, 0};
    m->flags = (read_only ? kReadOnly : 0) | (do_copy ? kIsCopied : 0);
    cap = PyCapsule_New(m, kVersioned, capsule_destructor<DLManagedTensorVersioned>);
    if (!cap) m->deleter(m);
  } else {
    if (read_only)
      buffer_error("__dlpack__: cannot export a read-only tensor (read-only storage or a broadcast view) with the "
                   "legacy DLPack format, which has no read-only flag; pass max_version=(1, 0) or copy=True");
    DLManagedTensor* m = make_export<DLManagedTensor>(src);
    cap = PyCapsule_New(m, kLegacy, capsule_destructor<DLManagedTensor>);
    if (!cap) m->deleter(m);
  }
  if (!cap) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(cap);
}

// A tensor viewing a DLTensor's memory; `owner` runs the producer's deleter when released.
Tensor view_of(const DLTensor& dl, std::shared_ptr<void> owner, bool writable) {
  if (dl.device.device_type != kDLCPU)
    buffer_error(str_cat("from_dlpack: only CPU memory can be imported, got DLPack device type ", dl.device.device_type));
  const DType dt = from_dl_dtype(dl.dtype);
  TL_CHECK(dl.ndim >= 0 && dl.ndim <= 64, "from_dlpack", "bad ndim ", dl.ndim);
  TL_CHECK(dl.ndim == 0 || dl.shape, "from_dlpack", "the DLTensor has no shape");
  const int64_t isz = int64_t(itemsize(dt));
  Shape shape(dl.shape, dl.shape + dl.ndim);
  const int64_t numel = checked_numel(shape, "from_dlpack");
  Strides strides = dl.strides ? Strides(dl.strides, dl.strides + dl.ndim) : contiguous_strides(shape);
  // The element range the view touches, so the storage covers exactly [lo, hi].
  int64_t lo = 0, hi = 0;
  if (numel > 0)
    for (int32_t i = 0; i < dl.ndim; ++i) {
      const int64_t span = (shape[i] - 1) * strides[i];
      (span < 0 ? lo : hi) += span;
    }
  char* base = static_cast<char*>(dl.data) + dl.byte_offset;
  if (numel > 0 && reinterpret_cast<uintptr_t>(base) % uintptr_t(isz) != 0)
    buffer_error("from_dlpack: the data pointer is not aligned to the dtype's size");
  auto storage = Storage::borrow(base + lo * isz, size_t((hi - lo + 1) * isz), std::move(owner), writable);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = -lo;
  impl->dtype = dt;
  return Tensor(std::move(impl));
}

template <class Managed>
std::shared_ptr<void> owner_of(Managed* m) {
  return std::shared_ptr<void>(m, [](void* p) {
    auto* mt = static_cast<Managed*>(p);
    if (!mt->deleter) return;
    if (Py_IsInitialized()) {
      py::gil_scoped_acquire gil;  // NumPy's deleter drops a Python reference
      mt->deleter(mt);
    } else {
      mt->deleter(mt);
    }
  });
}

Tensor from_capsule(py::handle cap) {
  if (PyCapsule_IsValid(cap.ptr(), kVersioned)) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(cap.ptr(), kVersioned));
    if (m->version.major != 1) {
      buffer_error(str_cat("from_dlpack: DLPack version ", m->version.major, ".", m->version.minor,
                           " is not supported (tensorlet reads 1.x)"));
    }
    Tensor t;
    {
      std::shared_ptr<void> owner = owner_of(m);  // from here on, the deleter runs exactly once
      if (PyCapsule_SetName(cap.ptr(), "used_dltensor_versioned") != 0) throw py::error_already_set();
      t = view_of(m->dl_tensor, owner, !(m->flags & kReadOnly));
    }
    return t;
  }
  if (PyCapsule_IsValid(cap.ptr(), kLegacy)) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap.ptr(), kLegacy));
    std::shared_ptr<void> owner = owner_of(m);
    if (PyCapsule_SetName(cap.ptr(), "used_dltensor") != 0) throw py::error_already_set();
    return view_of(m->dl_tensor, owner, true);
  }
  throw TypeError("from_dlpack: expected an object with __dlpack__ (or an unused DLPack capsule), got " +
                  std::string(py::str(py::type::of(cap).attr("__name__"))));
}

}  // namespace

void bind_dlpack(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  cls.def("__dlpack__", &dlpack_export, py::kw_only(), py::arg("stream") = py::none(),
          py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(), py::arg("copy") = py::none(),
          "A DLPack capsule of the tensor (versioned when max_version >= (1, 0); zero-copy unless copy=True).");
  cls.def("__dlpack_device__", [](const Tensor&) { return py::make_tuple(kDLCPU, 0); },
          "(device type, device id): (1, 0), the CPU.");
  m.def("_from_dlpack_capsule", &from_capsule, py::arg("capsule"),
        "A tensor viewing the memory of an unused DLPack capsule (zero-copy; consumes the capsule).");
}

}  // namespace tl::bind
