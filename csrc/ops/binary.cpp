#include "capture/recorder.h"
#include "ops/binary.h"
#include <limits>
#include "autograd/function.h"
#include "kernels/binary.h"
#include "kernels/copy.h"
#include "ops/inplace.h"
#include "ops/assign.h"
#include "ops/creation.h"
#include "ops/reduce.h"
#include "ops/shape_ops.h"
#include "ops/unary.h"

namespace tl {

using kernels::BinaryDTypes;
using kernels::BinaryOp;
using kernels::binary_op_name;

namespace {

struct BinarySpec {
  DType compute;  // both inputs are cast to this
  DType out;      // the result's dtype (compute, or bool)
};

// NumPy 2's result dtype of a binary ufunc on two array dtypes (weak scalars were already
// resolved into 0-d tensors of the right dtype); TypeError where NumPy has no loop for us.
BinarySpec binary_spec(BinaryOp op, DType a, DType b) {
  const DType p = promote_types(a, b);
  const char* name = binary_op_name(op);
  switch (kernels::binary_dtypes(op)) {
    case BinaryDTypes::Same: return {p, p};
    case BinaryDTypes::NoBool:
      TL_CHECK_TYPE(p != DType::Bool || op != BinaryOp::Sub, name,
                    op != BinaryOp::Sub ? "" :
                        "numpy boolean subtract, the `-` operator, is not supported, use the bitwise_xor, the `^` "
                        "operator, or the logical_xor function instead");
      if (p == DType::Bool) return {DType::Int8, DType::Int8};  // NumPy's bool loop is int8's
      return {p, p};
    case BinaryDTypes::TrueDiv:
      return is_floating(p) ? BinarySpec{p, p} : BinarySpec{DType::Float64, DType::Float64};
    case BinaryDTypes::Integral:
      TL_CHECK_TYPE(!is_floating(p), name, "ufunc '", name, "' not supported for the input types (",
                    dtype_name(a), ", ", dtype_name(b), "): it needs bool or integer operands");
      return {p, p};
    case BinaryDTypes::Compare: case BinaryDTypes::Logical: return {p, DType::Bool};
  }
  return {p, p};
}

// The shape two operands broadcast to: a reference to a's when they agree (no allocation on
// the common path), else computed into `storage`.
inline const Shape& out_shape(const Tensor& a, const Tensor& b, const char* name, Shape& storage) {
  if (a.shape() == b.shape()) return a.shape();
  storage = broadcast_shapes(a.shape(), b.shape(), name);
  return storage;
}

void check_pow_exponent(BinaryOp op, DType compute, const Tensor& b) {
  if (op == BinaryOp::Pow && is_integral(compute) && kernels::any_negative(b))
    throw std::invalid_argument("[power] Integers to negative integer powers are not allowed.");
}

// Unrecorded forward of any binary op.
Tensor binary_raw(BinaryOp op, const Tensor& a, const Tensor& b) {
  const BinarySpec sp = binary_spec(op, a.dtype(), b.dtype());
  const char* name = binary_op_name(op);
  Shape tmp;
  const Shape& shape = out_shape(a, b, name, tmp);
  Tensor ac = a.to_dtype(sp.compute), bc = b.to_dtype(sp.compute);
  check_pow_exponent(op, sp.compute, bc);
  Tensor out = Tensor::empty(shape, sp.out);
  kernels::binary(op, out, broadcast_view(ac, shape), broadcast_view(bc, shape));
  return out;
}

// Gradient flowing to an input: summed over the axes it was broadcast along, in its dtype.
Tensor grad_for(const Tensor& g, const InputMeta& meta) { return astype(sum_to(g, meta.shape), meta.dtype); }

Tensor zero_like_dtype(DType d) { return Tensor::zeros({}, d); }

struct AddBackward : Node {
  const char* name() const override { return "AddBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {needs_input_grad(0) ? grad_for(g, input_meta[0]) : Tensor(),
            needs_input_grad(1) ? grad_for(g, input_meta[1]) : Tensor()};
  }
};

struct SubBackward : Node {
  const char* name() const override { return "SubBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {needs_input_grad(0) ? grad_for(g, input_meta[0]) : Tensor(),
            needs_input_grad(1) ? grad_for(neg(g), input_meta[1]) : Tensor()};
  }
};

