// Elementwise ops from Python: module functions (tl.add, tl.exp, tl.where, tl.clip, ...), the
// arithmetic / comparison / bitwise operators of Tensor with their reflected and in-place
// forms, and the elementwise Tensor methods (astype, abs, clip, exp, ...).
//
// Operands: a Tensor; a Python bool / int / float, which is weak (NumPy 2: it takes the other
// operand's dtype within its kind; an int that does not fit raises OverflowError, except in
// comparisons, which compare exactly); or anything NumPy can turn into an array. Operators
// return NotImplemented for other objects, so Python can try the reflected operation.
//
// Tensor keeps identity hashing (like torch.Tensor) although __eq__ is elementwise.
#include <pybind11/stl.h>
#include "bindings/convert.h"
#include "bindings/gil.h"
#include "autograd/grad_mode.h"
#include "ops/assign.h"
#include "ops/inplace.h"
#include "ops/ops.h"

namespace tl::bind {

namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

inline bool is_tensor(py::handle h) { return py::isinstance<Tensor>(h); }

// Weak (NumPy 2) operands are exactly Python's bool / int / float: np.float64 subclasses float
// but is a strong float64 for NumPy, so it takes the array path.
inline bool is_weak_scalar(py::handle h) {
  return PyBool_Check(h.ptr()) || PyLong_CheckExact(h.ptr()) || PyFloat_CheckExact(h.ptr());
}

// What an operator accepts as its other operand (else NotImplemented).
bool acceptable(py::handle h) {
  if (is_tensor(h) || is_weak_scalar(h) || py::isinstance<py::array>(h) || py::isinstance<py::list>(h) ||
      py::isinstance<py::tuple>(h))
    return true;
  static py::handle np_generic = py::object(py::module_::import("numpy").attr("generic")).release();
  return PyObject_IsInstance(h.ptr(), np_generic.ptr()) == 1;
}

inline Tensor as_tensor(py::handle h) {
  if (is_tensor(h)) return h.cast<const Tensor&>();
  return to_tensor(h, std::nullopt, false);
}

inline bool compares(BinaryOp op) { return kernels::is_comparison(op); }

// op: the binary op the scalar is an operand of (Add for where / clip bounds).
inline Tensor weak(py::handle s, const Tensor& like, BinaryOp op) {
  Scalar v = to_scalar(s);
  if (compares(op)) return weak_scalar_for_compare(v, like);
  // true_divide's loop for integer tensors is float64 (NumPy): a Python int there is a float64
  // value, not range-checked against the tensor's integer dtype (u8 / 300 is 0.85).
  if (op == BinaryOp::Div && !is_floating(like.dtype()) && v.kind != ScalarKind::Float) v = Scalar::from_double(v.f);
  return weak_scalar_like(v, like);
}

// The other operand of an operator whose first operand is `self`.
inline Tensor other_operand(py::handle h, const Tensor& self, BinaryOp op) {
  if (is_tensor(h)) return h.cast<const Tensor&>();
  if (is_weak_scalar(h)) return weak(h, self, op);
  return to_tensor(h, std::nullopt, false);
}

// Both operands of a module function: Python scalars are weak next to an array, strong when
// both are Python scalars (np.add(1, 2.5) is float64).
std::pair<Tensor, Tensor> operands(py::handle a, py::handle b, BinaryOp op = BinaryOp::Add) {
  const bool sa = is_weak_scalar(a), sb = is_weak_scalar(b);
  if (sa && sb) return {to_tensor(a, std::nullopt, false), to_tensor(b, std::nullopt, false)};
  if (sa) {
    Tensor tb = as_tensor(b);
    return {weak(a, tb, op), tb};
  }
  Tensor ta = as_tensor(a);
  return {ta, sb ? weak(b, ta, op) : as_tensor(b)};
}

inline Tensor run_binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  return without_gil_if(is_large(std::max(a.numel(), b.numel())), [&] { return binary_op(op, a, b); });
}

// ufunc out=: None, a Tensor, or a 1-tuple holding one (NumPy's two spellings). The result is
// computed out of place and written through assign_out (same_kind casting, out's shape, not
// read-only); returns out itself. Refused under autograd, as PyTorch's out= variants.
template <class Compute>
py::object with_out(py::handle out, const char* op, std::initializer_list<const Tensor*> inputs, Compute&& compute) {
  if (out.is_none()) return py::cast(compute());
  py::handle o = out;
  if (PyTuple_Check(out.ptr())) {
    TL_CHECK(PyTuple_GET_SIZE(out.ptr()) == 1, op, "The 'out' tuple must have exactly one entry");
    o = PyTuple_GET_ITEM(out.ptr(), 0);
  }
  TL_CHECK_TYPE(is_tensor(o), op, "return arrays must be of ArrayType: out= takes a tensorlet Tensor, got ",
                std::string(py::str(py::type::of(o).attr("__name__"))));
  const Tensor& t = o.cast<const Tensor&>();
  if (GradMode::is_enabled()) {
    bool needs = t.requires_grad();
    for (const Tensor* in : inputs) needs = needs || in->requires_grad();
    if (needs)
      throw RuntimeError(str_cat("[", op, "] out= is not differentiable: an input or out requires grad; call it "
                                 "under tl.no_grad() or without out="));
  }
  inplace_needs_graph(t, inputs, op, false);  // out may be a view of a tensor with history
  Tensor r;
  {
    NoGradGuard no_grad;
    r = compute();  // releases the GIL itself for large work
  }
  without_gil_if(is_large(t.numel()), [&] { assign_out(t, r, op); });
  return py::reinterpret_borrow<py::object>(o);
}

