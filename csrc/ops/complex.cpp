#include "ops/complex.h"
#include "autograd/function.h"
#include "capture/recorder.h"
#include "kernels/complex.h"
#include "kernels/copy.h"
#include "ops/binary.h"
#include "ops/creation.h"
#include "ops/linalg.h"

namespace tl {

namespace {
// The part at `which` (0 real, 1 imaginary) of a complex tensor, as a component-dtype view.
Tensor part_view(const Tensor& x, int which) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.storage();
  impl->shape = x.shape();
  impl->strides = x.strides();
  for (int64_t& s : impl->strides) s *= 2;
  impl->offset = 2 * x.offset() + which;
  impl->dtype = complex_component(x.dtype());
  return as_view_of(Tensor(std::move(impl)), x);
}

// A complex tensor of dtype `dtype` with parts re and im (same shape).
Tensor make_complex(const Tensor& re, const Tensor& im, DType dtype) {
  TL_CHECK(is_complex(dtype) && re.shape() == im.shape(), "complex", "internal: parts ", shape_str(re.shape()),
           " and ", shape_str(im.shape()), " into ", dtype_name(dtype));
  Tensor out = Tensor::empty(re.shape(), dtype);
  kernels::copy_cast(part_view(out, 0), re);
  kernels::copy_cast(part_view(out, 1), im);
  return out;
}
}  // namespace

Tensor real_part(const Tensor& x) {
  TL_CAPTURE_OP(real_part, x);
  return is_complex(x.dtype()) ? part_view(x, 0) : x;
}

Tensor imag_part(const Tensor& x) {
  TL_CAPTURE_OP(imag_part, x);
  return is_complex(x.dtype()) ? part_view(x, 1) : Tensor::zeros(x.shape(), x.dtype());
}

Tensor conj(const Tensor& x) {
  TL_CAPTURE_OP(conj, x);
  if (!is_complex(x.dtype())) return x;
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  kernels::complex_conj(out, x);
  return out;
}

Tensor complex_matmul(const Tensor& a, const Tensor& b) {
  TL_CAPTURE_OP(complex_matmul, a, b);
  TL_CHECK(is_complex(a.dtype()) && a.dtype() == b.dtype(), "matmul", "internal: complex operands expected");
  const Tensor ar = real_part(a), ai = imag_part(a), br = real_part(b), bi = imag_part(b);
  return make_complex(sub(matmul(ar, br), matmul(ai, bi)), add(matmul(ar, bi), matmul(ai, br)), a.dtype());
}

}  // namespace tl