struct MulBackward : Node {
  SavedTensor a, b;
  const char* name() const override { return "MulBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    return {needs_input_grad(0) ? grad_for(mul(g, unpack(b)), input_meta[0]) : Tensor(),
            needs_input_grad(1) ? grad_for(mul(g, unpack(a)), input_meta[1]) : Tensor()};
  }
  void release_saved() override { a.reset(); b.reset(); }
};

struct DivBackward : Node {
  SavedTensor a, b;
  const char* name() const override { return "DivBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor ga, gb;
    const Tensor& bv = unpack(b);
    Tensor g_over_b = div(g, bv);
    if (needs_input_grad(0)) ga = grad_for(g_over_b, input_meta[0]);
    if (needs_input_grad(1)) gb = grad_for(neg(mul(g_over_b, div(unpack(a), bv))), input_meta[1]);
    return {ga, gb};
  }
  void release_saved() override { a.reset(); b.reset(); }
};

// d(a^b)/da = b a^(b-1) (0 where b == 0); d(a^b)/db = a^b log(a) (0 where a == 0 and b >= 0),
// the masks PyTorch uses so that 0^0 and 0^positive give finite gradients.
struct PowBackward : Node {
  SavedTensor a_saved, b_saved, out_saved;
  const char* name() const override { return "PowBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor ga, gb;
    const Tensor &a = unpack(a_saved), &b = unpack(b_saved), &out = unpack(out_saved);
    const DType dt = out.dtype();
    Tensor zero = zero_like_dtype(dt);
    if (needs_input_grad(0)) {
      Tensor one = Tensor::scalar(Scalar::from_int(1), dt);
      Tensor d = mul(b, power(a, sub(b, one)));
      d = where(equal(b, zero), zero, d);
      ga = grad_for(mul(g, d), input_meta[0]);
    }
    if (needs_input_grad(1)) {
      // Under create_graph the output is recomputed so that it carries its dependence on a, b.
      Tensor o = GradMode::is_enabled() ? power(a, b) : out;
      Tensor d = mul(o, log(a.to_dtype(dt)));
      d = where(logical_and(equal(a, zero), greater_equal(b, zero)), zero, d);
      gb = grad_for(mul(g, d), input_meta[1]);
    }
    return {ga, gb};
  }
  void release_saved() override {
    a_saved.reset();
    b_saved.reset();
    out_saved.reset();
  }
};

// maximum (swap = false) / minimum (swap = true): x's share is 1 where it was taken, 1/2 on ties.
struct MaxMinBackward : Node {
  SavedTensor a, b;
  bool is_min = false;
  const char* name() const override { return is_min ? "MinimumBackward0" : "MaximumBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    const DType dt = g.dtype();
    Tensor ac = unpack(a).to_dtype(dt), bc = unpack(b).to_dtype(dt);
    auto weight = [&](const Tensor& x, const Tensor& y) {
      Shape tmp;
      const Shape& shape = out_shape(x, y, "maximum", tmp);
      Tensor w = Tensor::empty(shape, dt);
      kernels::max_grad_weight(w, broadcast_view(x, shape), broadcast_view(y, shape));
      return w;
    };
    Tensor ga, gb;
    if (needs_input_grad(0)) ga = grad_for(mul(g, is_min ? weight(bc, ac) : weight(ac, bc)), input_meta[0]);
    if (needs_input_grad(1)) gb = grad_for(mul(g, is_min ? weight(ac, bc) : weight(bc, ac)), input_meta[1]);
    return {ga, gb};
  }
  void release_saved() override { a.reset(); b.reset(); }
};