template <BinaryOp OP>
py::object binary_fn(py::handle a, py::handle b, py::handle out) {
  auto [ta, tb] = operands(a, b, OP);
  return with_out(out, binary_op_name(OP), {&ta, &tb}, [&] { return run_binary(OP, ta, tb); });
}

// self OP other (Reflected: other OP self).
template <BinaryOp OP, bool Reflected>
py::object binary_dunder(const Tensor& self, py::handle other) {
  if (is_tensor(other)) {  // the hot path: tensor op tensor
    const Tensor& o = other.cast<const Tensor&>();
    return py::cast(Reflected ? run_binary(OP, o, self) : run_binary(OP, self, o));
  }
  if (is_weak_scalar(other)) {  // tensor op Python number (weak)
    Tensor o = weak(other, self, OP);
    return py::cast(Reflected ? run_binary(OP, o, self) : run_binary(OP, self, o));
  }
  if (!acceptable(other)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  Tensor o = to_tensor(other, std::nullopt, false);
  return py::cast(Reflected ? run_binary(OP, o, self) : run_binary(OP, self, o));
}

template <BinaryOp OP>
py::object inplace_dunder(py::object self, py::handle other) {
  if (!acceptable(other)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  const Tensor& a = self.cast<const Tensor&>();
  Tensor b = other_operand(other, a, OP);
  without_gil_if(is_large(a.numel()), [&] { binary_inplace(OP, a, b); });
  return self;
}

using UnaryFn = Tensor (*)(const Tensor&);

template <UnaryFn F>
py::object unary_fn(py::handle x, py::handle out, const char* name) {
  Tensor t = as_tensor(x);
  return with_out(out, name, {&t}, [&] { return without_gil_if(is_large(t.numel()), [&] { return F(t); }); });
}

template <UnaryFn F>
Tensor unary_method(const Tensor& t) {
  return without_gil_if(is_large(t.numel()), [&] { return F(t); });
}

Tensor astype_copy(const Tensor& t, py::handle dtype, bool copy) {
  const DType d = parse_dtype(dtype);
  if (d != t.dtype()) return astype(t, d);
  if (!copy) return t;
  return t.requires_grad() ? add(t, Tensor::zeros({}, d)) : tl::copy(t);
}

// tl.where(cond, x, y) and tl.clip(a, lo, hi): Python scalars among x / y / lo / hi are weak
// next to the tensor operand.
Tensor where_fn(py::handle cond, py::handle x, py::handle y) {
  Tensor c = as_tensor(cond);
  auto [tx, ty] = operands(x, y);
  return without_gil_if(is_large(std::max({c.numel(), tx.numel(), ty.numel()})), [&] { return where(c, tx, ty); });
}

Tensor clip_impl(const Tensor& t, py::handle lo, py::handle hi) {
  Tensor tlo = lo.is_none() ? Tensor() : other_operand(lo, t, BinaryOp::Add);
  Tensor thi = hi.is_none() ? Tensor() : other_operand(hi, t, BinaryOp::Add);
  return without_gil_if(is_large(t.numel()), [&] { return clip(t, tlo, thi); });
}

py::handle pick(py::handle positional, py::handle keyword, const char* name) {
  if (!keyword.is_none()) {
    TL_CHECK_TYPE(positional.is_none(), "clip", "passed both a_", name, " and ", name);
    return keyword;
  }
  return positional;
}

}  // namespace

void bind_elementwise(py::module_& m) {
  auto cls = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));

  // Module functions, one per line of the op tables (ops/binary.def, ops/unary.def).
#define TL_BINARY(name, K, ...)                                                                       \
  m.def(#name, &binary_fn<BinaryOp::K>, py::arg("x1"), py::arg("x2"), py::kw_only(), \
        py::arg("out") = py::none());
#include "ops/binary.def"
#undef TL_BINARY
#define TL_UNARY(name, ...)                                                                           \
  m.def(#name, [](py::handle x, py::handle out) { return unary_fn<&tl::name>(x, out, #name); }, py::arg("x"), \
        py::kw_only(), py::arg("out") = py::none());
