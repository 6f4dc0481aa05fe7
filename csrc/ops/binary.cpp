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
#include "ops/binary_grad.h"
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
      return is_inexact(p) ? BinarySpec{p, p} : BinarySpec{DType::Float64, DType::Float64};
    case BinaryDTypes::Float: {
      // NumPy's loop choice: the narrowest float both operands cast to safely (int8 with uint8
      // gives float16, though int8 and uint8 promote to int16).
      const DType f = promote_types(float_result_dtype(a), float_result_dtype(b));
      return {f, f};
    }
    case BinaryDTypes::Integral:
      TL_CHECK_TYPE(!is_inexact(p), name, "ufunc '", name, "' not supported for the input types (",
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

// Through the logged fill kernel (Tensor::zeros is a memset), so that a recorded backward that
// makes it replays from its kernel log (capture/recorder.h) instead of re-running the node.
Tensor zero_like_dtype(DType d) { return Tensor::full({}, Scalar(), d); }

// One node type for every differentiable table op: the formula (ops/binary_grad.cpp) gets g,
// the operands and, for GradABOut ops, the output (saved detached, so under create_graph it is
// recomputed from a, b to carry its dependence on them); the node sums each gradient over the
// axes its operand was broadcast along.
struct BinaryBackward : Node {
  BinaryOp op{};
  SavedTensor a, b, out;
  const char* name() const override { return grad::node_name(op); }
  // The saved tensors, unpacked on a formula's first read.
  struct Unpacked final : grad::BinarySaved {
    const BinaryBackward& n;
    mutable Tensor a_, b_, out_;
    explicit Unpacked(const BinaryBackward& node) : n(node) {}
    const Tensor& a() const override { return get(a_, n.a); }
    const Tensor& b() const override { return get(b_, n.b); }
    const Tensor& out() const override {
      if (!out_.defined()) out_ = GradMode::is_enabled() ? binary_op(n.op, a(), b()) : n.unpack(n.out);
      return out_;
    }
    const Tensor& get(Tensor& cache, const SavedTensor& s) const {
      if (!cache.defined()) cache = n.unpack(s);
      return cache;
    }
  };
  std::vector<Tensor> backward(const Tensor& g) override {
    const bool need_a = needs_input_grad(0), need_b = needs_input_grad(1);
    // A saved output is checked whatever the formula reads (PyTorch's PowBackward1 does so): an
    // in-place write to the result of a ** b is an error. Operands are checked when read.
    if (out.defined()) unpack(out);
    const Unpacked saved(*this);
    grad::BinaryGrads d = grad::derivative(op, g, saved, need_a, need_b);
    std::vector<Tensor> grads{need_a ? grad_for(d.a, input_meta[0]) : Tensor(),
                              need_b ? grad_for(d.b, input_meta[1]) : Tensor()};
    // For capture/rewrite.cpp: the call's results and the saved tensors the formula read.
    if (capture::recording()) capture::describe(grads, {saved.a_, saved.b_, saved.out_}, static_cast<int64_t>(op));
    return grads;
  }
  void release_saved() override {
    a.reset();
    b.reset();
    out.reset();
  }
};

enum class Saves { Nothing, AB, ABOut };

template <Saves S>
Tensor differentiable(BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(op, a, b);
  if (auto node = record<BinaryBackward>(out, {a, b})) {
    node->op = op;
    if constexpr (S != Saves::Nothing) {
      node->a = a;
      node->b = b;
    }
    if constexpr (S == Saves::ABOut) node->out.save_output(out);
  }
  return out;
}

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
    std::vector<Tensor> grads{Tensor(), needs_input_grad(1) ? grad_for(where(cond, g, zero), input_meta[1]) : Tensor(),
                              needs_input_grad(2) ? grad_for(where(cond, zero, g), input_meta[2]) : Tensor()};
    // For capture/rewrite.cpp: what the call read besides g.
    if (capture::recording()) capture::describe(grads, {cond});
    return grads;
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
    // For capture/rewrite.cpp: what the call read besides g.
    if (capture::recording()) capture::describe({gx, glo, ghi}, {x, lo, hi});
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

// The table's grad column -> how the op is computed and recorded.
#define TL_BINARY_RUN_NoGrad(K, a, b) binary_raw(BinaryOp::K, a, b)
#define TL_BINARY_RUN_GradNone(K, a, b) differentiable<Saves::Nothing>(BinaryOp::K, a, b)
#define TL_BINARY_RUN_GradAB(K, a, b) differentiable<Saves::AB>(BinaryOp::K, a, b)
#define TL_BINARY_RUN_GradABOut(K, a, b) differentiable<Saves::ABOut>(BinaryOp::K, a, b)
#define TL_BINARY(name, K, fn, dtypes, grad, ...)   \
  Tensor fn(const Tensor& a, const Tensor& b) {    \
    TL_CAPTURE_OP(fn, a, b);                        \
    return TL_BINARY_RUN_##grad(K, a, b);           \
  }
#include "ops/binary.def"
#undef TL_BINARY

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

// The table's grad column: whether the op has a derivative, and whether its node saves operands.
#define TL_BINARY_HAS_NoGrad false
#define TL_BINARY_HAS_GradNone true
#define TL_BINARY_HAS_GradAB true
#define TL_BINARY_HAS_GradABOut true
#define TL_BINARY_SAVES_NoGrad false
#define TL_BINARY_SAVES_GradNone false
#define TL_BINARY_SAVES_GradAB true
#define TL_BINARY_SAVES_GradABOut true
bool has_derivative(BinaryOp op) {
  static constexpr bool grad[] = {
#define TL_BINARY(name, K, fn, dtypes, grad, ...) TL_BINARY_HAS_##grad,
#include "ops/binary.def"
#undef TL_BINARY
  };
  return grad[static_cast<int>(op)];
}
bool saves_operands_of(BinaryOp op) {
  static constexpr bool saves[] = {
#define TL_BINARY(name, K, fn, dtypes, grad, ...) TL_BINARY_SAVES_##grad,
#include "ops/binary.def"
#undef TL_BINARY
  };
  return saves[static_cast<int>(op)];
}

// a op= b on a tensor with history (or fed from one): the op out of place with full history,
// then written into a (ops/inplace.h). Operands the node saves must not be a's storage, which
// the write changes: a is cloned through a differentiable copy (so create_graph still sees its
// history) for every op whose node saves its operands, and so is b where it aliases a.
void binary_inplace_graph(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  const bool saves_operands = saves_operands_of(op);
  Tensor lhs = saves_operands ? copy(a) : a;
  Tensor rhs = saves_operands && storages_overlap(a, b) ? copy(b) : b;
  inplace_rebase(a, astype(binary_op(op, lhs, rhs), a.dtype()), name);
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
  if (is_complex(d)) {
    kernels::fill(t, s);
    return t;
  }
  TL_DISPATCH_ALL(d, "scalar", [&] { *t.data<scalar_t>() = s.to<scalar_t>(); });
  return t;
}

Tensor weak_scalar(Scalar s, const Tensor& like, BinaryOp op) {
  const DType d = promote_with_scalar(like.dtype(), s.kind);
  const BinaryDTypes rule = kernels::binary_dtypes(op);
  // NumPy's loop for integer operands is a float one (u8 / 300 is 0.85, hypot(u8, 300) is 300):
  // the value goes exactly into that float dtype, without a range check against the tensor's.
  if (!is_inexact(d) && (rule == BinaryDTypes::TrueDiv || rule == BinaryDTypes::Float))
    return scalar_tensor(s, rule == BinaryDTypes::TrueDiv ? DType::Float64 : float_result_dtype(d));
  // Comparisons compare exactly and logical ops read only truth: an int out of d's range is an
  // int64 operand there.
  if (rule == BinaryDTypes::Compare || rule == BinaryDTypes::Logical) {
    try {
      check_scalar_fits(s, d);
    } catch (const std::overflow_error&) {
      return scalar_tensor(s, DType::Int64);
    }
    return scalar_tensor(s, d);
  }
  check_scalar_fits(s, d);
  return scalar_tensor(s, d);
}

Tensor add(const Tensor& a, Scalar b) { TL_CAPTURE_OP(add, a, b); return add(a, weak_scalar(b, a)); }
Tensor mul(const Tensor& a, Scalar b) { TL_CAPTURE_OP(mul, a, b); return mul(a, weak_scalar(b, a)); }

Tensor astype(const Tensor& x, DType dtype) {
  TL_CAPTURE_OP(astype, x, dtype);
  if (x.dtype() == dtype) return x;
  Tensor out = x.to_dtype(dtype);
  if (is_floating(dtype) && is_floating(x.dtype())) record<AstypeBackward>(out, {x});
  // Into complex: recording refuses (complex autograd is not supported yet) rather than drop the graph.
  if (is_complex(dtype)) record<AstypeBackward>(out, {x});
  return out;
}

}  // namespace tl