struct AstypeBackward : Node {
  const char* name() const override { return "ToCopyBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override { return {astype(g, input_meta[0].dtype)}; }
};

struct WhereBackward : Node {
  SavedTensor cond_saved;
  const char* name() const override { return "WhereBackward0"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor zero = zero_like_dtype(g.dtype());
    const Tensor& cond = unpack(cond_saved);
    return {Tensor(),
            needs_input_grad(1) ? grad_for(where(cond, g, zero), input_meta[1]) : Tensor(),
            needs_input_grad(2) ? grad_for(where(cond, zero, g), input_meta[2]) : Tensor()};
  }
  void release_saved() override { cond_saved.reset(); }
};

struct ClipBackward : Node {
  SavedTensor x_saved, lo_saved, hi_saved;
  const char* name() const override { return "ClampBackward1"; }
  std::vector<Tensor> backward(const Tensor& g) override {
    Tensor zero = zero_like_dtype(g.dtype());
    const Tensor &x = unpack(x_saved), &lo = unpack(lo_saved), &hi = unpack(hi_saved);
    Tensor gx, glo, ghi;
    if (needs_input_grad(0)) {
      Tensor mask;
      if (lo.defined()) mask = greater_equal(x, lo);
      if (hi.defined()) mask = mask.defined() ? logical_and(mask, less_equal(x, hi)) : less_equal(x, hi);
      gx = grad_for(mask.defined() ? where(mask, g, zero) : g, input_meta[0]);
    }
    if (needs_input_grad(1)) {
      Tensor mask = less(x, lo);
      if (hi.defined()) mask = logical_and(mask, less_equal(lo, hi));
      glo = grad_for(where(mask, g, zero), input_meta[1]);
    }
    if (needs_input_grad(2)) {
      Tensor t = lo.defined() ? binary_raw(BinaryOp::Max, x, lo) : x;
      ghi = grad_for(where(greater(t, hi), g, zero), input_meta[2]);
    }
    return {gx, glo, ghi};
  }
  void release_saved() override {
    x_saved.reset();
    lo_saved.reset();
    hi_saved.reset();
  }
};

}  // namespace

Tensor binary_op(BinaryOp op, const Tensor& a, const Tensor& b) {
  TL_CAPTURE_OP(binary_op, op, a, b);
  switch (op) {
#define TL_BINARY(name, K, fn, ...) case BinaryOp::K: return fn(a, b);
#include "ops/binary.def"
#undef TL_BINARY
  }
  return binary_raw(op, a, b);
}

