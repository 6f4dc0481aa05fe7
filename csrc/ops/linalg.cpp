#include "capture/recorder.h"
#include "ops/complex.h"
#include "ops/linalg.h"
#include "autograd/function.h"
#include "kernels/gemm.h"
#include "ops/binary.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"

namespace tl {

// rows x cols view with element strides (rs, cs) at `t`'s data pointer.
GemmOperand as_gemm_operand(const Tensor& m) {
  const int64_t rows = m.shape()[0], cols = m.shape()[1];
  const int64_t rs = m.strides()[0], cs = m.strides()[1];
  GemmOperand op;
  op.keep = m;
  if ((cs == 1 || cols == 1) && rs >= std::max<int64_t>(cols, 1)) {
    op.ld = rs;
  } else if ((rs == 1 || rows == 1) && cs >= std::max<int64_t>(rows, 1)) {
    op.trans = true;
    op.ld = cs;
  } else {
    op.keep = m.clone();
    op.ld = std::max<int64_t>(cols, 1);
  }
  return op;
}

namespace {

template <class T>
void gemm_2d(const Tensor& out, const Tensor& a, const Tensor& b) {
  const int64_t M = a.shape()[0], K = a.shape()[1], N = b.shape()[1];
  GemmOperand A = as_gemm_operand(a), B = as_gemm_operand(b);
  kernels::gemm<T>(A.trans, B.trans, M, N, K, T(1), A.keep.data<T>(), A.ld, B.keep.data<T>(), B.ld, T(0),
                   out.data<T>(), std::max<int64_t>(N, 1));
}

// Batched product of a (..., M, K) and b (..., K, N), both ndim >= 2, same dtype.
Tensor matmul_nd_forward(const Tensor& a, const Tensor& b) {
  const int64_t na = a.ndim(), nb = b.ndim();
  const int64_t M = a.shape()[na - 2], K = a.shape()[na - 1], K2 = b.shape()[nb - 2], N = b.shape()[nb - 1];
  if (K != K2)
    throw std::invalid_argument(str_cat("[matmul] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                                        " are not aligned: ", K, " (dim ", na - 1, ") != ", K2, " (dim ", nb - 2, ")"));
  Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                 Shape(b.shape().begin(), b.shape().end() - 2), "matmul");
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Shape a_full = batch, b_full = batch;
  a_full.insert(a_full.end(), {M, K});
  b_full.insert(b_full.end(), {K, N});
  Tensor av = broadcast_view(a, a_full), bv = broadcast_view(b, b_full);
  Tensor out = Tensor::empty(out_shape, a.dtype());
  const int64_t nbatch = checked_numel(batch);
  const int64_t bd = static_cast<int64_t>(batch.size());
  std::vector<int64_t> idx(bd, 0);
  // The GEMM exists for five dtypes (build time): float16 multiplies in float32 (as NumPy's
  // float16 matmul accumulates in float); the other integers in int64, whose wrapped result
  // has the same low bits as NumPy's wrapping in the narrow type.
  const DType d = a.dtype();
  const DType compute = d == DType::Float16 ? DType::Float32
                        : (d == DType::Float32 || d == DType::Float64 || d == DType::Int32 || d == DType::UInt8)
                            ? d
                            : DType::Int64;
  Tensor result = compute == a.dtype() ? out : Tensor::empty(out_shape, compute);
  Tensor ac = av.to_dtype(compute), bc = bv.to_dtype(compute);
  for (int64_t i = 0; i < nbatch; ++i) {
    int64_t ao = ac.offset(), bo = bc.offset(), r = i, oo = 0;
    for (int64_t d = bd - 1; d >= 0; --d) {
      int64_t j = r % batch[d];
      r /= batch[d];
      ao += j * ac.strides()[d];
      bo += j * bc.strides()[d];
      oo += j * result.strides()[d];
    }
    Tensor am = ac.view_with({M, K}, {ac.strides()[bd], ac.strides()[bd + 1]}, ao);
    Tensor bm = bc.view_with({K, N}, {bc.strides()[bd], bc.strides()[bd + 1]}, bo);
    Tensor om = result.view_with({M, N}, {std::max<int64_t>(N, 1), 1}, oo);
    switch (compute) {
      case DType::Float32: gemm_2d<float>(om, am, bm); break;
      case DType::Float64: gemm_2d<double>(om, am, bm); break;
      case DType::Int32: gemm_2d<int32_t>(om, am, bm); break;
      case DType::UInt8: gemm_2d<uint8_t>(om, am, bm); break;
      default: gemm_2d<int64_t>(om, am, bm); break;
    }
  }
  if (result.impl() != out.impl()) out.copy_from(result);
  return out;
}

Tensor matmul_nd(const Tensor& a, const Tensor& b);

struct MatmulBackward : Node {
  SavedTensor a, b;
  const char* name() const override {  // PyTorch's names for the cases of matmul
    const size_t ra = input_meta[0].shape.size(), rb = input_meta[1].shape.size();
    return ra == 1 && rb == 1 ? "DotBackward0" : ra == 2 && rb == 2 ? "MmBackward0" : rb == 1 ? "MvBackward0" : "BmmBackward0";
  }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = sum_to(matmul_nd(g, swapaxes(unpack(b), -1, -2)), input_meta[0].shape);
    if (needs_input_grad(1)) gb = sum_to(matmul_nd(swapaxes(unpack(a), -1, -2), g), input_meta[1].shape);
    return {ga, gb};
  }
  void release_saved() override {
    a.reset();
    b.reset();
  }
};

Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  Tensor out = matmul_nd_forward(a, b);
  if (auto node = record<MatmulBackward>(out, {a, b})) {
    node->a = a;
    node->b = b;
  }
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  TL_CAPTURE_OP(matmul, a_in, b_in);
  TL_CHECK(a_in.ndim() > 0 && b_in.ndim() > 0, "matmul", "Input operand ", a_in.ndim() == 0 ? 0 : 1,
           " does not have enough dimensions (has 0, gufunc core with signature (n?,k),(k,m?)->(n?,m?) requires 1)");
  DType dt = promote_types(a_in.dtype(), b_in.dtype());
  Tensor a = astype(a_in, dt), b = astype(b_in, dt);
  if (is_complex(dt)) return complex_matmul(a, b);  // four float GEMMs (ops/complex.cpp)
  const bool a_vec = a.ndim() == 1, b_vec = b.ndim() == 1;
  if (a_vec && b_vec && a.shape()[0] != b.shape()[0])
    throw std::invalid_argument(str_cat("[matmul] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                                        " are not aligned: ", a.shape()[0], " (dim 0) != ", b.shape()[0], " (dim 0)"));
  if (a_vec) a = reshape(a, {1, a.shape()[0]});
  if (b_vec) b = reshape(b, {b.shape()[0], 1});
  Tensor out = matmul_nd(a, b);
  if (a_vec || b_vec) {
    Shape s(out.shape().begin(), out.shape().end() - 2);
    if (!a_vec) s.push_back(out.shape()[out.ndim() - 2]);
    if (!b_vec) s.push_back(out.shape()[out.ndim() - 1]);
    out = not_a_view(reshape(out, s));
  }
  return out;
}

Tensor dot(const Tensor& a, const Tensor& b) {
  TL_CAPTURE_OP(dot, a, b);
  if (a.ndim() == 0 || b.ndim() == 0) return mul(a, b);
  if (a.ndim() <= 2 && b.ndim() <= 2) {
    const int64_t ka = a.shape()[a.ndim() - 1], kb = b.shape()[b.ndim() == 1 ? 0 : b.ndim() - 2];
    if (ka != kb)
      throw std::invalid_argument(str_cat("[dot] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                                          " not aligned: ", ka, " (dim ", a.ndim() - 1, ") != ", kb, " (dim ",
                                          b.ndim() == 1 ? 0 : b.ndim() - 2, ")"));
    return matmul(a, b);
  }
  // N-D: dot(a, b)[i..., j..., n] = sum_k a[i..., k] * b[j..., k, n]
  const int64_t K = a.shape()[a.ndim() - 1];
  const int64_t kb_axis = b.ndim() == 1 ? 0 : b.ndim() - 2;
  if (K != b.shape()[kb_axis])
    throw std::invalid_argument(str_cat("[dot] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                                        " not aligned: ", K, " (dim ", a.ndim() - 1, ") != ", b.shape()[kb_axis],
                                        " (dim ", kb_axis, ")"));
  Shape out_shape(a.shape().begin(), a.shape().end() - 1);
  Tensor a2 = reshape(a, {-1, K});
  Tensor b2;
  if (b.ndim() == 1) {
    b2 = reshape(b, {K, 1});
  } else {
    std::vector<int64_t> perm;
    perm.push_back(kb_axis);
    for (int64_t i = 0; i < b.ndim(); ++i) if (i != kb_axis) perm.push_back(i);
    b2 = reshape(transpose(b, perm), {K, -1});
    for (int64_t i = 0; i < b.ndim(); ++i) if (i != kb_axis) out_shape.push_back(b.shape()[i]);
  }
  return not_a_view(reshape(matmul(a2, b2), out_shape));
}

}  // namespace tl