#include "ops/unary.def"
#undef TL_UNARY
  // NumPy's other names for the same ufuncs.
  for (auto [alias, name] : {std::pair{"true_divide", "divide"}, {"mod", "remainder"}, {"pow", "power"},
                             {"absolute", "abs"}, {"bitwise_not", "invert"}})
    m.attr(alias) = m.attr(name);

  m.def("where", &where_fn, py::arg("condition"), py::arg("x"), py::arg("y"));
  m.def(
      "clip",
      [](py::handle a, py::handle a_min, py::handle a_max, py::handle min, py::handle max) {
        return clip_impl(as_tensor(a), pick(a_min, min, "min"), pick(a_max, max, "max"));
      },
      py::arg("a"), py::arg("a_min") = py::none(), py::arg("a_max") = py::none(), py::kw_only(),
      py::arg("min") = py::none(), py::arg("max") = py::none());
  m.def("astype", [](py::handle x, py::handle dtype, bool copy) { return astype_copy(as_tensor(x), dtype, copy); },
        py::arg("x"), py::arg("dtype"), py::kw_only(), py::arg("copy") = true);

  // Operators.
#define TL_OPERATOR(name, rname, OP)                                                                \
  cls.def(name, &binary_dunder<BinaryOp::OP, false>, py::is_operator());                           \
  cls.def(rname, &binary_dunder<BinaryOp::OP, true>, py::is_operator());
  TL_OPERATOR("__add__", "__radd__", Add)
  TL_OPERATOR("__sub__", "__rsub__", Sub)
  TL_OPERATOR("__mul__", "__rmul__", Mul)
  TL_OPERATOR("__truediv__", "__rtruediv__", Div)
  TL_OPERATOR("__floordiv__", "__rfloordiv__", FloorDiv)
  TL_OPERATOR("__mod__", "__rmod__", Mod)
  cls.def("__rpow__", &binary_dunder<BinaryOp::Pow, true>, py::is_operator());
  // ndarray.__pow__'s fast path: a float array ** 0.5 is sqrt (so (-0.0) ** 0.5 is -0.0 and
  // (-inf) ** 0.5 is nan, as in NumPy); the other exponents give pow's results anyway.
  cls.def("__pow__", [](const Tensor& self, py::handle other) -> py::object {
    if (PyFloat_CheckExact(other.ptr()) && PyFloat_AS_DOUBLE(other.ptr()) == 0.5 && is_floating(self.dtype()))
      return py::cast(unary_method<sqrt>(self));
    return binary_dunder<BinaryOp::Pow, false>(self, other);
  }, py::is_operator());
  TL_OPERATOR("__and__", "__rand__", BitAnd)
  TL_OPERATOR("__or__", "__ror__", BitOr)
  TL_OPERATOR("__xor__", "__rxor__", BitXor)
#undef TL_OPERATOR
#define TL_COMPARE(name, OP) cls.def(name, &binary_dunder<BinaryOp::OP, false>, py::is_operator());
  TL_COMPARE("__eq__", Eq)
  TL_COMPARE("__ne__", Ne)
  TL_COMPARE("__lt__", Lt)
  TL_COMPARE("__le__", Le)
  TL_COMPARE("__gt__", Gt)
  TL_COMPARE("__ge__", Ge)
#undef TL_COMPARE
  cls.attr("__hash__") = py::module_::import("builtins").attr("object").attr("__hash__");
#define TL_INPLACE(name, OP) cls.def(name, &inplace_dunder<BinaryOp::OP>, py::is_operator());
  TL_INPLACE("__iadd__", Add)
  TL_INPLACE("__isub__", Sub)
  TL_INPLACE("__imul__", Mul)
  TL_INPLACE("__itruediv__", Div)
  TL_INPLACE("__ifloordiv__", FloorDiv)
  TL_INPLACE("__imod__", Mod)
  TL_INPLACE("__ipow__", Pow)
  TL_INPLACE("__iand__", BitAnd)
  TL_INPLACE("__ior__", BitOr)
  TL_INPLACE("__ixor__", BitXor)
#undef TL_INPLACE
  cls.def("__neg__", &unary_method<negative>);
  cls.def("__pos__", &unary_method<positive>);
  cls.def("__abs__", &unary_method<abs>);
  cls.def("__invert__", &unary_method<invert>);

  // Methods.
  cls.def("astype", [](py::object self, py::handle dtype, bool copy) -> py::object {
            const Tensor& t = self.cast<const Tensor&>();
            Tensor out = astype_copy(t, dtype, copy);
            return out.impl() == t.impl() ? self : py::cast(std::move(out));
          }, py::arg("dtype"), py::arg("copy") = true,
          "A copy cast to dtype (the tensor itself when copy=False and the dtype already matches).");
  cls.def("clip", [](const Tensor& t, py::handle a_min, py::handle a_max, py::handle min, py::handle max) {
            return clip_impl(t, pick(a_min, min, "min"), pick(a_max, max, "max"));
          }, py::arg("a_min") = py::none(), py::arg("a_max") = py::none(), py::kw_only(),
          py::arg("min") = py::none(), py::arg("max") = py::none());
  // Tensor methods: the table lines marked Method.
#define TL_UNARY_METHOD_Method(name) cls.def(#name, &unary_method<&tl::name>);
#define TL_UNARY_METHOD_Function(name)
#define TL_UNARY(name, K, dtypes, grad, method, ...) TL_UNARY_METHOD_##method(name)
#include "ops/unary.def"
#undef TL_UNARY
}

}  // namespace tl::bind