Tensor add(const Tensor& a, const Tensor& b) {
  TL_CAPTURE_OP(add, a, b);
  Tensor out = binary_raw(BinaryOp::Add, a, b);
  record<AddBackward>(out, {a, b});
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  TL_CAPTURE_OP(sub, a, b);
  Tensor out = binary_raw(BinaryOp::Sub, a, b);
  record<SubBackward>(out, {a, b});
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  TL_CAPTURE_OP(mul, a, b);
  Tensor out = binary_raw(BinaryOp::Mul, a, b);
  if (auto node = record<MulBackward>(out, {a, b})) {
    node->a = a;
    node->b = b;
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  TL_CAPTURE_OP(div, a, b);
  Tensor out = binary_raw(BinaryOp::Div, a, b);
  if (auto node = record<DivBackward>(out, {a, b})) {
    node->a = a;
    node->b = b;
  }
  return out;
}

Tensor power(const Tensor& a, const Tensor& b) {
  TL_CAPTURE_OP(power, a, b);
  Tensor out = binary_raw(BinaryOp::Pow, a, b);
  if (auto node = record<PowBackward>(out, {a, b})) {
    node->a_saved = a;
    node->b_saved = b;
    node->out_saved.save_output(out);
  }
  return out;
}

static Tensor max_min(BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(op, a, b);
  if (auto node = record<MaxMinBackward>(out, {a, b})) {
    node->a = a;
    node->b = b;
    node->is_min = op == BinaryOp::Min;
  }
  return out;
}
Tensor maximum(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(maximum, a, b); return max_min(BinaryOp::Max, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(minimum, a, b); return max_min(BinaryOp::Min, a, b); }

Tensor floor_divide(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(floor_divide, a, b); return binary_raw(BinaryOp::FloorDiv, a, b); }
Tensor remainder(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(remainder, a, b); return binary_raw(BinaryOp::Mod, a, b); }
Tensor equal(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(equal, a, b); return binary_raw(BinaryOp::Eq, a, b); }
Tensor not_equal(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(not_equal, a, b); return binary_raw(BinaryOp::Ne, a, b); }
Tensor less(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(less, a, b); return binary_raw(BinaryOp::Lt, a, b); }
Tensor less_equal(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(less_equal, a, b); return binary_raw(BinaryOp::Le, a, b); }
Tensor greater(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(greater, a, b); return binary_raw(BinaryOp::Gt, a, b); }
Tensor greater_equal(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(greater_equal, a, b); return binary_raw(BinaryOp::Ge, a, b); }
Tensor logical_and(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(logical_and, a, b); return binary_raw(BinaryOp::LogicalAnd, a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(logical_or, a, b); return binary_raw(BinaryOp::LogicalOr, a, b); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(logical_xor, a, b); return binary_raw(BinaryOp::LogicalXor, a, b); }
Tensor bitwise_and(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(bitwise_and, a, b); return binary_raw(BinaryOp::BitAnd, a, b); }
Tensor bitwise_or(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(bitwise_or, a, b); return binary_raw(BinaryOp::BitOr, a, b); }
Tensor bitwise_xor(const Tensor& a, const Tensor& b) { TL_CAPTURE_OP(bitwise_xor, a, b); return binary_raw(BinaryOp::BitXor, a, b); }

Tensor where(const Tensor& cond_in, const Tensor& x, const Tensor& y) {
  TL_CAPTURE_OP(where, cond_in, x, y);
  Shape shape = broadcast_shapes(broadcast_shapes(cond_in.shape(), x.shape(), "where"), y.shape(), "where");
  const DType dt = promote_types(x.dtype(), y.dtype());
  Tensor cond = cond_in.to_dtype(DType::Bool);
  Tensor xc = x.to_dtype(dt), yc = y.to_dtype(dt);
  Tensor out = Tensor::empty(shape, dt);
  kernels::where(out, broadcast_view(cond, shape), broadcast_view(xc, shape), broadcast_view(yc, shape));
  if (auto node = record<WhereBackward>(out, {cond, x, y})) node->cond_saved = cond;
  return out;
}

Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi) {
  TL_CAPTURE_OP(clip, x, lo, hi);
  Tensor out;
  if (lo.defined()) out = binary_raw(BinaryOp::Max, x, lo);
  if (hi.defined()) out = binary_raw(BinaryOp::Min, out.defined() ? out : x, hi);
  if (!out.defined()) out = x.clone();
  if (auto node = record<ClipBackward>(out, {x, lo, hi})) {
    node->x_saved = x;
    node->lo_saved = lo;
    node->hi_saved = hi;
  }
  return out;
}

namespace {

bool storages_overlap(const Tensor& a, const Tensor& b) {
  const char* a0 = static_cast<const char*>(a.storage()->data);
  const char* b0 = static_cast<const char*>(b.storage()->data);
  return a0 < b0 + b.storage()->nbytes && b0 < a0 + a.storage()->nbytes;
}

// a op= b on a tensor with history (or fed from one): the op out of place with full history,
// then written into a (ops/inplace.h). Operands the node saves must not be a's storage, which
// the write changes: a is cloned through a differentiable copy (so create_graph still sees its
// history) for every op but add/subtract, which save nothing, and so is b where it aliases a.
void binary_inplace_graph(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  const bool saves_operands = op != BinaryOp::Add && op != BinaryOp::Sub;
  Tensor lhs = saves_operands ? copy(a) : a;
  Tensor rhs = saves_operands && storages_overlap(a, b) ? copy(b) : b;
  inplace_rebase(a, astype(binary_op(op, lhs, rhs), a.dtype()), name);
}

bool has_derivative(BinaryOp op) {
  static constexpr bool grad[] = {
#define TL_BINARY(name, K, fn, dtypes, grad, ...) TL_BINARY_HAS_##grad,
#define TL_BINARY_HAS_Grad true
#define TL_BINARY_HAS_NoGrad false
#include "ops/binary.def"
#undef TL_BINARY
  };
  return grad[static_cast<int>(op)];
}

}  // namespace

void binary_inplace(BinaryOp op, const Tensor& a, const Tensor& b_in) {
  TL_CAPTURE_OP(binary_inplace, op, a, b_in);
  const char* name = binary_op_name(op);
  check_inplace_target(a, name);  // read-only storage, broadcast views
  TL_CHECK(!kernels::is_comparison(op) && !kernels::is_logical(op), name, "has no in-place form");
  const BinarySpec sp = binary_spec(op, a.dtype(), b_in.dtype());
  check_same_kind(sp.out, a.dtype(), name);
  Shape tmp;
  const Shape& shape = out_shape(a, b_in, name, tmp);
  TL_CHECK(shape == a.shape(), name, "non-broadcastable output operand with shape ", shape_str(a.shape()),
           " doesn't match the broadcast shape ", shape_str(shape));
  if (inplace_needs_graph(a, {&b_in}, name, has_derivative(op))) {
    if (!a.is_view()) return binary_inplace_graph(op, a, b_in, name);
    // b read from a's storage (v *= v) would be saved, then overwritten: take a copy first.
    const Tensor b = storages_overlap(a, b_in) ? copy(b_in) : b_in;
    return inplace_on_view(a, name, [&](const Tensor& r) { binary_inplace(op, r, b); });
  }
  Tensor b = b_in.to_dtype(sp.compute);
  check_pow_exponent(op, sp.compute, b);
  if (sp.out != a.dtype()) {  // compute in the wider dtype, then cast into a
    Tensor tmp = Tensor::empty(shape, sp.out);
    kernels::binary(op, tmp, a.to_dtype(sp.compute), broadcast_view(b, shape));
    begin_inplace_write(a, name);
    kernels::copy_cast(a, tmp);
    return;
  }
  // b may share memory with a in another layout (a += a.T): read it from a copy then.
  const bool same_view = b.storage() == a.storage() && b.offset() == a.offset() && b.shape() == a.shape() &&
                         b.strides() == a.strides();
  if (storages_overlap(a, b) && !same_view) b = b.clone();
  begin_inplace_write(a, name);
  kernels::binary(op, a, a, broadcast_view(b, shape));
}

// A 0-d tensor holding s in dtype d, written directly (Tensor::scalar runs the fill kernel: this
// is on the path of every `tensor op python_scalar`). s's kind always fits d here: bool / int
// into any dtype, float into a float dtype, ints range-checked by the caller.
static Tensor scalar_tensor(Scalar s, DType d) {
  Tensor t = Tensor::empty({}, d);
  TL_DISPATCH_ALL(d, "scalar", [&] { *t.data<scalar_t>() = s.to<scalar_t>(); });
  return t;
}

Tensor weak_scalar_like(Scalar s, const Tensor& like) {
  const DType d = promote_with_scalar(like.dtype(), s.kind);
  check_scalar_fits(s, d);
  return scalar_tensor(s, d);
}

Tensor weak_scalar_for_compare(Scalar s, const Tensor& like) {
  const DType d = promote_with_scalar(like.dtype(), s.kind);
  try {
    check_scalar_fits(s, d);
  } catch (const std::overflow_error&) {
    return scalar_tensor(s, DType::Int64);
  }
  return scalar_tensor(s, d);
}

Tensor add(const Tensor& a, Scalar b) { TL_CAPTURE_OP(add, a, b); return add(a, weak_scalar_like(b, a)); }
Tensor mul(const Tensor& a, Scalar b) { TL_CAPTURE_OP(mul, a, b); return mul(a, weak_scalar_like(b, a)); }

Tensor astype(const Tensor& x, DType dtype) {
  TL_CAPTURE_OP(astype, x, dtype);
  if (x.dtype() == dtype) return x;
  Tensor out = x.to_dtype(dtype);
  if (is_floating(dtype) && is_floating(x.dtype())) record<AstypeBackward>(out, {x});
  return out;
}

}  // namespace tl
